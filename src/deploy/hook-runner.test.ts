import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlannedHook } from '../config/appspec-hooks.js';
import type { FunctionStep, ScriptStep } from '../config/appspec.js';
import { systemClock } from '../shared/clock.js';
import { runHook, type HookRun } from './hook-runner.js';

const LOCATION = { file: 'appspec.yml', line: 1, column: 1 };

let release: string;
let logFile: string;

beforeEach(() => {
  release = mkdtempSync(join(tmpdir(), 'phoenix-hooks-'));
  logFile = join(release, 'logs', 'dep_1.log');
});

afterEach(() => {
  rmSync(release, { recursive: true, force: true });
});

function script(path: string, body: string, options: { executable?: boolean } = {}): void {
  writeFileSync(join(release, path), `#!/bin/sh\n${body}\n`);
  chmodSync(join(release, path), options.executable === false ? 0o644 : 0o755);
}

function scriptStep(path: string, index = 0, timeoutMs = 10_000): ScriptStep {
  return {
    kind: 'script',
    event: 'AfterInstall',
    script: path,
    timeoutMs,
    key: `hooks.AfterInstall[${index}]`,
    location: LOCATION,
  };
}

function hook(...steps: (ScriptStep | FunctionStep)[]): PlannedHook {
  return { event: 'AfterInstall', point: 'after-install', release: 'new', steps };
}

function run(planned: PlannedHook, overrides: Partial<HookRun> = {}): ReturnType<typeof runHook> {
  return runHook({
    hook: planned,
    directory: release,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LIFECYCLE_EVENT: 'AfterInstall' },
    logFile,
    clock: systemClock(),
    ...overrides,
  });
}

/** Running: not gone and not a zombie (killed processes stay zombies where PID 1 never reaps). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('runHook', () => {
  it('runs the steps in order in the release folder with the environment, output to the log', async () => {
    script('first.sh', 'echo "first in $(pwd) for $LIFECYCLE_EVENT"; echo oops >&2');
    script('second.sh', 'echo second');

    const result = await run(hook(scriptStep('first.sh'), scriptStep('/second.sh', 1)));

    expect(result).toEqual({ ok: true });
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain(`first in ${release} for AfterInstall\noops\n`);
    expect(log.indexOf('first.sh succeeded')).toBeLessThan(log.indexOf('second\n'));
    expect(log).toMatch(/\] hooks\.AfterInstall\[1\]: \/second\.sh succeeded after \d+ms\n$/);
  });

  it('fails on the first step that exits non-zero; later steps do not run', async () => {
    script('fail.sh', 'exit 7');
    script('never.sh', 'touch ran');

    const result = await run(hook(scriptStep('fail.sh'), scriptStep('never.sh', 1)));

    expect(result).toEqual({
      ok: false,
      key: 'hooks.AfterInstall[0]',
      reason: 'AfterInstall: fail.sh exited with code 7',
      exitCode: 7,
    });
    expect(() => readFileSync(join(release, 'ran'))).toThrow();
  });

  it('kills the whole process group when a step times out', async () => {
    script('hang.sh', 'sleep 600 & echo $! > child.pid; wait');

    const result = await run(hook(scriptStep('hang.sh', 0, 300)));

    expect(result).toMatchObject({
      ok: false,
      timedOut: true,
      signal: 'SIGKILL',
      reason: 'AfterInstall: hang.sh timed out after 300ms',
    });
    const child = Number(readFileSync(join(release, 'child.pid'), 'utf8'));
    await expect.poll(() => isAlive(child)).toBe(false);
  });

  it('runs a script that lost its executable bit with sh, as archives often do', async () => {
    script('plain.sh', 'echo plain', { executable: false });

    expect(await run(hook(scriptStep('plain.sh')))).toEqual({ ok: true });
    expect(readFileSync(logFile, 'utf8')).toContain('sh plain.sh');
  });

  it.each([
    ['missing.sh', 'AfterInstall: missing.sh: no such script in the release'],
    ['../outside.sh', 'AfterInstall: ../outside.sh leaves the release'],
  ])('fails a step whose script %s cannot run', async (path, reason) => {
    expect(await run(hook(scriptStep(path)))).toEqual({
      ok: false,
      key: 'hooks.AfterInstall[0]',
      reason,
    });
  });

  it('runs an ECS hook’s function as the command phoenix.yml maps it to, and refuses an unmapped one', async () => {
    const step: FunctionStep = {
      kind: 'function',
      event: 'AfterInstall',
      functionName: 'smoke',
      timeoutMs: 10_000,
      key: 'Hooks[0].AfterInstall',
      location: LOCATION,
    };

    const mapped = await run(hook(step), {
      functionCommands: { smoke: { command: 'echo "smoke $LIFECYCLE_EVENT"' } },
    });
    const unmapped = await run(hook(step));

    expect(mapped).toEqual({ ok: true });
    expect(readFileSync(logFile, 'utf8')).toContain('smoke AfterInstall\n');
    expect(unmapped).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/cannot call the Lambda function "smoke"/),
    });
  });

  it('kills the running step and rejects when aborted', async () => {
    script('hang.sh', 'echo $$ > self.pid; exec sleep 600');
    const abort = new AbortController();

    const running = run(hook(scriptStep('hang.sh')), { signal: abort.signal });
    await expect
      .poll(() => readFileSync(join(release, 'self.pid'), 'utf8').trim().length > 0, {
        timeout: 5000,
      })
      .toBe(true);
    abort.abort(new Error('shutdown'));

    await expect(running).rejects.toThrow('shutdown');
    const pid = Number(readFileSync(join(release, 'self.pid'), 'utf8'));
    await expect.poll(() => isAlive(pid)).toBe(false);
  });
});

describe('runHook output', () => {
  it('masks the environment’s secrets in the log, even split across writes', async () => {
    script(
      'leak.sh',
      "printf 'token=s3cr'; sleep 0.05; printf 'et-value done\\n'; echo s3cret-value >&2",
    );

    const result = await run(hook(scriptStep('leak.sh')), { secrets: ['s3cret-value'] });

    const log = readFileSync(logFile, 'utf8');
    expect(result).toEqual({ ok: true });
    expect(log).toContain('token=*** done\n');
    expect(log).not.toContain('s3cret-value');
  });

  it('settles a step whose background process keeps its output open, and logs that output', async () => {
    script(
      'daemon.sh',
      '(echo started; while [ ! -f stop ]; do sleep 0.05; done; echo s3cret-value bye) &\necho $! > daemon.pid',
    );

    const result = await run(hook(scriptStep('daemon.sh')), { secrets: ['s3cret-value'] });
    writeFileSync(join(release, 'stop'), '');
    const daemon = Number(readFileSync(join(release, 'daemon.pid'), 'utf8'));
    await expect.poll(() => isAlive(daemon)).toBe(false);
    await expect.poll(() => readFileSync(logFile, 'utf8')).toContain('*** bye\n');

    expect(result).toEqual({ ok: true });
    expect(readFileSync(logFile, 'utf8')).toContain('started\n');
  });
});
