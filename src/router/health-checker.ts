import { request } from 'node:http';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { CheckResult } from './health-judge.js';
import type { HealthCheckSpec, TargetSpec } from './traffic-router.js';

export const HEALTH_CHECK_USER_AGENT = 'phoenix-router-health-check';

/** What one active check saw; `nextHealth` judges it. */
export type ProbeOutcome =
  { kind: 'response'; status: number } | { kind: 'failure'; reason: string };

/**
 * One active check. Resolves (never rejects) with what the target answered, or why it did
 * not; an aborted signal means the timeout passed.
 */
export type HealthProbe = (
  target: TargetSpec,
  spec: HealthCheckSpec,
  signal: AbortSignal,
) => Promise<ProbeOutcome>;

export interface HealthCheckerOptions {
  clock: Clock;
  probe?: HealthProbe;
}

interface Watch {
  target: TargetSpec;
  spec: HealthCheckSpec;
  onResult: (result: CheckResult) => void;
  timer?: TimerHandle;
  controller?: AbortController;
  stopped: boolean;
}

/**
 * Schedules active checks on the injected clock: the first as soon as a target is watched
 * (a new release should not wait a whole interval to get traffic), then one `intervalMs`
 * after the previous one finished, so checks of a target never overlap. Results go to the
 * watcher's callback; the checker judges nothing itself.
 */
export class HealthChecker {
  private readonly clock: Clock;
  private readonly probe: HealthProbe;
  private readonly watches = new Map<string, Watch>();

  constructor(options: HealthCheckerOptions) {
    this.clock = options.clock;
    this.probe = options.probe ?? httpProbe;
  }

  /** Starts checking `target` under `key`, replacing any watch under the same key. */
  watch(
    key: string,
    target: TargetSpec,
    spec: HealthCheckSpec,
    onResult: (result: CheckResult) => void,
  ): void {
    this.unwatch(key);
    const watch: Watch = { target, spec, onResult, stopped: false };
    this.watches.set(key, watch);
    this.schedule(watch, 0);
  }

  /** Stops checking; a check in progress is aborted and its result dropped. */
  unwatch(key: string): void {
    const watch = this.watches.get(key);
    if (watch === undefined) return;
    this.watches.delete(key);
    watch.stopped = true;
    if (watch.timer !== undefined) this.clock.clearTimeout(watch.timer);
    watch.controller?.abort();
  }

  get watching(): number {
    return this.watches.size;
  }

  close(): void {
    for (const key of [...this.watches.keys()]) this.unwatch(key);
  }

  private schedule(watch: Watch, delayMs: number): void {
    watch.timer = this.clock.setTimeout(() => {
      watch.timer = undefined;
      void this.check(watch);
    }, delayMs);
  }

  private async check(watch: Watch): Promise<void> {
    const controller = new AbortController();
    watch.controller = controller;
    const timeout = this.clock.setTimeout(() => controller.abort(), watch.spec.timeoutMs);
    let outcome: ProbeOutcome;
    try {
      outcome = await this.probe(watch.target, watch.spec, controller.signal);
    } catch (error) {
      outcome = { kind: 'failure', reason: error instanceof Error ? error.message : String(error) };
    } finally {
      this.clock.clearTimeout(timeout);
      watch.controller = undefined;
    }
    if (watch.stopped) return;
    watch.onResult({ ...outcome, at: this.clock.now() });
    if (!watch.stopped) this.schedule(watch, watch.spec.intervalMs);
  }
}

/** GET `spec.path` on a connection of its own (closed after the check, as ALB does); the body is read to its end. */
export function httpProbe(
  target: TargetSpec,
  spec: HealthCheckSpec,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const fail = (error: unknown): void =>
      resolve({
        kind: 'failure',
        reason: signal.aborted ? `timed out after ${spec.timeoutMs}ms` : describeError(error),
      });
    const probe = request({
      host: target.host,
      port: target.port,
      path: spec.path,
      method: 'GET',
      agent: false,
      signal,
      headers: { 'user-agent': HEALTH_CHECK_USER_AGENT, connection: 'close' },
    });
    probe.on('error', fail);
    probe.on('response', (response) => {
      response.on('error', fail);
      response.on('end', () => resolve({ kind: 'response', status: response.statusCode ?? 0 }));
      response.resume();
    });
    probe.end();
  });
}

function describeError(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'EHOSTUNREACH') return 'host unreachable';
  return error instanceof Error ? error.message : String(error);
}
