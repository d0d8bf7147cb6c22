import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/router/testing/upstream.js';
import { stopRecordedInstances } from '../../src/runtime/local/local-runtime.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../support/git-fixture.js';
import { CLI } from '../support/server-process.js';
import { fencedBlocks, type FencedBlock } from '../support/readme.js';

/**
 * README.md's walkthrough, run as written: every shell block from "Your own service, step by
 * step" up to "What `phoenix build` does", in order, in one shell session whose working folder
 * carries over (as a person's terminal does), with the YAML block written to the service's
 * phoenix.yml where the README says to. HOME is a temporary folder (so `~/code/shop` is the
 * test's), `npm link` links into a temporary prefix, git pushes with the admin token as its
 * password. Long-running commands (`phoenix server`, `router`, `up`) run in the background
 * until they are ready, as they would in a terminal of their own, and `phoenix up` takes over
 * from the two before it, which are stopped first as with Ctrl-C. The one liberty taken: the
 * README's ports (8800, 8801, 18080, 18081) are swapped for free ones, so the test runs beside
 * a Phoenix that is running on this machine.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const FIRST = '## Your own service, step by step';
const AFTER = '## What `phoenix build` does';

/** The blocks of the walkthrough, in order. */
function walkthrough(): FencedBlock[] {
  const lines = README.split('\n');
  const from = lines.indexOf(FIRST) + 1;
  const to = lines.indexOf(AFTER) + 1;
  if (from === 0 || to === 0) throw new Error(`README.md lacks "${FIRST}" or "${AFTER}"`);
  return fencedBlocks(README).filter((block) => {
    const line = block.lines[0]?.line ?? 0;
    return line > from && line < to;
  });
}

/** What a command's output must show, beyond exiting 0: the README's comments made checkable. */
const EXPECTED_OUTPUT: [RegExp, RegExp][] = [
  [/^npm run phoenix -- build/, /SUCCEEDED/],
  [/^phoenix repo create shop/, /\/git\/shop/],
  [/^curl .*\/products/, /Phoenix mug/],
  [/^phoenix status shop/, /dev\s+serving release #2/],
];

/** Longer than any command of the walkthrough takes, even on a busy machine. */
const COMMAND_LIMIT_MS = 120_000;

interface Background {
  command: string;
  child: ChildProcess;
  output: string;
}

describe('README.md walkthrough', () => {
  let dir: ReturnType<typeof tempDir>;
  let home: string;
  let phoenixHome: string;
  let cwd: string;
  let env: Record<string, string>;
  let token = '';
  const ports = { api: 0, admin: 0, production: 0, test: 0 };
  const background: Background[] = [];

  beforeAll(async () => {
    // `npm link` links the compiled CLI: npm test builds it first.
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    dir = tempDir('phoenix-readme-');
    home = join(dir.path, 'home');
    phoenixHome = join(home, '.phoenix');
    const prefix = join(dir.path, 'npm-prefix');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, '.gitconfig'),
      '[user]\n\tname = README reader\n\temail = reader@phoenix.invalid\n[init]\n\tdefaultBranch = main\n',
    );
    // git asks for a user name and a password: the README says any name, the token as password.
    const askpass = join(dir.path, 'askpass.sh');
    writeFileSync(askpass, `#!/bin/sh\ncat "${join(dir.path, 'token')}"\n`);
    chmodSync(askpass, 0o755);
    ports.api = await freePort();
    ports.admin = await freePort();
    ports.production = await freePort();
    ports.test = await freePort();
    cwd = ROOT;
    env = {
      HOME: home,
      PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      PHOENIX_HOME: phoenixHome,
      PHOENIX_ROUTER_URL: `http://127.0.0.1:${ports.admin}`,
      npm_config_prefix: prefix,
      npm_config_update_notifier: 'false',
      GIT_ASKPASS: askpass,
      GIT_TERMINAL_PROMPT: '0',
      NO_COLOR: '1',
    };
  });

  afterAll(async () => {
    for (const job of background.reverse()) await stop(job);
    await stopRecordedInstances(join(phoenixHome, 'runtime'), { logger: silentLogger() });
    dir.remove();
  });

  /** The README's ports swapped for this test's. */
  function withPorts(text: string): string {
    return text
      .replaceAll('18080', String(ports.production))
      .replaceAll('18081', String(ports.test))
      .replaceAll('8800', String(ports.api))
      .replaceAll('8801', String(ports.admin));
  }

  async function stop(job: Background): Promise<void> {
    const { child } = job;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
  }

  /** Runs one line in the session's folder; resolves with its output once it exits. */
  async function run(line: string): Promise<{ code: number | null; output: string }> {
    const cwdFile = join(dir.path, 'cwd');
    const script = `cd '${cwd}' && {\n${line}\n} && pwd > '${cwdFile}'`;
    const child = spawn('bash', ['-c', script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A command that hangs fails with what it printed, not with the test's timeout.
    const limit = setTimeout(() => {
      output += `\n(still running after ${COMMAND_LIMIT_MS / 1000} s: stopped)`;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, COMMAND_LIMIT_MS);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(limit);
    if (code === 0) cwd = readFileSync(cwdFile, 'utf8').trim();
    return { code, output };
  }

  /** Starts a long-running command as a terminal of its own would, until it says it is ready. */
  async function start(line: string, ready: RegExp): Promise<Background> {
    const child = spawn('bash', ['-c', `cd '${cwd}' && exec ${line}`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const job: Background = { command: line, child, output: '' };
    background.push(job);
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        job.output += chunk.toString();
        if (ready.test(job.output)) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`${line} exited (${code}) before it was ready:\n${job.output}`)),
      );
    });
    return job;
  }

  /** The README's long-running commands, with the flags that move them to this test's ports. */
  function longRunning(command: string): { line: string; ready: RegExp } | undefined {
    switch (command.replace(/\s+#.*$/, '').trim()) {
      case 'phoenix server':
        // Without a router yet, the server says deployments wait for one: it is ready all the same.
        return {
          line: `phoenix server --port ${ports.api}`,
          ready: /Router \S+: ready|deployments are refused/,
        };
      case 'phoenix router':
        return {
          line: `phoenix router --admin-port ${ports.admin}`,
          ready: /No listeners yet|Restored \d+ listener/,
        };
      case 'phoenix up':
        return {
          line: `phoenix up --port ${ports.api} --router-port ${ports.admin}`,
          ready: /Router \S+: ready/,
        };
      default:
        return undefined;
    }
  }

  it('takes the sample shop from its folder to a release serving, rolled back and adopted', async () => {
    const blocks = walkthrough();
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const ran: string[] = [];
    for (const block of blocks) {
      if (block.language === 'yaml') {
        // "Give it an environment ... in ~/code/shop/phoenix.yml": the block is the whole file.
        const yaml = block.lines.map((l) => l.text).join('\n');
        writeFileSync(join(home, 'code', 'shop', 'phoenix.yml'), `${withPorts(yaml)}\n`);
        ran.push('(phoenix.yml written)');
        continue;
      }
      expect(['sh', 'bash']).toContain(block.language);
      for (const { line, text } of block.lines) {
        if (text.trim() === '' || text.trim().startsWith('#')) continue;
        const where = `README.md:${line}: ${text}`;
        const daemon = longRunning(text);
        if (daemon !== undefined) {
          // `phoenix up` replaces the server and the router started before it: Ctrl-C them.
          if (daemon.line.startsWith('phoenix up')) {
            for (const job of background) await stop(job);
          }
          const started = await start(daemon.line, daemon.ready);
          const created = /store it safely:\n\s+(\S+)/.exec(started.output)?.[1];
          if (created !== undefined) {
            token = created;
            writeFileSync(join(dir.path, 'token'), `${token}\n`);
          }
          ran.push(daemon.line);
          continue;
        }
        const command = withPorts(text).replaceAll('<token>', token);
        if (process.env['README_WALKTHROUGH_TRACE'] !== undefined) {
          process.stderr.write(`${new Date().toISOString()} ${command}\n`);
        }
        const { code, output } = await run(command);
        expect(code, `${where}\n${output}`).toBe(0);
        for (const [pattern, expected] of EXPECTED_OUTPUT) {
          if (pattern.test(text.trim())) expect(output, where).toMatch(expected);
        }
        ran.push(text);
      }
    }
    expect(token, 'phoenix server printed an admin token').not.toBe('');
    expect(ran).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^git push phoenix main/),
        expect.stringMatching(/^phoenix rollback shop --env dev -f/),
        expect.stringMatching(/^phoenix up/),
      ]),
    );
  }, 600_000);
});
