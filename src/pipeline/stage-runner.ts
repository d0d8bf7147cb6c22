import type { LogLine } from '../build/build-log.js';
import type { PhoenixConfig } from '../config/phoenix-config.js';
import type { Run, Stage, StageKind } from './run.js';

/**
 * The reason a stage's signal aborts when a person cancels its run (`phoenix cancel`), as
 * opposed to the control plane stopping, after which the stage resumes.
 */
export class RunCancelled extends Error {
  constructor(readonly actor: string) {
    super(`cancelled by ${actor}`);
    this.name = 'RunCancelled';
  }
}

export interface StageContext {
  run: Run;
  stage: Stage;
  config: PhoenixConfig;
  /** Aborted when the run is cancelled (reason: RunCancelled) or the control plane stops. */
  signal: AbortSignal;
  /**
   * Set when the control plane stopped while an earlier attempt of this stage ran: what that
   * attempt had started (a deployment goes on by itself and can be followed again).
   */
  interrupted?: { externalId?: string };
  /** Record what the stage started (build id, log file) before it does anything. */
  started(info: { externalId: string; logPath?: string }): Promise<void>;
  log(line: LogLine): void;
}

export interface StageResult {
  status: 'succeeded' | 'failed' | 'cancelled';
  reason?: string;
  /** The failure is Phoenix's (killed, timed out, crashed), not the user's code. */
  platformFailure?: boolean;
  output?: Record<string, unknown>;
}

/** Runs one kind of stage. Resolves for every outcome; rejects only on Phoenix's own bugs. */
export interface StageRunner {
  run(context: StageContext): Promise<StageResult>;
}

export type StageRunners = Partial<Record<StageKind, StageRunner>>;
