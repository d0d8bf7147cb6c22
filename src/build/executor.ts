import type { BuildIdentity } from './build-env.js';
import type { BuildSummary } from './build-result.js';
import type { LogListener } from './build-log.js';

/**
 * Runs one build of a buildspec on a source. The local executor runs it on this machine;
 * Kubernetes Jobs and AWS CodeBuild can implement the same contract later.
 *
 * Contract: `run` resolves with a summary whatever the build's outcome (a failing test is a
 * FAILED build, not a rejection); it rejects only when the request itself is unusable before
 * a build exists (no such source). Aborting `signal` stops the build, kills every process it
 * started, and resolves with status STOPPED. Builds may run concurrently.
 */
export interface Executor {
  run(request: BuildRequest, signal?: AbortSignal): Promise<BuildSummary>;
}

export interface BuildRequest {
  /** A folder inside a git repository (its commit is built), or a plain folder (copied). */
  sourceDirectory: string;
  /** Branch, tag or commit to build; default HEAD. */
  revision?: string;
  /** Buildspec path relative to the source root (read from the checkout), or absolute. */
  buildspec?: string;
  project?: string;
  /** Start-build overrides: they win over the buildspec's env.variables. */
  overrides?: Record<string, string>;
  /** Whole-build timeout; default 60 minutes, as CodeBuild. */
  timeoutMs?: number;
  sandbox?: boolean;
  initiator?: string;
  /** The branch being built, when the revision is a commit id (pipeline builds). */
  branch?: string;
  webhook?: BuildIdentity['webhook'];
  batchIdentifier?: string;
  keepWorkspace?: boolean;
  onLog?: LogListener;
  /**
   * Called once the build has an id and a log file, before its source is checked out or any
   * command runs, so a caller can record them first (write-ahead) and find the build's
   * processes again after a crash.
   */
  onStart?: (build: StartedBuild) => void | Promise<void>;
}

export interface StartedBuild {
  buildId: string;
  buildNumber: number;
  logFile: string;
}

export const DEFAULT_BUILD_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_BUILDSPEC = 'buildspec.yml';
