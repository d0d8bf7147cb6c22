/** What a build reports when it ends: the `--json` summary and what the pipeline records. */

export type BuildStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED';

/** CodeBuild's phase statuses, plus SKIPPED for phases a failure jumped over. */
export type PhaseStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED' | 'SKIPPED';

export type PhaseType =
  | 'DOWNLOAD_SOURCE'
  | 'INSTALL'
  | 'PRE_BUILD'
  | 'BUILD'
  | 'POST_BUILD'
  | 'UPLOAD_ARTIFACTS'
  | 'FINALIZING';

export interface PhaseResult {
  phase: PhaseType;
  status: PhaseStatus;
  startedAt?: string;
  durationMs: number;
  /** How many times the phase's commands ran (more than 1 after on-failure RETRY). */
  attempts: number;
  /** Why it failed, CodeBuild style: `COMMAND_EXECUTION_ERROR: Error while executing command: ...`. */
  message?: string;
}

export interface StoredFile {
  path: string;
  digest: string;
  size: number;
  mode: number;
  linkTarget?: string;
}

export interface ArtifactResult {
  /** `primary` or the secondary artifact's identifier. */
  id: string;
  name: string;
  /** Digest of the artifact's manifest: the artifact's identity in the store. */
  digest: string;
  files: StoredFile[];
  totalBytes: number;
}

export type CacheOutcome = 'hit' | 'fallback-hit' | 'miss' | 'skipped';

export interface CacheResult {
  key?: string;
  restore: CacheOutcome;
  restoredKey?: string;
  saved: boolean;
  savedKey?: string;
  /** Why nothing was saved or restored, when that is not obvious. */
  note?: string;
}

export interface TestCaseFailure {
  suite: string;
  name: string;
  message?: string;
}

export interface ReportSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  errors: number;
  durationMs: number;
}

export interface ReportResult {
  name: string;
  format: string;
  files: string[];
  /** Parsed counts for test formats Phoenix reads; absent for formats only stored. */
  summary?: ReportSummary;
  failures: TestCaseFailure[];
  /** Files that could not be parsed, with the reason. */
  problems: string[];
}

export interface BuildSummary {
  buildId: string;
  buildNumber: number;
  project: string;
  status: BuildStatus;
  /** Why the build did not succeed, in one line. */
  reason?: string;
  sourceVersion?: string;
  resolvedSourceVersion?: string;
  startedAt: string;
  durationMs: number;
  phases: PhaseResult[];
  exportedVariables: Record<string, string>;
  artifacts: ArtifactResult[];
  cache?: CacheResult;
  reports: ReportResult[];
  warnings: string[];
  logFile: string;
}
