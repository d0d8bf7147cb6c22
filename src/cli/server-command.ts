import type { Command } from 'commander';
import pc from 'picocolors';
import { createPhoenix, startControlPlane } from '../main.js';
import type { HttpTrafficRouter } from '../router/http-traffic-router.js';
import { ValidationError } from '../shared/errors.js';

interface ServerOptions {
  port?: string;
  host?: string;
  buildConcurrency?: string;
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the control plane: HTTP API, hosted git repositories, pipelines')
    .option('--port <n>', 'port to listen on (default 8800)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--build-concurrency <n>', 'builds running at once (default 2)')
    .action(async (options: ServerOptions) => {
      process.exitCode = await runServer(options);
    });
}

async function runServer(options: ServerOptions): Promise<number> {
  const phoenix = createPhoenix();
  const plane = await startControlPlane({
    phoenix,
    port: integer('--port', options.port, 0, 65535),
    host: options.host,
    buildConcurrency: integer('--build-concurrency', options.buildConcurrency, 1, 64),
  });
  const out = process.stdout;
  out.write(`Phoenix ${pc.bold(plane.url)} (data in ${phoenix.home})\n`);
  if (plane.generatedAdminToken !== undefined) {
    out.write(
      `\n${pc.yellow('First start: an admin token was created. It is shown only now; store it safely:')}\n`,
    );
    out.write(`  ${pc.bold(plane.generatedAdminToken)}\n`);
    out.write(`  phoenix login --url ${plane.url} --token <token>\n\n`);
  }
  out.write(`${await routerLine(plane.deployments.router)}\n`);
  if (plane.recovered.resumed + plane.recovered.failed > 0) {
    out.write(
      `Recovered runs from the previous server: ${plane.recovered.resumed} resumed, ${plane.recovered.failed} failed\n`,
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out.write(
    'Stopping: running builds and deployments resume at the next start; instances and the router keep serving\n',
  );
  await plane.close();
  return 0;
}

/** Whether deployments can reach `phoenix router` now; the server runs either way. */
async function routerLine(router: HttpTrafficRouter): Promise<string> {
  try {
    await router.ready();
    return `Router ${router.url}: ready`;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return pc.yellow(`${reason}; until then deployments are refused`);
  }
}

function integer(
  flag: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError([
      {
        location: { file: flag, line: 1, column: 1 },
        key: flag.slice(2),
        message: `"${text}" is not a whole number from ${min} to ${max}`,
      },
    ]);
  }
  return value;
}
