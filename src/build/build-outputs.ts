import type { Buildspec } from '../config/buildspec.js';
import { PhoenixError } from '../shared/errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { uploadArtifacts } from './artifacts.js';
import type { ArtifactResult, PhaseResult, ReportResult } from './build-result.js';
import { collectReports } from './reports/collect-reports.js';

export interface OutputContext {
  spec: Buildspec;
  root: string;
  store: ArtifactStore;
  buildId: string;
  project: string;
  reportsDirectory: string;
  expand: (text: string) => Promise<string>;
  log: (text: string) => void;
  now: () => number;
}

export interface UploadOutcome {
  artifacts: ArtifactResult[];
  phase?: PhaseResult;
  /** Why UPLOAD_ARTIFACTS failed (the user's patterns, not Phoenix). */
  failure?: string;
}

/** UPLOAD_ARTIFACTS: a user error (nothing matched, a path escapes) fails the build, not Phoenix. */
export async function uploadBuildArtifacts(context: OutputContext): Promise<UploadOutcome> {
  if (context.spec.artifacts.length === 0) return { artifacts: [] };
  const started = context.now();
  const phase = (status: PhaseResult['status'], message?: string): PhaseResult => ({
    phase: 'UPLOAD_ARTIFACTS',
    status,
    startedAt: new Date(started).toISOString(),
    durationMs: context.now() - started,
    attempts: 1,
    message,
  });
  try {
    const artifacts = await uploadArtifacts({
      specs: context.spec.artifacts,
      root: context.root,
      store: context.store,
      buildId: context.buildId,
      defaultName: context.project,
      expand: context.expand,
    });
    for (const artifact of artifacts) {
      context.log(
        `Artifact ${artifact.id} "${artifact.name}": ${artifact.files.length} files, ${artifact.totalBytes} bytes, ${artifact.digest}`,
      );
    }
    return { artifacts, phase: phase('SUCCEEDED') };
  } catch (error) {
    if (error instanceof PhoenixError && error.code === 'platform') throw error;
    const failure = `CLIENT_ERROR: ${error instanceof Error ? error.message : String(error)}`;
    context.log(failure);
    return { artifacts: [], phase: phase('FAILED', failure), failure };
  }
}

/** Reports are collected whenever commands ran: failing tests are what reports are for. */
export async function collectBuildReports(
  context: OutputContext,
  warn: (text: string) => void,
): Promise<ReportResult[]> {
  if (context.spec.reports.length === 0) return [];
  try {
    const reports = await collectReports({
      specs: context.spec.reports,
      root: context.root,
      destination: context.reportsDirectory,
    });
    for (const report of reports) {
      const s = report.summary;
      context.log(
        s === undefined
          ? `Report ${report.name} (${report.format}): ${report.files.length} files stored`
          : `Report ${report.name}: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped`,
      );
      for (const problem of report.problems) context.log(`Report ${report.name}: ${problem}`);
    }
    return reports;
  } catch (error) {
    warn(
      `reports could not be collected: ${error instanceof Error ? error.message : String(error)}`,
    );
    return [];
  }
}
