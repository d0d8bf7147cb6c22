import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPhoenix, startControlPlane, type ControlPlane } from '../../src/main.js';
import { silentLogger } from '../../src/shared/logger.js';
import { git, gitRepo, tempDir } from '../support/git-fixture.js';

/** The build's output line, not the `Running command` line that contains the same words. */
const WAITING = /\.\d{3} waiting for the block file$/m;
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const ADMIN_TOKEN = 'phx_e2e_admin_token_0123456789';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The compiled `phoenix` CLI against a real control plane, as a user drives it: log in,
 * create a hosted repository, push to it with git over HTTP, follow the run it starts,
 * then trigger, cancel and retry runs by hand.
 */
describe('phoenix CLI as a client of phoenix server', () => {
  const dir = tempDir('phoenix-cli-client-');
  const cliHome = join(dir.path, 'cli-home');
  const work = join(dir.path, 'work');
  /** While this file exists, builds wait: a run to cancel or to interrupt. */
  const block = join(dir.path, 'block');
  /** While this file exists, builds fail. */
  const breaks = join(dir.path, 'break');
  let plane: ControlPlane;
  const children = new Set<ChildProcess>();

  /** A `phoenix` process, as a user starts it: its own PHOENIX_HOME, nothing else inherited. */
  function start(args: readonly string[], env: Record<string, string> = {}): Running {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir.path,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir.path,
        PHOENIX_HOME: cliHome,
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    return new Running(child, () => children.delete(child));
  }

  function phoenix(
    args: readonly string[],
    options: { input?: string; env?: Record<string, string> } = {},
  ): Promise<CliResult> {
    const running = start(args, options.env);
    running.child.stdin?.end(options.input ?? '');
    return running.done;
  }

  beforeAll(async () => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    const phoenixEnv = {
      PHOENIX_HOME: join(dir.path, 'server-home'),
      PHOENIX_ADMIN_TOKEN: ADMIN_TOKEN,
    };
    plane = await startControlPlane({
      phoenix: createPhoenix({ env: phoenixEnv, logger: silentLogger() }),
      port: 0,
    });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await plane?.close();
    dir.remove();
  });

  it('refuses to guess a token before login, naming the ways to give one', async () => {
    const result = await phoenix(['runs', '--url', plane.url]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no API token: pass --token TOKEN, set PHOENIX_TOKEN');
    expect(result.stderr).toContain('`phoenix login`');
  });

  it('logs in with a token from stdin and saves it for its owner only', async () => {
    const wrong = await phoenix(['login', '--url', plane.url, '--token', '-'], {
      input: 'phx_not_a_real_token_at_all\n',
    });
    const login = await phoenix(['login', '--url', plane.url, '--token', '-'], {
      input: `${ADMIN_TOKEN}\n`,
    });

    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('phoenix: Unauthorized:');
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${plane.url} as admin (admin)`);
    expect(statSync(join(cliHome, 'cli.json')).mode & 0o777).toBe(0o600);
  });

  it('creates a hosted repository, takes a git push with the token and follows the run', async () => {
    const repo = await phoenix(['repo', 'create', 'shop']);
    expect(repo.code, repo.stderr).toBe(0);
    const remoteAdd = /git remote add phoenix (\S+)/.exec(repo.stdout);
    expect(remoteAdd?.[1]).toBe(`${plane.url}/git/shop.git`);
    expect(repo.stdout).toContain('git push phoenix main');
    expect(repo.stdout).toContain('API token as the password');

    const commit = gitRepo(work, {
      'phoenix.yml': 'service: shop\nbuild:\n  buildspec: buildspec.yml\n  retries: 0\n',
      'buildspec.yml': buildspec(block, breaks),
    });
    git(work, 'remote', 'add', 'phoenix', remoteAdd?.[1] ?? '');
    const push = await gitPush(work, ADMIN_TOKEN);
    expect(push.code, push.stderr).toBe(0);

    const follow = await phoenix(['logs', 'shop#1', '-f']);
    const runs = await phoenix(['runs']);
    const runsJson = await phoenix(['runs', '--json', '--service', 'shop']);
    const show = await phoenix(['run', 'show', 'shop#1']);
    const log = await phoenix(['logs', 'shop#1']);

    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toContain(
      `==> shop #1 created for ${commit.slice(0, 12)} (main), push by admin`,
    );
    expect(follow.stdout).toMatch(/ built shop at [0-9a-f]{40}\n/);
    expect(follow.stdout).toContain('==> stage build succeeded');
    expect(follow.stdout).toContain('==> shop #1 succeeded');
    expect(follow.stdout.match(/ built shop at [0-9a-f]{40}/g)).toHaveLength(1);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(
      new RegExp(`^#1 +shop +succeeded +main +${commit.slice(0, 12)} +push by admin `, 'm'),
    );
    expect(JSON.parse(runsJson.stdout)).toMatchObject({
      runs: [{ number: 1, service: 'shop', status: 'succeeded', commit }],
    });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('shop #1  succeeded');
    expect(show.stdout).toMatch(/ {4}build +succeeded +\S+/);
    expect(log.stdout).toContain(`built shop at ${commit}`);
  });

  it('lists services and manages tokens by role', async () => {
    const services = await phoenix(['services', '--json']);
    const created = await phoenix(['token', 'create', '--name', 'ci', '--role', 'developer']);
    const developer = created.stdout.trim();
    const asDeveloper = await phoenix(['runs', '--token', developer]);
    const forbidden = await phoenix(['token', 'create', '--name', 'x', '--role', 'admin'], {
      env: { PHOENIX_TOKEN: developer },
    });
    const badRole = await phoenix(['token', 'create', '--name', 'x', '--role', 'root']);

    expect(JSON.parse(services.stdout)).toMatchObject({ services: [{ name: 'shop' }] });
    expect(created.code).toBe(0);
    expect(developer).toMatch(/^phx_\S+$/);
    expect(created.stderr).toContain('copy it now');
    expect(asDeveloper.code).toBe(0);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('phoenix: Forbidden: this needs the admin role');
    expect(badRole.code).toBe(2);
  });

  it('cancels a running run, then retries it to success', async () => {
    writeFileSync(block, '');
    const trigger = await phoenix(['trigger', 'shop']);
    expect(trigger.code, trigger.stderr).toBe(0);
    expect(trigger.stdout).toContain('started shop #2');

    const following = start(['logs', 'shop#2', '--follow']);
    await following.waitFor(WAITING);
    const cancel = await phoenix(['cancel', 'shop#2']);
    const followed = await following.done;
    rmSync(block);
    const retry = await phoenix(['retry', 'shop#2', '--follow']);

    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe('shop #2: cancelled\n');
    expect(followed.code).toBe(1);
    expect(followed.stdout).toContain('==> shop #2 cancel requested by admin');
    expect(followed.stdout).toContain('==> shop #2 cancelled');
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('==> shop #2 retried by admin');
    expect(retry.stdout).toContain('==> shop #2 succeeded');
  });

  it('exits 1 when a followed run fails', async () => {
    writeFileSync(breaks, '');

    const result = await phoenix(['trigger', 'shop', '--follow']);
    rmSync(breaks);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('==> stage build failed');
    expect(result.stdout).toContain('==> shop #3 failed');
  });

  it('stops following on Ctrl-C with exit 130 and leaves the run running', async () => {
    writeFileSync(block, '');
    await phoenix(['trigger', 'shop']);
    const following = start(['logs', 'shop#4', '-f']);
    await following.waitFor(WAITING);

    following.child.kill('SIGINT');
    const stopped = await following.done;
    const show = await phoenix(['run', 'show', 'shop#4', '--json']);
    const cancel = await phoenix(['cancel', 'shop#4']);
    rmSync(block);

    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('stopped following; shop #4 goes on');
    expect(JSON.parse(show.stdout)).toMatchObject({ run: { status: 'running' } });
    expect(cancel.code).toBe(0);
  });

  it('prints API errors with their title and detail, exit 1', async () => {
    const missing = await phoenix(['run', 'show', 'shop#99']);
    const noBranch = await phoenix(['trigger', 'shop', '--branch', 'nope']);
    const closed = await closedPort();
    const unreachable = await phoenix(['runs', '--url', `http://127.0.0.1:${closed}`]);

    expect(missing).toMatchObject({
      code: 1,
      stderr: 'phoenix: Not Found: run shop#99 not found\n',
    });
    expect(noBranch.code).toBe(1);
    expect(noBranch.stderr).toContain('phoenix: Not Found: service shop has no branch nope');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(
      `phoenix: cannot reach the Phoenix server at http://127.0.0.1:${closed} (ECONNREFUSED): is \`phoenix server\` running?\n`,
    );
  });

  /** git as a user runs it: it asks for the password, and the answer is the token. */
  function gitPush(cwd: string, token: string): Promise<CliResult> {
    const askpass = join(dir.path, 'askpass.sh');
    writeFileSync(askpass, `#!/bin/sh\necho '${token}'\n`);
    chmodSync(askpass, 0o700);
    return new Promise((resolve) => {
      const child = spawn('git', ['-c', 'credential.helper=', 'push', '-q', 'phoenix', 'main'], {
        cwd,
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: dir.path,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: askpass,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
});

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits while `block` exists, fails while `breaks` exists. */
function buildspec(block: string, breaks: string): string {
  return [
    'version: 0.2',
    'phases:',
    '  build:',
    '    commands:',
    '      - echo "built shop at $CODEBUILD_RESOLVED_SOURCE_VERSION"',
    `      - if [ -f '${block}' ]; then echo "waiting for the block file"; fi`,
    `      - while [ -f '${block}' ]; do sleep 0.1; done`,
    `      - test ! -f '${breaks}'`,
    '',
  ].join('\n');
}

/** A `phoenix` process still running: its output so far, and its end. */
class Running {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly child: ChildProcess,
    onExit: () => void,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.done = new Promise((resolve) =>
      child.on('close', (code) => {
        onExit();
        for (const wake of this.waiters.splice(0)) wake();
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  /** Resolves once stdout matches; rejects if the process ends first. */
  async waitFor(pattern: RegExp): Promise<void> {
    while (!pattern.test(this.stdout)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`phoenix ended before printing ${pattern}:\n${this.stdout}${this.stderr}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
