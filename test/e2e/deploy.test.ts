import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { send } from '../../src/router/testing/router-harness.js';
import { freePort } from '../../src/router/testing/upstream.js';
import { stopInstances } from '../support/deploy-fixture.js';
import { git, gitRepo, tempDir } from '../support/git-fixture.js';
import { RouterProcess } from '../support/router-process.js';
import { CLI, readEvents, ServerProcess } from '../support/server-process.js';

const TOKEN = 'phx_test-admin-token-0123456789abcdef';

/**
 * The app: GET / answers the version it was built with; /health answers 200. A version
 * starting with "bad" fails every request but /health, as a release broken under real
 * traffic while its health check stays green.
 */
const SERVER_MJS = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./version.txt', import.meta.url), 'utf8').trim();
const server = createServer((request, response) => {
  const health = request.url === '/health';
  response.writeHead(health || !version.startsWith('bad') ? 200 : 500, { 'content-type': 'text/plain' });
  response.end(health ? 'ok' : version);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const BUILDSPEC = `version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist && cp server.mjs version.txt dist/
artifacts:
  base-directory: dist
  files:
    - '**/*'
`;

interface RunView {
  id: string;
  status: string;
  reason?: string;
  stages: { name: string; status: string; reason?: string; output?: Record<string, unknown> }[];
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Requests sent back to back through a listener until stopped, on a kept-alive connection
 * and on fresh ones: every answer that is not a 2xx, and every socket error, is counted.
 */
class Traffic {
  readonly bodies: string[] = [];
  readonly failures: string[] = [];
  private running = true;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly loops: Promise<void>[];

  constructor(url: string) {
    this.loops = [this.loop(url, this.agent), this.loop(url, undefined)];
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }

  private async loop(url: string, agent: Agent | undefined): Promise<void> {
    while (this.running) {
      try {
        const reply = await send(url, agent === undefined ? {} : { agent });
        if (reply.status >= 200 && reply.status < 300) this.bodies.push(reply.body);
        else this.failures.push(`status ${reply.status}: ${reply.body}`);
      } catch (error) {
        this.failures.push(error instanceof Error ? error.message : String(error));
      }
    }
  }
}

describe('phoenix router and phoenix server: a push becomes a release that serves', () => {
  let dir: ReturnType<typeof tempDir>;
  let home: string;
  let env: Record<string, string>;
  let routers: RouterProcess[];
  let servers: ServerProcess[];
  let ports: { admin: number; production: number; test: number };

  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });

  beforeEach(async () => {
    dir = tempDir('phoenix-deploy-e2e-');
    home = join(dir.path, 'home');
    ports = { admin: await freePort(), production: await freePort(), test: await freePort() };
    env = {
      PHOENIX_HOME: home,
      PHOENIX_ADMIN_TOKEN: TOKEN,
      PHOENIX_ROUTER_URL: `http://127.0.0.1:${ports.admin}`,
    };
    routers = [];
    servers = [];
  });

  afterEach(async () => {
    for (const server of servers) await server.stop('SIGTERM');
    // Instances outlive the server by design: stop what its runtime recorded.
    await stopInstances(join(home, 'runtime'));
    for (const router of routers) await router.stop('SIGTERM');
    dir.remove();
  });

  async function startRouter(): Promise<RouterProcess> {
    const router = new RouterProcess(env, ports.admin);
    routers.push(router);
    await router.url;
    return router;
  }

  async function startServer(args: readonly string[] = []): Promise<string> {
    const server = new ServerProcess(env, args);
    servers.push(server);
    return server.url;
  }

  async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
    const response = await fetch(`${base}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    if (!response.ok)
      throw new Error(
        `${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`,
      );
    return (await response.json()) as T;
  }

  function phoenix(base: string, args: readonly string[]): Promise<CliResult> {
    return spawnPhoenix(base, args).exited;
  }

  /** A `phoenix` command still running: its output so far, each line as it comes, its exit. */
  function spawnPhoenix(
    base: string,
    args: readonly string[],
  ): { line: (pattern: RegExp) => Promise<void>; exited: Promise<CliResult> } {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir.path,
        PHOENIX_HOME: join(dir.path, 'cli-home'),
        PHOENIX_URL: base,
        PHOENIX_TOKEN: TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (const waiter of [...waiters]) {
        if (!waiter.pattern.test(stdout)) continue;
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<CliResult>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    return {
      line: (pattern) =>
        pattern.test(stdout)
          ? Promise.resolve()
          : new Promise((resolve, reject) => {
              waiters.push({ pattern, resolve });
              void exited.then((r) =>
                reject(new Error(`exited before ${pattern}:\n${r.stdout}${r.stderr}`)),
              );
            }),
      exited,
    };
  }

  function phoenixYml(strategy: string, extra: readonly string[] = []): string {
    return [
      'service: web',
      'build: { retries: 0 }',
      'release:',
      '  start: node server.mjs',
      '  instances: 2',
      '  health-check: { interval: 500ms, timeout: 400ms, healthy-threshold: 1 }',
      'environments:',
      '  - name: dev',
      `    listeners: { production: ${ports.production}, test: ${ports.test} }`,
      `    strategy: ${strategy}`,
      ...extra.map((line) => `    ${line}`),
      '',
    ].join('\n');
  }

  /** Creates the hosted repository `web` and returns a way to push versions of the app. */
  async function repository(
    base: string,
  ): Promise<(version: string, strategy: string, extra?: readonly string[]) => void> {
    const { pushUrl } = await api<{ pushUrl: string }>(base, '/api/repos', {
      method: 'POST',
      body: JSON.stringify({ name: 'web' }),
    });
    const work = join(dir.path, 'work');
    const url = pushUrl.replace('http://', `http://phoenix:${TOKEN}@`);
    gitRepo(work, { 'server.mjs': SERVER_MJS, 'buildspec.yml': BUILDSPEC });
    return (version, strategy, extra = []) => {
      gitRepo(work, {
        'version.txt': `${version}\n`,
        'phoenix.yml': phoenixYml(strategy, extra),
      });
      git(work, 'push', '-q', url, 'main');
    };
  }

  /** The newest run of `web`, once its event stream has ended. */
  async function runToEnd(base: string, previous?: string): Promise<RunView> {
    const [run] = (await api<{ runs: RunView[] }>(base, '/api/runs?service=web&limit=1')).runs;
    if (run === undefined || run.id === previous) throw new Error('the push started no run');
    await readEvents(`${base}/api/runs/${run.id}/events`, TOKEN, (e) => e.event === 'end');
    return (await api<{ run: RunView }>(base, `/api/runs/${run.id}`)).run;
  }

  it('deploys every push with no failed request, blue/green and by hand, and shows it', async () => {
    const router = await startRouter();
    const base = await startServer();
    const push = await repository(base);
    const production = `http://127.0.0.1:${ports.production}`;

    push('v1', 'all-at-once');
    const first = await runToEnd(base);
    const v1 = await send(production);
    const traffic = new Traffic(production);
    push('v2', '{ type: blue-green, bake: 1s }');
    const second = await runToEnd(base, first.id);
    const v2 = await send(production);
    const back = await phoenix(base, ['deploy', 'web', '--env', 'dev', '--release', 'web#1', '-f']);
    await traffic.stop();
    const status = await phoenix(base, ['status', 'web']);

    expect(router.output).toContain('No listeners yet');
    expect(first.status, first.reason).toBe('succeeded');
    expect(first.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
      'source:succeeded',
      'build:succeeded',
      'release:succeeded',
      'deploy:dev:succeeded',
    ]);
    expect(v1).toMatchObject({ status: 200, body: 'v1' });
    expect(second.status, second.reason).toBe('succeeded');
    expect(second.stages[3]?.output).toMatchObject({ status: 'succeeded' });
    expect(v2).toMatchObject({ status: 200, body: 'v2' });
    expect(back.code, back.stderr).toBe(0);
    // By hand, release #1 goes into dev as phoenix.yml on main has it now: blue/green.
    expect(back.stdout).toMatch(
      /^Deploying web release #1 \(rel_\w+\) to dev, blue-green \(bake 1s, test traffic first\): dep_/,
    );
    expect(back.stdout).toMatch(/Deployment dep_\w+ succeeded\n$/);
    expect(traffic.failures).toEqual([]);
    expect(traffic.bodies.length).toBeGreaterThan(100);
    expect(new Set(traffic.bodies)).toEqual(new Set(['v1', 'v2']));
    expect(traffic.bodies.indexOf('v2')).toBeGreaterThan(0);
    expect(traffic.bodies.at(-1)).toBe('v1');
    expect(status.code, status.stderr).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(
        `^web dev {2}serving release #1 \\(rel_\\w+\\) {2}production :${ports.production}, test :${ports.test}$`,
      ),
    );
    expect(lines[1]).toMatch(
      /^ {2}latest {2}dep_\w+ {2}release #1, blue-green \(bake 1s, test traffic first\): succeeded {2}\(manual by /,
    );
    expect(status.stdout).toMatch(/\d\d:\d\d:\d\d\.\d{3} {2}shifting: shift 100% of production/);
  });

  it('rolls a canary that fails real traffic back by itself, and by hand with the CLI', async () => {
    await startRouter();
    const base = await startServer();
    const push = await repository(base);
    const production = `http://127.0.0.1:${ports.production}`;
    push('v1', 'all-at-once');
    const first = await runToEnd(base);

    const traffic = new Traffic(production);
    push('bad-v2', '{ type: canary, percent: 50, interval: 10m, bake: 0s }', [
      'retry-canary-errors: true',
    ]);
    const bad = await runToEnd(base, first.id);
    await traffic.stop();
    push('v3', 'all-at-once');
    const third = await runToEnd(base, bad.id);
    const nothingInFlight = await phoenix(base, ['abort', 'web', '--env', 'dev']);
    const rollback = await phoenix(base, ['rollback', 'web', '--env', 'dev', '-f']);
    const after = await send(production);

    expect(first.status, first.reason).toBe('succeeded');
    expect(bad.status).toBe('failed');
    expect(bad.stages[3]).toMatchObject({ name: 'deploy:dev', status: 'failed' });
    expect(bad.stages[3]?.reason).toMatch(/^rolled back: alarm release-errors: error-rate/);
    // The router sent the canary's failed GETs to v1 again: no client saw an error.
    expect(traffic.failures).toEqual([]);
    expect(new Set(traffic.bodies)).toEqual(new Set(['v1']));
    expect(third.status, third.reason).toBe('succeeded');
    expect(nothingInFlight.code).toBe(1);
    expect(nothingInFlight.stderr).toMatch(
      /web dev has no deployment in flight \(the latest, dep_\w+, is succeeded\)/,
    );
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toMatch(
      /^Rolling back: Deploying web release #1 \(rel_\w+\) to dev, all-at-once: dep_/,
    );
    expect(after).toMatchObject({ status: 200, body: 'v1' });
  });

  it('phoenix deploy -f follows the deployment live, across a server restart', async () => {
    await startRouter();
    const port = await freePort();
    const base = await startServer(['--port', String(port)]);
    const push = await repository(base);
    push('v1', 'all-at-once');
    const first = await runToEnd(base);
    push('v2', '{ type: blue-green, bake: 3s }');
    const second = await runToEnd(base, first.id);

    const following = spawnPhoenix(base, [
      'deploy',
      'web',
      '--env',
      'dev',
      '--release',
      'web#1',
      '-f',
    ]);
    await following.line(/baking: bake for/);
    await servers[0]?.stop('SIGTERM');
    await startServer(['--port', String(port)]);
    const result = await following.exited;

    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('connection to the server lost; reconnecting...');
    const lines = result.stdout.split('\n');
    // Every timeline event once, in order, those before and after the restart alike.
    const events = lines.filter((line) => /^\d\d:\d\d:\d\d\.\d{3} {2}/.test(line));
    expect(new Set(events).size).toBe(events.length);
    expect(events.findIndex((l) => l.includes('baking:'))).toBeLessThan(
      events.findIndex((l) => l.includes('draining:')),
    );
    expect(result.stdout).toMatch(/Deployment dep_\w+ succeeded\n$/);
  });

  it('keeps serving through a router restart, and restores its listeners', async () => {
    const router = await startRouter();
    const base = await startServer();
    const push = await repository(base);
    push('v1', 'all-at-once');
    const run = await runToEnd(base);

    await router.stop('SIGTERM');
    const restarted = await startRouter();
    const answer = await send(`http://127.0.0.1:${ports.production}`);

    expect(run.status, run.reason).toBe('succeeded');
    expect(restarted.output).toMatch(
      new RegExp(
        `Restored 2 listeners, by name:\\n {2}web-dev {2}:${ports.production} {2}→ web-dev-1 100%\\n {2}web-dev-test {2}:${ports.test} {2}→ web-dev-1 100%\\n`,
      ),
    );
    expect(answer).toMatchObject({ status: 200, body: 'v1' });
  });

  it('runs without a router, and says to start one when something is to be deployed', async () => {
    const base = await startServer();
    const push = await repository(base);

    push('v1', 'all-at-once');
    const run = await runToEnd(base);
    const deploy = await phoenix(base, ['deploy', 'web', '--env', 'dev']);

    expect(run.status).toBe('failed');
    expect(run.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
      'source:succeeded',
      'build:succeeded',
      'release:succeeded',
      'deploy:dev:failed',
    ]);
    const reason = `router not reachable at http://127.0.0.1:${ports.admin}: start \`phoenix router\` (ECONNREFUSED)`;
    expect(run.reason).toBe(`deploy:dev failed: ${reason}`);
    expect(deploy).toMatchObject({ code: 1, stderr: `phoenix: Bad Gateway: ${reason}\n` });
  });
});
