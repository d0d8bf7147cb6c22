// A tiny instance for the runtime tests: an HTTP server on $PORT (or the variable named by
// APP_PORT_ENV) that reports its environment and can be told to crash or print.
// APP_EXIT_AT_START=1 exits with 1 at once; APP_IGNORE_SIGTERM=1 keeps running on SIGTERM.
import { createServer } from 'node:http';
import { writeSync } from 'node:fs';

const portEnv = process.env.APP_PORT_ENV ?? 'PORT';
const port = Number(process.env[portEnv]);

function log(line) {
  // Synchronous, so a line is in the log file before the response that mentions it.
  writeSync(1, `${line}\n`);
}

if (process.env.APP_EXIT_AT_START === '1') {
  log('exiting at start');
  process.exit(1);
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/env') {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => name.startsWith('PHOENIX_') || name === portEnv,
      ),
    );
    response.setHeader('content-type', 'application/json');
    response.end(
      JSON.stringify({
        pid: process.pid,
        cwd: process.cwd(),
        env,
        names: Object.keys(process.env),
      }),
    );
    return;
  }
  if (url.pathname === '/crash') {
    response.setHeader('connection', 'close');
    response.end('crashing\n', () => process.exit(1));
    return;
  }
  if (url.pathname === '/print') {
    const bytes = Number(url.searchParams.get('bytes') ?? '0');
    const text = url.searchParams.get('text');
    if (text !== null) log(text);
    const errorText = url.searchParams.get('stderr');
    if (errorText !== null) writeSync(2, `${errorText}\n`);
    if (bytes > 0) writeSync(1, 'x'.repeat(bytes - 1) + '\n');
    response.end('printed\n');
    return;
  }
  response.end('ok\n');
});

process.on('SIGTERM', () => {
  if (process.env.APP_IGNORE_SIGTERM === '1') {
    log('ignoring SIGTERM');
    return;
  }
  log('graceful');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

server.listen(port, '127.0.0.1', () => log(`listening on ${port}`));
