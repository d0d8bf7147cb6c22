import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../shared/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../shared/errors.js';
import { appReport, EventLog, httpGet, RuntimeHarness } from '../__fixtures__/runtime-harness.js';
import type { Instance } from '../runtime.js';
import { findInstanceProcesses } from './instance-reaper.js';
import { isPortFree } from './port-allocator.js';
import { isSameProcessAlive, readProcessStat, readRssBytes } from './proc.js';

describe('LocalRuntime', () => {
  let harness: RuntimeHarness;

  beforeEach(() => {
    harness = new RuntimeHarness();
  });

  afterEach(async () => {
    expect(await harness.cleanup()).toEqual([]);
  });

  function only(instances: Instance[]): Instance {
    const [instance] = instances;
    if (instance === undefined || instances.length !== 1) throw new Error('expected one instance');
    return instance;
  }

  function logOf(instance: Instance): string {
    return readFileSync(instance.logFile, 'utf8');
  }

  it('starts instances in the release folder, each on its own port with its identity', async () => {
    const runtime = harness.runtime();
    const events = new EventLog(runtime);

    const instances = await runtime.start(
      harness.request({ instances: 2, env: { GREETING: 'hello' } }),
    );

    expect(instances.map((instance) => [instance.index, instance.status])).toEqual([
      [0, 'running'],
      [1, 'running'],
    ]);
    expect(new Set(instances.map((instance) => instance.port)).size).toBe(2);
    for (const instance of instances) {
      const report = await appReport(instance.port);
      expect(report.pid).toBe(instance.pid);
      expect(report.cwd).toBe(realpathSync(harness.releaseDirectory));
      expect(report.env).toEqual({
        PORT: String(instance.port),
        PHOENIX_SERVICE: 'shop',
        PHOENIX_ENVIRONMENT: 'dev',
        PHOENIX_RELEASE: 'r1',
        PHOENIX_INSTANCE: String(instance.index),
        PHOENIX_INSTANCE_ID: instance.id,
        PHOENIX_TEST_RUN: harness.token,
      });
      expect(report.names).toEqual(expect.arrayContaining(['GREETING', 'HOME', 'PATH']));
      expect(report.names).not.toContain('SECRET_TOKEN');
      expect(dirname(instance.logFile)).toBe(`${harness.stateDirectory}/logs`);
    }
    expect(events.types()).toEqual(['started', 'started']);
    const state = JSON.parse(readFileSync(`${harness.stateDirectory}/instances.json`, 'utf8'));
    expect(state.instances).toEqual(
      instances.map((instance) =>
        expect.objectContaining({
          id: instance.id,
          pid: instance.pid,
          port: instance.port,
          status: 'running',
          command: '"$NODE_BIN" "$APP_SCRIPT"',
          processStartTime: expect.any(Number),
        }),
      ),
    );
  });

  it('start is idempotent per service, environment, release and index', async () => {
    const runtime = harness.runtime();
    const first = await runtime.start(harness.request({ instances: 2 }));

    const again = await runtime.start(harness.request({ instances: 2 }));
    const more = await runtime.start(harness.request({ instances: 3 }));
    const staging = await runtime.start(harness.request({ environment: 'staging' }));

    expect(again).toEqual(first);
    expect(more.slice(0, 2)).toEqual(first);
    expect(more[2]?.index).toBe(2);
    expect(first.map((instance) => instance.id)).not.toContain(only(staging).id);
    expect(new Set(runtime.list().map((instance) => instance.port)).size).toBe(4);
  });

  it('stops with SIGTERM, lets the instance finish gracefully and frees its port', async () => {
    const runtime = harness.runtime();
    const events = new EventLog(runtime);
    const instance = only(await runtime.start(harness.request()));
    await httpGet(instance.port, '/');

    await runtime.stop([instance.id]);

    expect(logOf(instance)).toContain('graceful');
    expect(await isPortFree(instance.port)).toBe(true);
    expect(await harness.markedProcesses()).toEqual([]);
    const stopped = only(runtime.list());
    expect(stopped).toMatchObject({ id: instance.id, status: 'stopped' });
    expect(stopped.pid).toBeUndefined();
    expect(events.types()).toEqual(['started', 'stopped']);
  });

  it('stop is a no-op when repeated and on unknown instances', async () => {
    const runtime = harness.runtime();
    const events = new EventLog(runtime);
    const instance = only(await runtime.start(harness.request()));

    await Promise.all([runtime.stop([instance.id]), runtime.stop([instance.id])]);
    await runtime.stop([instance.id, 'no-such-instance']);

    expect(events.types()).toEqual(['started', 'stopped']);
  });

  it('SIGKILLs an instance that ignores SIGTERM once the grace time is over', async () => {
    const runtime = harness.runtime();
    const instance = only(await runtime.start(harness.request({}, { APP_IGNORE_SIGTERM: '1' })));
    await httpGet(instance.port, '/');

    await runtime.stop([instance.id], { graceMs: 200 });

    expect(logOf(instance)).toContain('ignoring SIGTERM');
    expect(logOf(instance)).not.toContain('graceful');
    expect(await harness.markedProcesses()).toEqual([]);
    expect(await isPortFree(instance.port)).toBe(true);
  });

  it('waits for the app behind a shell leader, not just for the shell', async () => {
    const runtime = harness.runtime();
    const command = '"$NODE_BIN" "$APP_SCRIPT" & wait';
    const instance = only(await runtime.start(harness.request({ command })));
    const app = await appReport(instance.port);
    expect(app.pid).not.toBe(instance.pid);

    await runtime.stop([instance.id]);

    expect(logOf(instance)).toContain('graceful');
    expect(await harness.markedProcesses()).toEqual([]);
  });

  it('restarts a crashed instance on the same port after a backoff', async () => {
    const clock = new FakeClock();
    const runtime = harness.runtime({ clock });
    const events = new EventLog(runtime);
    const instance = only(await runtime.start(harness.request()));
    const before = await appReport(instance.port);
    const exited = events.next('exited', instance.id);
    const restarting = events.next('restarting', instance.id);
    const started = events.next('started', instance.id);

    await httpGet(instance.port, '/crash');
    const { delayMs, attempt } = await restarting;
    clock.advance(delayMs);
    const restarted = await started;

    expect((await exited).code).toBe(1);
    expect([delayMs, attempt]).toEqual([200, 1]);
    expect(events.types()).toEqual(['started', 'exited', 'restarting', 'started']);
    expect(restarted.instance).toMatchObject({ port: instance.port, restarts: 1 });
    const after = await appReport(instance.port);
    expect(after.pid).not.toBe(before.pid);
    expect(after.env['PHOENIX_INSTANCE_ID']).toBe(instance.id);
    expect(runtime.restartsWithin(instance.id, 1_000)).toBe(1);
    clock.advance(2_000);
    expect(runtime.restartsWithin(instance.id, 1_000)).toBe(0);
  });

  it('reaps what a crashed instance left behind before restarting it', async () => {
    const clock = new FakeClock();
    const runtime = harness.runtime({ clock });
    const events = new EventLog(runtime);
    const command = 'sleep 600 & "$NODE_BIN" "$APP_SCRIPT"; exit 1';
    const instance = only(await runtime.start(harness.request({ command })));
    await httpGet(instance.port, '/');
    const before = await findInstanceProcesses(instance.id);
    const restarting = events.next('restarting', instance.id);

    await httpGet(instance.port, '/crash');
    await restarting;

    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(await findInstanceProcesses(instance.id)).toEqual([]);
  });

  it('backs off longer after each crash, and stop cancels the pending restart', async () => {
    const clock = new FakeClock();
    const runtime = harness.runtime({ clock });
    const events = new EventLog(runtime);
    const delays: number[] = [];
    let restarting = events.next('restarting');
    const instance = only(await runtime.start(harness.request({}, { APP_EXIT_AT_START: '1' })));

    for (;;) {
      const { delayMs } = await restarting;
      delays.push(delayMs);
      if (delays.length === 4) break;
      restarting = events.next('restarting');
      clock.advance(delayMs);
    }
    await runtime.stop([instance.id]);
    clock.advance(60_000);
    await runtime.whenIdle();

    expect(delays).toEqual([200, 400, 800, 1_600]);
    expect(events.types().slice(-3)).toEqual(['exited', 'restarting', 'stopped']);
    expect(only(runtime.list())).toMatchObject({ status: 'stopped', restarts: 3 });
    expect(logOf(instance).match(/exiting at start/g)).toHaveLength(4);
  });

  it('marks an instance failed instead of restarting it when restart is off', async () => {
    const runtime = harness.runtime({ clock: new FakeClock() });
    const events = new EventLog(runtime);
    const exited = events.next('exited');
    const request = harness.request({ restart: false }, { APP_EXIT_AT_START: '1' });
    const failed = only(await runtime.start(request));

    const event = await exited;
    await runtime.whenIdle();
    const replacement = only(await runtime.start(harness.request()));

    expect(event).toMatchObject({ code: 1, instance: { id: failed.id, status: 'failed' } });
    expect(events.types(failed.id)).toEqual(['started', 'exited']);
    expect(replacement.id).not.toBe(failed.id);
    expect(replacement.status).toBe('running');
  });

  it('refuses a bad request before anything runs', async () => {
    const runtime = harness.runtime();

    const outcomes = await Promise.allSettled([
      runtime.start(harness.request({ directory: `${harness.releaseDirectory}-x` })),
      runtime.start(harness.request({ portEnv: 'PHOENIX_INSTANCE_ID' })),
      runtime.start(harness.request({ env: { 'NOT-A-NAME': '1' } })),
    ]);

    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason)).toEqual([
      expect.any(NotFoundError),
      expect.any(ValidationError),
      expect.any(ValidationError),
    ]);
    expect(runtime.list()).toEqual([]);
  });

  it('stops what it started when the start is aborted halfway', async () => {
    const runtime = harness.runtime();
    const events = new EventLog(runtime);
    const controller = new AbortController();
    void events.next('started').then(() => controller.abort());

    const start = runtime.start(harness.request({ instances: 3 }), controller.signal);

    await expect(start).rejects.toThrow();
    expect(events.types()).toEqual(['started', 'stopped']);
    expect(runtime.list().map((instance) => instance.status)).toEqual(['stopped']);
  });

  it('reports CPU time and memory summed over the process group', async () => {
    const runtime = harness.runtime();
    const command = '"$NODE_BIN" "$APP_SCRIPT" & wait';
    const instance = only(await runtime.start(harness.request({ command })));
    const app = await appReport(instance.port);

    const stats = await runtime.processStats(instance.id);
    const appOnly = await readRssBytes(app.pid);

    expect(stats?.cpuSeconds).toBeGreaterThan(0);
    expect(stats?.rssBytes).toBeGreaterThan(appOnly ?? Infinity);
    await runtime.stop([instance.id]);
    expect(await runtime.processStats(instance.id)).toBeUndefined();
  });

  it('appends both streams to a log file that rotates by copy-truncate', async () => {
    const clock = new FakeClock();
    const runtime = harness.runtime({
      clock,
      logRotation: { maxBytes: 1_000, keep: 2, checkIntervalMs: 5_000 },
    });
    const instance = only(await runtime.start(harness.request()));
    const log = instance.logFile;
    async function printAndCheck(query: string): Promise<void> {
      await httpGet(instance.port, `/print?${query}`);
      clock.advance(5_000);
      await runtime.whenIdle();
    }

    await printAndCheck('text=first&stderr=oops&bytes=2000');
    const afterFirst = { log: readFileSync(log, 'utf8'), one: readFileSync(`${log}.1`, 'utf8') };
    await printAndCheck('text=second');
    const small = readFileSync(log, 'utf8');
    await printAndCheck('text=third&bytes=2000');
    await printAndCheck('text=fourth&bytes=2000');

    expect(afterFirst.log).toBe('');
    expect(afterFirst.one).toMatch(/listening on \d+\nfirst\noops\nx+\n$/);
    // Written with O_APPEND: after the truncate the next line starts at offset 0, no hole.
    expect(small).toBe('second\n');
    expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/^fourth\n/);
    expect(readFileSync(`${log}.2`, 'utf8')).toMatch(/^second\nthird\n/);
    expect(() => readFileSync(`${log}.3`)).toThrow();
  });

  describe('adoption', () => {
    it('adopts instances a closed runtime left running, and can stop them', async () => {
      const first = harness.runtime();
      const instance = only(await first.start(harness.request()));
      const before = await appReport(instance.port);
      await first.close();
      await expect(first.start(harness.request())).rejects.toBeInstanceOf(ConflictError);
      const second = harness.runtime();
      const events = new EventLog(second);

      const adopted = await second.adopt();
      const again = await second.adopt();
      const after = await appReport(instance.port);
      await second.stop([instance.id]);

      expect(adopted).toEqual([{ ...instance, status: 'running' }]);
      expect(again).toEqual([]);
      expect(after.pid).toBe(before.pid);
      expect(logOf(instance)).toContain('graceful');
      expect(events.types()).toEqual(['stopped']);
      expect(await isPortFree(instance.port)).toBe(true);
    });

    it('keeps unadopted records in the state file when it starts before adopting', async () => {
      const first = harness.runtime();
      const old = only(await first.start(harness.request()));
      await first.close();
      const second = harness.runtime();

      const fresh = only(await second.start(harness.request({ releaseId: 'r2' })));
      const recorded = (await harness.stateFile().load()).map((entry) => entry.id);
      const adopted = await second.adopt();

      expect(recorded).toEqual([old.id, fresh.id]);
      expect(adopted.map((instance) => instance.id)).toEqual([old.id]);
      expect(fresh.port).not.toBe(old.port);
    });

    it('restarts an adopted instance that dies, on its port', async () => {
      const first = harness.runtime();
      const instance = only(await first.start(harness.request()));
      await first.close();
      const second = harness.runtime({ livenessIntervalMs: 20, backoff: { initialMs: 10 } });
      const events = new EventLog(second);
      await second.adopt();
      const exited = events.next('exited', instance.id);
      const started = events.next('started', instance.id);

      await httpGet(instance.port, '/crash');
      const restarted = await started;

      expect(await exited).toMatchObject({ code: null, signal: null });
      expect(events.types()).toEqual(['exited', 'restarting', 'started']);
      expect(restarted.instance).toMatchObject({ port: instance.port, restarts: 1 });
      expect((await appReport(instance.port)).env['PHOENIX_INSTANCE_ID']).toBe(instance.id);
    });

    it('reports a dead recorded instance stopped and reaps what it left behind', async () => {
      const gone = await exitedProcess();
      const id = 'dead-instance';
      const straggler = markedSleep(harness, id);
      await harness.writeState([harness.record({ id, pid: gone.pid, processStartTime: 1 })]);
      const runtime = harness.runtime();
      const events = new EventLog(runtime);

      const adopted = await runtime.adopt();

      expect(adopted).toEqual([]);
      expect(await straggler.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(events.types()).toEqual(['stopped']);
      expect(only(runtime.list())).toMatchObject({ id, status: 'stopped' });
    });

    it('does not adopt (or kill) a process that reused a recorded pid', async () => {
      const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => stranger.once('exit', resolve));
      try {
        const pid = stranger.pid ?? 0;
        const startTime = (await readProcessStat(pid))?.startTime ?? 0;
        const reused = harness.record({ id: 'reused', pid, processStartTime: startTime + 1 });
        await harness.writeState([reused]);
        const runtime = harness.runtime();
        const events = new EventLog(runtime);

        const adopted = await runtime.adopt();

        expect(adopted).toEqual([]);
        expect(events.types()).toEqual(['stopped']);
        expect(await isSameProcessAlive(pid, startTime)).toBe(true);
      } finally {
        stranger.kill('SIGKILL');
        await exited;
      }
    });

    it('finishes a stop that a previous control plane had begun', async () => {
      const first = harness.runtime();
      const instance = only(await first.start(harness.request()));
      await httpGet(instance.port, '/');
      await first.close();
      const state = await harness.stateFile().load();
      await harness.writeState(state.map((entry) => ({ ...entry, status: 'stopping' })));
      const second = harness.runtime();
      const events = new EventLog(second);
      const stopped = events.next('stopped', instance.id);

      const adopted = await second.adopt();
      await stopped;

      expect(adopted).toEqual([]);
      expect(logOf(instance)).toContain('graceful');
      expect(await harness.markedProcesses()).toEqual([]);
    });
  });
});

/** The pid of a process that has exited (and been reaped). */
async function exitedProcess(): Promise<{ pid: number }> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return { pid: child.pid ?? 0 };
}

/** A process carrying an instance's mark (and the test's), as a crashed instance leaves behind. */
function markedSleep(harness: RuntimeHarness, instanceId: string): { exited: Promise<unknown> } {
  const child = spawn('sleep', ['600'], {
    stdio: 'ignore',
    detached: true,
    env: { PHOENIX_INSTANCE_ID: instanceId, PHOENIX_TEST_RUN: harness.token },
  });
  return {
    exited: new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    ),
  };
}
