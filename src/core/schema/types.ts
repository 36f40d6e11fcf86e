/**
 * The vocabulary of a schema document (spec/SPEC.md §schema.document, §schema.subset): the
 * type names, the keywords a key schema may hold, and the document shape. Types and constant
 * tables only; parsing lives in document.ts.
 */
import type { JsonValue, ValueType } from '../value.js';

/** The type names a schema may use (`integer` is a number with no fractional part). */
export type SchemaType = ValueType;

export const SCHEMA_TYPES: readonly SchemaType[] = [
  'null',
  'boolean',
  'integer',
  'number',
  'string',
  'array',
  'object',
];

/** The schema for one key (or for a part of its value). Exactly these keywords are supported. */
export type KeySchema = {
  type?: SchemaType | readonly SchemaType[];
  enum?: readonly JsonValue[];
  const?: JsonValue;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  items?: KeySchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: { readonly [member: string]: KeySchema };
  required?: readonly string[];
  additionalProperties?: boolean | KeySchema;
  minProperties?: number;
  maxProperties?: number;
  title?: string;
  description?: string;
  default?: JsonValue;
  examples?: readonly JsonValue[];
  deprecated?: boolean;
  readOnly?: boolean;
  /** Reserved for secrets; accepted, and values of such keys are not echoed in error messages. */
  secret?: boolean;
};

export interface SchemaDocument {
  version?: 1;
  keys: Record<string, KeySchema>;
  /** Default true. When false, a write to a key matching no entry is refused. */
  additionalKeys?: boolean;
}

/** Every keyword a KeySchema may hold, in the order validation checks them. */
export const SUPPORTED_KEYWORDS: readonly string[] = [
  'type',
  'const',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'items',
  'required',
  'minProperties',
  'maxProperties',
  'properties',
  'additionalProperties',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'secret',
];
