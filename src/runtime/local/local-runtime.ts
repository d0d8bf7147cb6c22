import { join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../../shared/clock.js';
import { ConflictError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import type { Instance, InstanceEvent, InstanceFilter, Runtime, StartRequest } from '../runtime.js';
import {
  DEFAULT_RESTART_BACKOFF,
  nextAttempt,
  restartDelay,
  type RestartBackoff,
} from './backoff.js';
import { BackgroundWork } from './background-work.js';
import { instanceEnvironment } from './instance-env.js';
import {
  instanceKey,
  isActive,
  matches,
  newInstanceRecord,
  toInstance,
  transition,
  type InstanceRecord,
} from './instance-record.js';
import { reapInstance } from './instance-reaper.js';
import { DEFAULT_LOG_ROTATION, rotateLogIfLarge, type LogRotation } from './log-rotation.js';
import { DEFAULT_PORT_RANGE, RangePortAllocator, type PortAllocator } from './port-allocator.js';
import { isSameProcessAlive, processGroupStats } from './proc.js';
import { spawnInstance, type ExitStatus } from './spawn-instance.js';
import { checkStartRequest } from './start-request.js';
import { StateFile } from './state-file.js';
import { stopInstanceProcesses } from './stop-instance.js';

/** Time between SIGTERM and SIGKILL when `stop` names none. */
export const DEFAULT_GRACE_MS = 10_000;
/** How often adopted instances (not our children: no exit event) are checked for life. */
export const DEFAULT_LIVENESS_INTERVAL_MS = 1_000;
/** Restart timestamps kept per instance; the crash-loop breaker looks at recent ones only. */
const RESTART_HISTORY = 100;
/** Stopped and failed records kept for `list`; older ones are forgotten. */
const FINISHED_RETENTION = 100;

export interface LocalRuntimeOptions {
  /** Instance records and logs live here, e.g. `<PHOENIX_HOME>/runtime`. */
  stateDirectory: string;
  clock: Clock;
  logger: Logger;
  /** A port range (default 20000-29999) or an allocator of one's own. */
  ports?: PortAllocator | { first: number; last: number };
  backoff?: Partial<RestartBackoff>;
  logRotation?: Partial<LogRotation>;
  /** Default time between SIGTERM and SIGKILL on stop. */
  graceMs?: number;
  livenessIntervalMs?: number;
  /** Where allowlisted host variables (PATH, HOME, locale) come from; default process.env. */
  hostEnv?: NodeJS.ProcessEnv;
}

export interface InstanceProcessStats {
  cpuSeconds: number;
  rssBytes: number;
}

/** What the runtime knows of an instance beyond its record, for this process's lifetime only. */
interface Supervision {
  /** Settles when our own child exits; undefined for adopted instances (polled instead). */
  exited?: Promise<ExitStatus>;
  /** Clock time the current process started (or was adopted), to judge a healthy run. */
  runningSince: number;
  /** Consecutive crashes, for the backoff. */
  attempt: number;
  restartTimer?: TimerHandle;
  stopRequested: boolean;
  stopping?: Promise<void>;
  /** Operations on one instance (launch, crash handling, restart, stop) run one at a time. */
  queue: Promise<void>;
}

/**
 * The embedded runtime: instances are child processes of the control plane, each in its own
 * process group, outliving it. See `Runtime` for the contract; beyond it:
 * - `restartsWithin` and `processStats` feed the monitor (crash-loop breaker, CPU, memory).
 * - Every record is written to the state file before the process it describes changes
 *   (write-ahead): a control plane that dies mid-start leaves a record whose mark finds the
 *   process, so `adopt` can clean it up.
 * - Calls after `close` are refused: another runtime may own the state file by then.
 */
export class LocalRuntime implements Runtime {
  private readonly records = new Map<string, InstanceRecord>();
  private readonly supervisions = new Map<string, Supervision>();
  private readonly listeners = new Set<(event: InstanceEvent) => void>();
  private readonly background: BackgroundWork;
  private readonly stateFile: StateFile;
  private readonly ports: PortAllocator;
  private readonly backoff: RestartBackoff;
  private readonly rotation: LogRotation;
  private readonly graceMs: number;
  private readonly livenessIntervalMs: number;
  private readonly hostEnv: NodeJS.ProcessEnv;
  private readonly timers: { liveness?: TimerHandle; rotation?: TimerHandle } = {};
  /** Records an earlier control plane left, not adopted yet: kept in the file until `adopt`. */
  private inherited: Promise<Map<string, InstanceRecord>> | undefined;
  private startQueue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.background = new BackgroundWork(options.logger);
    this.stateFile = new StateFile(join(options.stateDirectory, 'instances.json'));
    const ports = options.ports ?? DEFAULT_PORT_RANGE;
    this.ports = 'allocate' in ports ? ports : new RangePortAllocator(ports);
    this.backoff = { ...DEFAULT_RESTART_BACKOFF, ...options.backoff };
    this.rotation = { ...DEFAULT_LOG_ROTATION, ...options.logRotation };
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.livenessIntervalMs = options.livenessIntervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS;
    this.hostEnv = options.hostEnv ?? process.env;
    this.scheduleLiveness();
    this.scheduleRotation();
  }

  async start(request: StartRequest, signal?: AbortSignal): Promise<Instance[]> {
    this.assertOpen();
    await checkStartRequest(request);
    // Starts run one at a time so that idempotency per key and port choice never race.
    const result = this.startQueue.then(() => this.startNow(request, signal));
    this.startQueue = result.catch(() => undefined);
    return result;
  }

  async stop(instanceIds: readonly string[], options?: { graceMs?: number }): Promise<void> {
    this.assertOpen();
    const graceMs = options?.graceMs ?? this.graceMs;
    await Promise.all(instanceIds.map((id) => this.stopOne(id, graceMs)));
  }

  list(filter: InstanceFilter = {}): Instance[] {
    return [...this.records.values()].filter((record) => matches(record, filter)).map(toInstance);
  }

  /**
   * Re-attaches instances recorded by an earlier control plane. A recorded pid counts only
   * when the process still has the recorded start time (pids are reused). Dead ones are
   * reported `stopped` after their leftovers are reaped; ones recorded mid-stop are stopped.
   */
  async adopt(): Promise<Instance[]> {
    this.assertOpen();
    const adopted: Instance[] = [];
    const cleanups: Promise<void>[] = [];
    const inherited = await this.inheritedRecords();
    for (const record of [...inherited.values()]) {
      inherited.delete(record.id);
      if (this.records.has(record.id)) continue;
      this.records.set(record.id, record);
      if (!isActive(record.status) && record.status !== 'stopping') continue;
      const supervision = this.supervise(record.id);
      const alive = await this.isAlive(record);
      const wasStopping = record.status === 'stopping';
      // Adoption derives the status from what runs, not from a transition.
      record.status = alive ? 'running' : 'stopping';
      if (!alive) {
        cleanups.push(this.stopOne(record.id, 0));
      } else if (wasStopping) {
        // The stop was recorded before it happened (write-ahead): finish it.
        this.background.add(this.stopOne(record.id, this.graceMs));
      } else {
        supervision.runningSince = this.options.clock.now();
        adopted.push(toInstance(record));
      }
    }
    await Promise.all(cleanups);
    await this.persist();
    return adopted;
  }

  subscribe(listener: (event: InstanceEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of Object.values(this.timers)) this.options.clock.clearTimeout(timer);
    for (const supervision of this.supervisions.values()) {
      if (supervision.restartTimer !== undefined) {
        this.options.clock.clearTimeout(supervision.restartTimer);
      }
    }
    // A start under way finishes; its instances keep running like the others.
    await this.startQueue;
    await this.whenIdle();
    await this.persist();
  }

  /** Restarts of an instance in the last `windowMs` (by the runtime's clock). */
  restartsWithin(instanceId: string, windowMs: number): number {
    const since = this.options.clock.now() - windowMs;
    return this.records.get(instanceId)?.restartTimes.filter((at) => at >= since).length ?? 0;
  }

  /** CPU time and resident memory of an instance's process group; undefined when not running. */
  async processStats(instanceId: string): Promise<InstanceProcessStats | undefined> {
    const record = this.records.get(instanceId);
    if (record?.status !== 'running' || record.pid === undefined) return undefined;
    if (!(await this.isAlive(record))) return undefined;
    const { cpuSeconds, rssBytes } = await processGroupStats(record.pid);
    return { cpuSeconds, rssBytes };
  }

  /** Rotates the logs of live instances that outgrew the limit (also runs on a timer). */
  async rotateLogs(): Promise<void> {
    for (const record of this.records.values()) {
      if (!isActive(record.status)) continue;
      try {
        await rotateLogIfLarge(record.logFile, this.rotation);
      } catch (error) {
        this.options.logger.warn({ instanceId: record.id, error }, 'log rotation failed');
      }
    }
  }

  /** Resolves when background work (crash handling, liveness checks, rotation) has settled. */
  whenIdle(): Promise<void> {
    return this.background.settled();
  }

  private async startNow(request: StartRequest, signal?: AbortSignal): Promise<Instance[]> {
    const instances: Instance[] = [];
    const launched: string[] = [];
    try {
      for (let index = 0; index < request.instances; index++) {
        signal?.throwIfAborted();
        const running = this.findActive(request, index);
        if (running !== undefined) {
          instances.push(toInstance(running));
          continue;
        }
        const port = await this.allocatePort();
        const id = newId();
        const record = newInstanceRecord(request, {
          id,
          index,
          port,
          now: this.options.clock.now(),
          logFile: join(this.options.stateDirectory, 'logs', `${id}.log`),
        });
        launched.push(record.id);
        await this.launch(record);
        instances.push(toInstance(record));
      }
    } catch (error) {
      // All or nothing: what this call started is stopped again.
      await Promise.all(launched.map((id) => this.stopOne(id, this.graceMs)));
      throw error;
    }
    return instances;
  }

  private findActive(request: StartRequest, index: number): InstanceRecord | undefined {
    const key = instanceKey({ ...request, index });
    return [...this.records.values()].find(
      (record) => isActive(record.status) && instanceKey(record) === key,
    );
  }

  private allocatePort(): Promise<number> {
    const taken = new Set<number>();
    for (const record of this.records.values()) {
      if (isActive(record.status) || record.status === 'stopping') taken.add(record.port);
    }
    return this.ports.allocate(taken);
  }

  private async launch(record: InstanceRecord): Promise<void> {
    this.records.set(record.id, record);
    this.supervise(record.id);
    await this.persist();
    await this.exclusive(record.id, () => this.spawnProcess(record));
  }

  /** Runs the record's command on its port; on failure the record is `failed` and this throws. */
  private async spawnProcess(record: InstanceRecord): Promise<void> {
    const supervision = this.supervise(record.id);
    let spawned;
    try {
      spawned = await spawnInstance({
        command: record.command,
        cwd: record.directory,
        env: instanceEnvironment(this.hostEnv, record, record),
        logFile: record.logFile,
      });
    } catch (error) {
      transition(record, 'failed');
      await this.persist();
      throw error;
    }
    record.pid = spawned.pid;
    record.processStartTime = spawned.startTime;
    record.startedAt = new Date(this.options.clock.now()).toISOString();
    supervision.exited = spawned.exited;
    supervision.runningSince = this.options.clock.now();
    transition(record, 'running');
    await this.persist();
    this.emit({ type: 'started', instance: toInstance(record) });
    // Attached after `started` so that events keep their order even for an instant crash.
    const pid = spawned.pid;
    void spawned.exited.then((status) => {
      if (!this.closed)
        this.background.add(this.exclusive(record.id, () => this.onExit(record, pid, status)));
    });
  }

  /** An exit nobody asked for: report it, then restart with backoff (or mark it failed). */
  private async onExit(record: InstanceRecord, pid: number, status: ExitStatus): Promise<void> {
    const supervision = this.supervise(record.id);
    if (supervision.stopRequested || record.status !== 'running' || record.pid !== pid) return;
    // Leftovers (children of the crashed process) could hold the port or run twice.
    await reapInstance(record.id);
    if (!record.restart) {
      transition(record, 'failed');
      await this.recordExit(record, status);
      return;
    }
    transition(record, 'restarting');
    const ranForMs = this.options.clock.now() - supervision.runningSince;
    supervision.attempt = nextAttempt(this.backoff, supervision.attempt, ranForMs);
    const delayMs = restartDelay(this.backoff, supervision.attempt);
    await this.recordExit(record, status);
    this.emit({
      type: 'restarting',
      instance: toInstance(record),
      attempt: supervision.attempt,
      delayMs,
    });
    if (supervision.stopRequested || this.closed) return;
    supervision.restartTimer = this.options.clock.setTimeout(() => {
      supervision.restartTimer = undefined;
      this.background.add(this.exclusive(record.id, () => this.restartNow(record)));
    }, delayMs);
  }

  /** Forgets the dead process, then reports its exit (with its pid). */
  private async recordExit(record: InstanceRecord, status: ExitStatus): Promise<void> {
    const instance = toInstance(record);
    record.pid = undefined;
    record.processStartTime = undefined;
    await this.persist();
    this.emit({ type: 'exited', instance, code: status.code, signal: status.signal });
  }

  private async restartNow(record: InstanceRecord): Promise<void> {
    const supervision = this.supervise(record.id);
    if (supervision.stopRequested || this.closed || record.status !== 'restarting') return;
    record.restarts++;
    record.restartTimes = [...record.restartTimes, this.options.clock.now()].slice(
      -RESTART_HISTORY,
    );
    try {
      await this.spawnProcess(record);
    } catch (error) {
      this.options.logger.error({ instanceId: record.id, error }, 'instance restart failed');
    }
  }

  private stopOne(id: string, graceMs: number): Promise<void> {
    const record = this.records.get(id);
    if (record === undefined || record.status === 'stopped') return Promise.resolve();
    const supervision = this.supervise(id);
    supervision.stopRequested = true;
    if (supervision.restartTimer !== undefined) {
      this.options.clock.clearTimeout(supervision.restartTimer);
      supervision.restartTimer = undefined;
    }
    supervision.stopping ??= this.exclusive(id, () => this.stopNow(record, graceMs));
    return supervision.stopping;
  }

  private async stopNow(record: InstanceRecord, graceMs: number): Promise<void> {
    if (record.status === 'stopped') return;
    if (record.status !== 'stopping') transition(record, 'stopping');
    await this.persist();
    const alive = await this.isAlive(record);
    await stopInstanceProcesses({
      instanceId: record.id,
      leader:
        alive && record.pid !== undefined && record.processStartTime !== undefined
          ? { pid: record.pid, startTime: record.processStartTime }
          : undefined,
      exited: this.supervise(record.id).exited,
      graceMs,
      clock: this.options.clock,
    });
    record.pid = undefined;
    record.processStartTime = undefined;
    transition(record, 'stopped');
    await this.persist();
    this.emit({ type: 'stopped', instance: toInstance(record) });
  }

  private async isAlive(record: InstanceRecord): Promise<boolean> {
    if (record.pid === undefined || record.processStartTime === undefined) return false;
    return isSameProcessAlive(record.pid, record.processStartTime);
  }

  /** Adopted instances are not our children: a poll notices when one dies. */
  private async checkLiveness(): Promise<void> {
    for (const record of this.records.values()) {
      const supervision = this.supervisions.get(record.id);
      const pid = record.pid;
      if (supervision === undefined || supervision.exited !== undefined) continue;
      if (record.status !== 'running' || pid === undefined) continue;
      if (await this.isAlive(record)) continue;
      const status = { code: null, signal: null };
      this.background.add(this.exclusive(record.id, () => this.onExit(record, pid, status)));
    }
  }

  private scheduleLiveness(): void {
    this.timers.liveness = this.options.clock.setTimeout(() => {
      const check = this.checkLiveness().finally(() => {
        if (!this.closed) this.scheduleLiveness();
      });
      this.background.add(check);
    }, this.livenessIntervalMs);
  }

  private scheduleRotation(): void {
    this.timers.rotation = this.options.clock.setTimeout(() => {
      const rotation = this.rotateLogs().finally(() => {
        if (!this.closed) this.scheduleRotation();
      });
      this.background.add(rotation);
    }, this.rotation.checkIntervalMs);
  }

  private supervise(id: string): Supervision {
    let supervision = this.supervisions.get(id);
    if (supervision === undefined) {
      supervision = {
        runningSince: this.options.clock.now(),
        attempt: 0,
        stopRequested: false,
        queue: Promise.resolve(),
      };
      this.supervisions.set(id, supervision);
    }
    return supervision;
  }

  private exclusive<T>(id: string, operation: () => Promise<T>): Promise<T> {
    const supervision = this.supervise(id);
    const result = supervision.queue.then(operation);
    supervision.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async persist(): Promise<void> {
    this.forgetOldRecords();
    const inherited = [...(await this.inheritedRecords()).values()].filter(
      (record) => !this.records.has(record.id),
    );
    await this.stateFile.save([...inherited, ...this.records.values()]);
  }

  private inheritedRecords(): Promise<Map<string, InstanceRecord>> {
    this.inherited ??= this.stateFile
      .load()
      .then((records) => new Map(records.map((record) => [record.id, record])));
    return this.inherited;
  }

  private forgetOldRecords(): void {
    const finished = [...this.records.values()].filter(
      (record) => record.status === 'stopped' || record.status === 'failed',
    );
    for (const record of finished.slice(0, Math.max(0, finished.length - FINISHED_RETENTION))) {
      this.records.delete(record.id);
      this.supervisions.delete(record.id);
    }
  }

  private emit(event: InstanceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.logger.error({ error, event: event.type }, 'runtime event listener threw');
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ConflictError('the local runtime is closed');
  }
}

/**
 * Stops every instance recorded under `stateDirectory` (SIGTERM, then SIGKILL after
 * `graceMs`): for a demo that cleans up after itself, and for tests. Instances outlive the
 * control plane by design, so nothing else stops them. The runtime's timers do not hold the
 * process open (the system clock unrefs them); this does, until every instance has stopped.
 */
export async function stopRecordedInstances(
  stateDirectory: string,
  options: { logger: Logger; graceMs?: number },
): Promise<void> {
  const holdOpen = setInterval(() => undefined, 1_000);
  const runtime = new LocalRuntime({
    stateDirectory,
    clock: systemClock(),
    logger: options.logger,
  });
  try {
    await runtime.adopt();
    await runtime.stop(
      runtime.list().map((instance) => instance.id),
      options.graceMs === undefined ? {} : { graceMs: options.graceMs },
    );
  } finally {
    await runtime.close();
    clearInterval(holdOpen);
  }
}
