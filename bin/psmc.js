#!/usr/bin/env node
// Kept for callers that run bin/psmc.js; the command itself is bin/psmc.cjs (CommonJS starts faster).
import './psmc.cjs';
