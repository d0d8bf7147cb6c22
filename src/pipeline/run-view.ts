import type { Run, Stage } from './run.js';

/**
 * A run as the HTTP API shows it, and as the CLI reads it: server paths (log files) never
 * leave the server, so URLs replace them.
 */
export interface RunView extends Omit<Run, 'stages'> {
  durationMs?: number;
  stages: StageView[];
  /** The run's API URL, e.g. `/api/runs/r_...`. */
  url: string;
}

export interface StageView extends Omit<Stage, 'runId' | 'logPath'> {
  /** Set once the stage has a log. */
  logUrl?: string;
}

/** A run in a list of other things (a service's last run, a webhook's result). */
export type RunSummary = Pick<
  Run,
  'id' | 'number' | 'status' | 'commit' | 'ref' | 'createdAt' | 'finishedAt'
>;
