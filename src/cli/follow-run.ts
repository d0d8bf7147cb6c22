import { setTimeout as sleep } from 'node:timers/promises';
import pc from 'picocolors';
import type { LogLine } from '../build/build-log.js';
import {
  FINISHED_RUN_STATUSES,
  FINISHED_STAGE_STATUSES,
  isRunStatus,
  isStageStatus,
  type RunStatus,
  type StageStatus,
} from '../pipeline/run.js';
import type { RunView } from '../pipeline/run-view.js';
import { ApiError, ServerUnreachableError, type ApiClient } from './api-client.js';
import type { Colors } from './api-command.js';
import type { RunStreamEvent } from './api-types.js';
import { parseStoredLog, StageLogJoin } from './log-catch-up.js';
import { formatLogLine } from './output.js';
import { branchOf, colorStatus, runName } from './run-output.js';

/** A lost stream is reopened this many times in a row before following gives up. */
export const MAX_RECONNECTS = 30;
export const FIRST_RECONNECT_DELAY_MS = 500;
export const MAX_RECONNECT_DELAY_MS = 5000;

export interface FollowOptions {
  client: ApiClient;
  run: RunView;
  /** Receives each line to print, without its newline. */
  write: (line: string) => void;
  /** Aborting stops following; the run itself goes on. */
  signal: AbortSignal;
  colors?: Colors;
  /** Waits between reconnections; rejects when `signal` aborts. */
  wait?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

export interface FollowResult {
  /** How the run ended; undefined when following was stopped first. */
  status?: RunStatus;
  reason?: string;
  stopped: boolean;
}

/**
 * Prints a run as it happens until the server ends its event stream: stage and run status
 * changes, and each stage's log — the part written before following started fetched from
 * the stored log, the rest live. A connection lost midway (a server restart) is reopened
 * from the last event id.
 */
export function followRun(options: FollowOptions): Promise<FollowResult> {
  return new RunFollower(options).follow();
}

/** A stored event as the stream replays it: `data` is the stored record. */
interface StoredEvent {
  time?: string;
  data: Record<string, unknown>;
}

class RunFollower {
  private run: RunView;
  private readonly colors: Colors;
  private lastEventId: string | undefined;
  private readonly joins = new Map<number, StageLogJoin>();
  /** How many times each stage has started, by the events seen (never replayed twice). */
  private readonly starts = new Map<number, number>();
  // Per connection:
  private caughtUp = new Set<number>();
  private replaying = true;

  constructor(private readonly o: FollowOptions) {
    this.run = o.run;
    this.colors = o.colors ?? pc;
  }

  async follow(): Promise<FollowResult> {
    const { signal } = this.o;
    const wait = this.o.wait ?? ((ms, abort) => sleep(ms, undefined, { signal: abort }));
    let delay = FIRST_RECONNECT_DELAY_MS;
    for (let failures = 0; ; failures++) {
      let lost: ServerUnreachableError | undefined;
      this.connected();
      try {
        const events = this.o.client.events(this.run.id, { lastEventId: this.lastEventId, signal });
        for await (const event of events) {
          failures = 0;
          delay = FIRST_RECONNECT_DELAY_MS;
          const result = await this.handle(event);
          if (result !== undefined) return result;
        }
      } catch (error) {
        if (!(error instanceof ServerUnreachableError)) throw error;
        lost = error;
      }
      if (signal.aborted) return { stopped: true };
      if (failures >= MAX_RECONNECTS)
        throw lost ?? new ServerUnreachableError(this.o.client.url, 'the event stream kept ending');
      this.o.write(this.colors.dim('connection to the server lost; reconnecting...'));
      try {
        await wait(delay, signal);
      } catch {
        return { stopped: true };
      }
      delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
    }
  }

  private connected(): void {
    this.caughtUp = new Set();
    this.replaying = true;
  }

  private async handle(event: RunStreamEvent): Promise<FollowResult | undefined> {
    if (event.id !== undefined) this.lastEventId = event.id;
    const data = isRecord(event.data) ? event.data : {};
    if (event.event === 'run') {
      if (isRunView(event.data)) this.run = event.data;
      // Reconnected: a stage still running shows what it wrote while we were away.
      for (const stage of this.run.stages) await this.catchUpRunning(stage.index);
      return undefined;
    }
    if (event.id === undefined && this.replaying) {
      // The first live event: the replay of stored events is over.
      this.replaying = false;
      await this.catchUpAll();
    }
    if (event.event === 'end') return this.end(data);
    if (event.event === 'log') return this.log(data);
    if (event.event === 'log.dropped') {
      const lines = typeof data['lines'] === 'number' ? data['lines'] : 'some';
      this.o.write(
        this.colors.yellow(
          `(${lines} log lines not shown: the terminal fell behind; \`phoenix logs\` has them)`,
        ),
      );
      return undefined;
    }
    if (event.event === 'run.status') {
      const status = data['status'];
      // A finished run's status is shown once, from its stored `run.finished`.
      if (isRunStatus(status) && !FINISHED_RUN_STATUSES.includes(status)) {
        this.run = { ...this.run, status };
        this.print(
          undefined,
          `${this.colors.bold(runName(this.run))} ${this.status(status, data)}`,
        );
      }
      return undefined;
    }
    const stored = storedEvent(data);
    if (stored !== undefined) await this.stored(event.event, stored);
    return undefined;
  }

  private async stored(type: string, event: StoredEvent): Promise<void> {
    const data = event.data;
    const index = typeof data['index'] === 'number' ? data['index'] : undefined;
    const stage = index === undefined ? undefined : this.run.stages[index];
    const name = this.colors.bold(runName(this.run));
    switch (type) {
      case 'run.created':
        return this.print(
          event.time,
          `${name} created for ${this.run.commit.slice(0, 12)} (${branchOf(this.run.ref)}), ${this.run.trigger.type} by ${this.run.trigger.actor}`,
        );
      case 'stage.status': {
        const status = data['status'];
        if (index === undefined || stage === undefined || !isStageStatus(status)) return;
        const line = `stage ${this.colors.bold(stage.name)} ${this.status(status, data)}`;
        // The stored log goes after the line saying the stage started, before the one saying it ended.
        if (status === 'running') this.print(event.time, line);
        await this.stageStatus(index, status);
        if (status !== 'running') this.print(event.time, line);
        return;
      }
      case 'run.finished': {
        const status = data['status'];
        if (isRunStatus(status))
          return this.print(event.time, `${name} ${this.status(status, data)}`);
        return;
      }
      case 'run.cancel-requested':
        return this.print(
          event.time,
          `${name} ${this.colors.yellow(`cancel requested by ${String(data['actor'])}`)}`,
        );
      case 'run.retried':
        return this.print(event.time, `${name} retried by ${String(data['actor'])}`);
      case 'run.resumed':
        return this.print(event.time, `${name} resumed after a server restart`);
      default:
        return;
    }
  }

  /**
   * A stage starting (again) writes a new log. A stage finishing gets its stored log shown
   * first, when that log is the one of the attempt that just finished.
   */
  private async stageStatus(index: number, status: StageStatus): Promise<void> {
    if (status === 'running') {
      this.starts.set(index, (this.starts.get(index) ?? 0) + 1);
      this.joins.set(index, new StageLogJoin());
      this.caughtUp.delete(index);
      // The replay reached the attempt that is running now: its log so far, then live lines.
      await this.catchUpRunning(index);
      return;
    }
    if (FINISHED_STAGE_STATUSES.includes(status) && this.storedLogIsCurrent(index))
      await this.catchUp(index);
  }

  private async catchUpRunning(index: number): Promise<void> {
    if (this.run.stages[index]?.status === 'running' && this.storedLogIsCurrent(index))
      await this.catchUp(index);
  }

  /**
   * Whether the log the server stores for the stage (its latest attempt's, as of when this
   * connection opened) belongs to the attempt the events have reached: every start of a
   * stage is a `stage.status` running event, and the stream replays them all.
   */
  private storedLogIsCurrent(index: number): boolean {
    const stage = this.run.stages[index];
    return (
      stage !== undefined &&
      stage.logUrl !== undefined &&
      (this.starts.get(index) ?? 0) === stage.attempt
    );
  }

  private log(data: Record<string, unknown>): undefined {
    const line = logLineOf(data);
    const index = typeof data['index'] === 'number' ? data['index'] : 0;
    if (line !== undefined && this.join(index).live(line))
      this.o.write(formatLogLine(line, this.colors));
    return undefined;
  }

  private async end(data: Record<string, unknown>): Promise<FollowResult> {
    const reason = typeof data['reason'] === 'string' ? data['reason'] : undefined;
    if (isRunStatus(data['status'])) return { stopped: false, status: data['status'], reason };
    const { run } = await this.o.client.getRun(this.run.id);
    return { stopped: false, status: run.status, reason: run.reason };
  }

  private async catchUpAll(): Promise<void> {
    for (const stage of this.run.stages) {
      if (this.storedLogIsCurrent(stage.index)) await this.catchUp(stage.index);
    }
  }

  /** Shows the stage's stored log lines not shown yet (each stage once per connection). */
  private async catchUp(index: number): Promise<void> {
    if (this.caughtUp.has(index)) return;
    this.caughtUp.add(index);
    let text: string;
    try {
      text = await this.o.client.logs(this.run.id, { stage: index });
    } catch (error) {
      // A stage without a log (the source stage, a build not started yet) has nothing to show.
      if (error instanceof ApiError && error.status === 404) return;
      throw error;
    }
    for (const line of this.join(index).catchUp(parseStoredLog(text)))
      this.o.write(formatLogLine(line, this.colors));
  }

  private join(index: number): StageLogJoin {
    let join = this.joins.get(index);
    if (join === undefined) {
      join = new StageLogJoin();
      this.joins.set(index, join);
    }
    return join;
  }

  private status(status: RunStatus | StageStatus, data: Record<string, unknown>): string {
    const reason = typeof data['reason'] === 'string' ? `: ${data['reason']}` : '';
    return colorStatus(status, status + reason, this.colors);
  }

  /** A highlighted line, stamped like log lines: the event's time, or now for live ones. */
  private print(time: string | undefined, text: string): void {
    const at = time === undefined ? new Date() : new Date(time);
    const stamp = this.colors.dim(at.toISOString().slice(11, 23));
    this.o.write(`${stamp} ${this.colors.bold(this.colors.cyan('==>'))} ${text}`);
  }
}

/** `{index, time, stream, text}` as the server sends it, or `{index, line: {...}}`. */
function logLineOf(data: Record<string, unknown>): LogLine | undefined {
  const source = isRecord(data['line']) ? data['line'] : data;
  const { time, stream, text } = source;
  if (typeof time !== 'number' || typeof text !== 'string') return undefined;
  if (stream !== 'stdout' && stream !== 'stderr' && stream !== 'system') return undefined;
  return { time, stream, text };
}

function storedEvent(data: Record<string, unknown>): StoredEvent | undefined {
  const inner = data['data'];
  if (!isRecord(inner)) return undefined;
  return { time: typeof data['time'] === 'string' ? data['time'] : undefined, data: inner };
}

function isRunView(value: unknown): value is RunView {
  return (
    isRecord(value) &&
    typeof value['id'] === 'string' &&
    typeof value['number'] === 'number' &&
    isRunStatus(value['status']) &&
    Array.isArray(value['stages'])
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
