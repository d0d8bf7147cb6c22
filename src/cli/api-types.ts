import type { RunStatus, StageKind, StageStatus, Trigger } from '../pipeline/run.js';
import type { TokenRole } from '../store/token-repository.js';

/**
 * The API's JSON as the CLI reads it: the server's views (src/server/views.ts) restated
 * here, because nothing imports server/. Keep the two in step.
 */

export interface Identity {
  id?: string;
  name: string;
  role: TokenRole;
}

export interface TokenView {
  id: string;
  name: string;
  role: TokenRole;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface CreatedTokenView extends TokenView {
  /** The plaintext token: the server shows it this once. */
  token: string;
}

export interface RunSummary {
  id: string;
  number: number;
  status: RunStatus;
  commit: string;
  ref: string;
  createdAt: string;
  finishedAt?: string;
}

/** A service; the webhook secret and server paths never leave the server. */
export interface ServiceView {
  name: string;
  repository: { kind: 'hosted'; pushUrl: string } | { kind: 'external'; url: string };
  defaultBranch: string;
  pollIntervalMs?: number;
  webhook?: { url: string; secretConfigured: boolean };
  createdAt: string;
  lastRun?: RunSummary;
}

export interface NewServiceRequest {
  name: string;
  repository: { url: string };
  /** A duration such as `1m` or `30s` (the server's default: 1m, at least 10s). */
  pollInterval?: string;
  /** Verifies GitHub webhook deliveries; at least 16 characters. */
  webhookSecret?: string;
  defaultBranch?: string;
}

export interface DeletedService {
  deleted: string;
  cancelledRuns: number;
}

export interface HostedRepository {
  name: string;
  /** Where `git push` goes; the token is the password. */
  pushUrl: string;
  service?: ServiceView;
}

export interface StageView {
  index: number;
  name: string;
  kind: StageKind;
  status: StageStatus;
  /** How many times the stage has started (retries count). */
  attempt: number;
  startedAt?: string;
  finishedAt?: string;
  /** Why it failed, was cancelled or skipped. */
  reason?: string;
  /** Failed because of Phoenix (killed, timed out), not because of the user's code. */
  platformFailure?: boolean;
  /** Build id, deployment id... */
  externalId?: string;
  /** A build stage's essentials (artifacts, reports); a refused configuration's issues. */
  output?: Record<string, unknown>;
  logUrl?: string;
}

export interface RunView {
  id: string;
  service: string;
  /** 1, 2, 3... per service. */
  number: number;
  status: RunStatus;
  commit: string;
  /** `refs/heads/main`, `refs/tags/v1.2.0`. */
  ref: string;
  trigger: Trigger;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  reason?: string;
  stages: StageView[];
  url?: string;
}

export interface RunQuery {
  service?: string;
  /** One status, or several separated by commas. */
  status?: string;
  limit?: number;
  /** The `next` cursor of a previous page. */
  before?: string;
}

export interface RunPage {
  runs: RunView[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string;
}

/** `ignored`: the server started nothing, and says why. */
export type TriggerResult = { run: RunView } | { ignored: string };

export interface TriggerRequest {
  branch?: string;
  ref?: string;
  commit?: string;
}

/** One event of a run's live stream; `data` is the event's JSON, parsed. */
export interface RunStreamEvent {
  id?: string;
  event: string;
  data: unknown;
}
