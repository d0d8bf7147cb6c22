import type { ReleaseConfig } from '../config/phoenix-config.js';

/**
 * A release: what one successful build produced, ready to run anywhere. The build's primary
 * artifact (the buildspec's `artifacts` section, as a CodeDeploy revision) plus how an
 * instance starts and is health-checked (phoenix.yml `release`, as it was at the commit).
 * Built once and never changed: every environment deploys the same files.
 */
export interface Release {
  /** `rel_...`: sorts by creation time. */
  id: string;
  service: string;
  /** 1, 2, 3... per service; never reused. */
  number: number;
  /** The run whose build produced it. */
  runId: string;
  commit: string;
  artifact: ReleaseArtifact;
  config: ReleaseConfig;
  createdAt: string;
}

export interface ReleaseArtifact {
  /** The artifact's name (buildspec `artifacts.name`, or the service's). */
  name: string;
  /** The digest of its manifest in the artifact store: its identity. */
  digest: string;
}

export interface NewRelease {
  service: string;
  runId: string;
  commit: string;
  artifact: ReleaseArtifact;
  config: ReleaseConfig;
}

/** What the release stage needs from durable storage; the SQLite repository implements it. */
export interface ReleaseStore {
  create(input: NewRelease): Release;
  /** The release a run produced, if it did. */
  findByRun(runId: string): Release | undefined;
}
