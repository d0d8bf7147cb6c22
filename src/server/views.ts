import type { Run, Stage } from '../pipeline/run.js';
import type { Release } from '../release/release.js';
import type { ReleaseView } from '../release/release-view.js';
import type { RunSummary, RunView, StageView } from '../pipeline/run-view.js';
import { redactRepositoryUrl } from '../source/repository-url.js';
import type { Service } from '../store/service-repository.js';
import type { ServiceView } from '../store/service-view.js';
import type { TokenRecord } from '../store/token-repository.js';

/**
 * What the API shows of stored records. Server paths (log files, hosted repositories) and
 * secrets (webhook secrets, credentials in URLs) never leave the server; URLs replace paths.
 * The view types live in the domain folders, where the CLI reads them too.
 */

export function runView(run: Run): RunView {
  const url = `/api/runs/${run.id}`;
  return {
    id: run.id,
    service: run.service,
    number: run.number,
    status: run.status,
    commit: run.commit,
    ref: run.ref,
    trigger: run.trigger,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: durationOf(run),
    reason: run.reason,
    stages: run.stages.map((stage) => stageView(stage, url)),
    url,
  };
}

function stageView(stage: Stage, runUrl: string): StageView {
  return {
    index: stage.index,
    name: stage.name,
    kind: stage.kind,
    status: stage.status,
    attempt: stage.attempt,
    startedAt: stage.startedAt,
    finishedAt: stage.finishedAt,
    reason: stage.reason,
    platformFailure: stage.platformFailure,
    externalId: stage.externalId,
    output: stage.output === undefined ? undefined : withoutServerPaths(stage.output),
    logUrl: stage.logPath === undefined ? undefined : `${runUrl}/logs?stage=${stage.index}`,
  };
}

export function runSummary(run: Run): RunSummary {
  return {
    id: run.id,
    number: run.number,
    status: run.status,
    commit: run.commit,
    ref: run.ref,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
  };
}

export function serviceView(service: Service, publicUrl: string, lastRun?: Run): ServiceView {
  const repository: ServiceView['repository'] =
    service.repository.kind === 'hosted'
      ? { kind: 'hosted', pushUrl: pushUrlOf(publicUrl, service.name) }
      : { kind: 'external', url: redactRepositoryUrl(service.repository.url) };
  return {
    name: service.name,
    repository,
    defaultBranch: service.defaultBranch,
    pollIntervalMs: service.pollIntervalMs,
    webhook: {
      url: `${publicUrl}/hooks/github`,
      secretConfigured: service.webhookSecret !== undefined && service.webhookSecret !== '',
    },
    createdAt: service.createdAt,
    lastRun: lastRun === undefined ? undefined : runSummary(lastRun),
  };
}

export function releaseView(release: Release): ReleaseView {
  return {
    ...release,
    url: `/api/releases/${release.id}`,
    runUrl: `/api/runs/${release.runId}`,
  };
}

export function tokenView(record: TokenRecord): TokenRecord {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    revokedAt: record.revokedAt,
  };
}

export function pushUrlOf(publicUrl: string, repository: string): string {
  return `${publicUrl}/git/${repository}.git`;
}

function durationOf(run: Run): number | undefined {
  if (run.startedAt === undefined || run.finishedAt === undefined) return undefined;
  return Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

/** Keys of stage outputs that hold paths on the server (the build's log file). */
const SERVER_PATH_KEYS: ReadonlySet<string> = new Set(['logFile', 'logPath']);

function withoutServerPaths(output: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(output).filter(([key]) => !SERVER_PATH_KEYS.has(key)));
}
