import type { RunView } from '../pipeline/run-view.js';
import type { ReleaseView } from '../release/release-view.js';
import type { ServiceView } from '../store/service-view.js';
import type { TokenRecord, TokenRole } from '../store/token-repository.js';

/**
 * The API's JSON as the CLI reads it, where it is not a domain type or view shared with
 * the server (RunView, ServiceView, TokenRecord): requests, envelopes and small answers.
 * Nothing here imports server/.
 */

export interface Identity {
  id?: string;
  name: string;
  role: TokenRole;
}

export interface CreatedTokenView extends TokenRecord {
  /** The plaintext token: the server shows it this once. */
  token: string;
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
  /** What served on this machine and was taken down with it. */
  takenDown: { environments: string[]; listeners: number; targetGroups: number; instances: number };
}

export interface HostedRepository {
  name: string;
  /** Where `git push` goes; the token is the password. */
  pushUrl: string;
  service?: ServiceView;
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

export interface ReleaseQuery {
  limit?: number;
  /** The `next` cursor of a previous page. */
  before?: string;
}

export interface ReleasePage {
  releases: ReleaseView[];
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
