/** psmc serve: the HTTP API, the change feed and the web GUI on one store, until Ctrl-C. */
import { readFileSync } from 'node:fs';
import { PsmcError } from '../../core/errors.js';
import { intOption, stringOption, usageError, type CommandSpec, type Context } from '../context.js';
import { openCliStore } from '../open.js';
import { guardTokensFromGit } from '../project-gitignore.js';
import { loadServer } from '../server-load.js';

export const spec: CommandSpec = {
  args: [],
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'allow-host': { type: 'string' },
    'token-file': { type: 'string' },
  },
};

export const usage = `Usage: psmc serve [--port <n>] [--host <addr>] [--allow-host <names>] [--token-file <file>]

Serves the store over HTTP until Ctrl-C (SIGINT) or SIGTERM: the JSON API
under /api/v1 (docs/http-api.md), a live change feed (Server-Sent Events) and
the web GUI at /. Listens on 127.0.0.1 only, unless --host says otherwise.

Prints a login URL with a token, like Jupyter: open it in a browser. That
token is made fresh for this run and is only kept in memory; browser sessions
made with it last 30 days, across restarts. Programs use a token of their
own: psmc token create [--read-only] --name <name>, sent as
Authorization: Bearer <token>.

Options:
  -p, --port <n>          The port (default 7770; 0 picks a free one; the actual port is printed)
  --host <addr>           Listen on this address instead of 127.0.0.1 (warns: anyone who can
                          reach it and holds a token can use the API)
  --allow-host <names>    Also answer to these host names (comma-separated), e.g. behind a
                          reverse proxy; every other Host header is refused
  --token-file <file>     Use the token in <file> (made by psmc token create) in the login URL
                          instead of a per-run one

With --json, prints one line when ready:
{"event":"ready","url","loginUrl","host","port","store","pid","version"}

Examples:
  psmc serve
  psmc serve --port 0 --json
  psmc --project ~/plant-7 serve --port 8080
  psmc serve --host 0.0.0.0 --allow-host plant-7.lan`;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export async function run(ctx: Context): Promise<number> {
  const port = intOption(ctx, 'port', 0, 'Give a port number, e.g. --port 8080, or --port 0 for any free port.');
  if (port !== undefined && port > 65535)
    throw usageError(`--port must be at most 65535, received ${port}.`, 'E.g. --port 8080.');
  const host = stringOption(ctx, 'host') ?? '127.0.0.1';
  if (host === '')
    throw usageError('--host needs an address.', 'E.g. --host 127.0.0.1 (the default) or --host 0.0.0.0.');
  const allowHosts = (stringOption(ctx, 'allow-host') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const h of allowHosts) {
    if (!/^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(h))
      throw usageError(
        `--allow-host: ${JSON.stringify(h)} is not a host name.`,
        'Give names such as plant-7.lan or plant-7.lan:8080, comma-separated.',
      );
  }
  const tokenFile = stringOption(ctx, 'token-file');
  let loginToken: string | undefined;
  if (tokenFile !== undefined) {
    try {
      loginToken = readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      throw new PsmcError('PSMC_IO', `Cannot read the token file ${tokenFile}: ${(e as Error).message}`, {
        hint: 'Save the token printed by psmc token create in a file only you can read (chmod 600).',
        cause: e,
      });
    }
  }
  if (!LOOPBACK.has(host)) {
    ctx.note(
      `psmc serve: WARNING: listening on ${host}, not on loopback only. Anyone who can reach this address and holds a token can read and change this store (with a read-write token). Traffic is plain HTTP: put a TLS proxy in front for other machines.`,
    );
  }
  const store = await openCliStore(ctx);
  // The server keeps its browser sessions in http-tokens.json in the store directory, which for a
  // project store sits in the user's repository: first make sure git leaves it out.
  guardTokensFromGit(store.info.writeLayer === 'project' ? store.info.project?.dir : undefined, 'psmc serve', ctx.note);
  const { startServer } = await loadServer();
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    server = await startServer({
      store,
      host,
      allowHosts,
      ...(port === undefined ? {} : { port }),
      ...(loginToken === undefined ? {} : { loginToken }),
      log: (line) => ctx.note(line),
    });
    if (ctx.global.json) {
      ctx.out(
        JSON.stringify({
          event: 'ready',
          url: server.url,
          loginUrl: server.loginUrl,
          host: server.host,
          port: server.port,
          store: server.dir,
          pid: process.pid,
          version: server.version,
        }),
      );
    } else {
      ctx.note(`psmc serve: serving the store at ${server.dir} on ${server.url}`);
      ctx.note('Open this URL in a browser (it logs you in; keep it private):');
      ctx.out(`    ${server.loginUrl}`);
      ctx.note(`API: ${server.url}api/v1 (docs/http-api.md). Tokens for programs: psmc token create --name <name>.`);
      ctx.note('Press Ctrl-C to stop.');
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    if (!ctx.global.json) ctx.note('psmc serve: stopping.');
    return 0;
  } finally {
    await server?.close();
    store.close();
  }
}
