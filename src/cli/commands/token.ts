/** psmc token: make, list and revoke the tokens of the HTTP service (psmc serve). */
import { randomBytes } from 'node:crypto';
import { PsmcError } from '../../core/errors.js';
import { arg, flag, stringOption, usageError, type CommandSpec, type Context } from '../context.js';
import { withStore } from '../open.js';
import { guardTokensFromGit } from '../project-gitignore.js';
import { loadServer } from '../server-load.js';

export const spec: CommandSpec = {
  args: ['<action>', '[name]'],
  options: { name: { type: 'string' }, 'read-only': { type: 'boolean' } },
};

export const usage = `Usage: psmc token create [--name <name>] [--read-only] | list | revoke <name|id>

Tokens let programs use the HTTP service (psmc serve): send one as
Authorization: Bearer <token>. Each is 256 random bits, shown once when it is
made; only its SHA-256 is stored, in http-tokens.json in the store directory
(mode 0600). Writes made with a token are recorded as http:<name>.

  create     Make a token and print it (once). --read-only: it may only read
             (GET); otherwise it may also write. --name defaults to token-<random>.
  list       Tokens and browser sessions: id, kind, name, scopes, created, last
             used (never the tokens themselves).
  revoke     Remove a token by name or id, and every browser session made with
             it; or one browser session by id. Running servers notice at once.

Examples:
  psmc token create --name deploy-bot
  psmc token create --name dashboard --read-only > ~/.dashboard-token
  psmc token list
  psmc token revoke deploy-bot`;

export async function run(ctx: Context): Promise<number> {
  const action = arg(ctx, 0);
  const { TokenFile } = await loadServer();
  const storeOf = async (): Promise<{ path: string; project: boolean }> =>
    withStore(ctx, (store) => {
      const info = store.info;
      const slot = info.writeLayer === 'project' ? info.project : info.user;
      if (slot === undefined) throw new TypeError('no write store');
      return { path: slot.dir, project: info.writeLayer === 'project' };
    });
  const dirOf = async (): Promise<string> => (await storeOf()).path;
  switch (action) {
    case 'create': {
      if (ctx.args[1] !== undefined)
        throw usageError(
          'psmc token create takes no argument; give the name with --name.',
          'psmc token create --name deploy-bot',
        );
      const name = stringOption(ctx, 'name') ?? `token-${randomBytes(3).toString('hex')}`;
      const readOnly = flag(ctx, 'read-only');
      const dir = await storeOf();
      if (dir.project) guardTokensFromGit(dir.path, 'psmc token', (line) => ctx.note(line));
      const file = new TokenFile(dir.path);
      const { secret, credential } = file.create({ name, scopes: readOnly ? ['read'] : ['read', 'write'] });
      if (ctx.global.json) {
        ctx.json({
          token: secret,
          id: credential.id,
          name: credential.name,
          scopes: credential.scopes,
          file: file.path,
        });
      } else {
        ctx.out(secret);
        ctx.note(
          `Token ${JSON.stringify(credential.name)} (id ${credential.id}, ${readOnly ? 'read-only' : 'read and write'}) stored hashed in ${file.path}. This is the only time it is shown.`,
        );
      }
      return 0;
    }
    case 'list': {
      if (ctx.args[1] !== undefined) throw usageError('psmc token list takes no argument.', 'psmc token list');
      const file = new TokenFile(await dirOf());
      const all = file.list().map((c) => ({
        id: c.id,
        kind: c.kind,
        name: c.name,
        scopes: c.scopes,
        created: c.created,
        lastUsed: c.lastUsed ?? null,
        ...(c.expires === undefined ? {} : { expires: c.expires }),
      }));
      if (ctx.global.json) {
        ctx.json({ file: file.path, credentials: all });
        return 0;
      }
      if (all.length === 0) {
        ctx.note(`No tokens in ${file.path}. Make one with psmc token create --name <name>.`);
        return 0;
      }
      for (const c of all) {
        ctx.out(
          `${c.id}  ${c.kind.padEnd(7)}  ${c.name.padEnd(20)}  ${c.scopes.includes('write') ? 'read-write' : 'read-only '}  created ${c.created}  last used ${c.lastUsed ?? 'never'}${c.kind === 'session' ? `  expires ${c.expires ?? ''}` : ''}`,
        );
      }
      return 0;
    }
    case 'revoke': {
      const target = ctx.args[1];
      if (target === undefined)
        throw usageError(
          'psmc token revoke needs a token name or id.',
          'See them with psmc token list; then psmc token revoke <name|id>.',
        );
      const file = new TokenFile(await dirOf());
      const removed = file.revoke(target);
      if (ctx.global.json) ctx.json({ revoked: removed.map((c) => ({ id: c.id, kind: c.kind, name: c.name })) });
      else {
        const sessions = removed.filter((c) => c.kind === 'session').length;
        const tokens = removed.filter((c) => c.kind === 'token');
        ctx.note(
          `Revoked ${tokens.length > 0 ? `token ${tokens.map((t) => JSON.stringify(t.name)).join(', ')}` : 'no token'}${sessions > 0 ? ` and ${sessions} browser session${sessions === 1 ? '' : 's'}` : ''}.`,
        );
      }
      return 0;
    }
    default:
      throw new PsmcError('PSMC_USAGE', `Unknown action ${JSON.stringify(action)} for psmc token.`, {
        hint: 'Use psmc token create, psmc token list or psmc token revoke <name|id>.',
      });
  }
}
