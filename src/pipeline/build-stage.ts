import type { BuildSummary } from '../build/build-result.js';
import type { BuildRequest, Executor } from '../build/executor.js';
import { branchOf, tagOf } from '../source/ref-name.js';
import type { Semaphore } from '../shared/semaphore.js';
import type { StageContext, StageResult, StageRunner } from './stage-runner.js';

/** Exit code of a command killed by SIGKILL (the OOM killer, a crashed host): not the code's fault. */
const KILLED_EXIT_STATUS = 'exit status 137';

/** Whether a failed build failed for a platform reason (killed, timed out, Phoenix itself). */
export function isPlatformFailure(summary: BuildSummary): boolean {
  if (summary.status === 'FAULT' || summary.status === 'TIMED_OUT') return true;
  return summary.phases.some(
    (phase) => phase.status === 'FAILED' && phase.message?.includes(KILLED_EXIT_STATUS),
  );
}

export interface BuildStageOptions {
  executor: Executor;
  /** Where each service's source is: its hosted bare repository or its mirror. */
  sourceOf: (service: string) => string;
  /** Builds across the whole server; waiting for a slot is cancellable. */
  slots: Semaphore;
  initiator: (context: StageContext) => string;
}

/**
 * The build stage: the service's buildspec at the run's commit, through the Executor.
 * Retried automatically when the build failed for a platform reason (or for any reason when
 * phoenix.yml says `retry-on: any`), up to `build.retries` more times.
 */
export class BuildStageRunner implements StageRunner {
  constructor(private readonly options: BuildStageOptions) {}

  async run(context: StageContext): Promise<StageResult> {
    const { build } = context.config;
    let release: (() => void) | undefined;
    try {
      release = await this.options.slots.acquire(context.signal);
    } catch {
      return { status: 'cancelled', reason: 'cancelled while waiting for a build slot' };
    }
    try {
      let summary: BuildSummary | undefined;
      for (let attempt = 0; attempt <= build.retries; attempt++) {
        if (attempt > 0) {
          context.log({
            time: Date.now(),
            stream: 'system',
            text: `Retrying the build (${attempt} of ${build.retries}): ${summary?.reason ?? 'platform failure'}`,
          });
        }
        summary = await this.attempt(context);
        if (
          summary.status === 'SUCCEEDED' ||
          summary.status === 'STOPPED' ||
          context.signal.aborted
        )
          break;
        if (build.retryOn === 'platform' && !isPlatformFailure(summary)) break;
      }
      return summary === undefined
        ? { status: 'failed', reason: 'no build ran' }
        : resultOf(summary);
    } finally {
      release();
    }
  }

  private attempt(context: StageContext): Promise<BuildSummary> {
    const { build } = context.config;
    return this.options.executor.run(
      {
        sourceDirectory: this.options.sourceOf(context.run.service),
        revision: context.run.commit,
        buildspec: build.buildspec,
        project: context.run.service,
        timeoutMs: build.timeoutMs,
        sandbox: build.sandbox,
        initiator: this.options.initiator(context),
        ...sourceVariables(context),
        overrides: {
          PHOENIX_RUN_ID: context.run.id,
          PHOENIX_RUN_NUMBER: String(context.run.number),
          PHOENIX_REF: context.run.ref,
        },
        onStart: (started) =>
          context.started({ externalId: started.buildId, logPath: started.logFile }),
        onLog: (line) => context.log(line),
      },
      context.signal,
    );
  }
}

/** CODEBUILD_WEBHOOK_* and the branch, as CodeBuild sets them for a build a push started. */
function sourceVariables(context: StageContext): Pick<BuildRequest, 'branch' | 'webhook'> {
  const { run } = context;
  const branch = branchOf(run.ref);
  const tag = tagOf(run.ref);
  const pushed =
    run.trigger.type === 'push' || run.trigger.type === 'webhook' || run.trigger.type === 'poll';
  return {
    branch,
    webhook: {
      HEAD_REF: run.ref,
      TRIGGER:
        branch !== undefined ? `branch/${branch}` : tag !== undefined ? `tag/${tag}` : undefined,
      EVENT: pushed ? 'PUSH' : undefined,
      ACTOR_ACCOUNT_ID: run.trigger.actor,
    },
  };
}

function resultOf(summary: BuildSummary): StageResult {
  const output = {
    buildId: summary.buildId,
    buildNumber: summary.buildNumber,
    status: summary.status,
    durationMs: summary.durationMs,
    artifacts: summary.artifacts.map(({ id, name, digest, totalBytes }) => ({
      id,
      name,
      digest,
      totalBytes,
    })),
    reports: summary.reports.map(({ name, summary: counts, failures }) => ({
      name,
      summary: counts,
      failures: failures.slice(0, 20),
    })),
    exportedVariables: summary.exportedVariables,
  };
  if (summary.status === 'SUCCEEDED') return { status: 'succeeded', output };
  if (summary.status === 'STOPPED') return { status: 'cancelled', reason: summary.reason, output };
  return {
    status: 'failed',
    reason: summary.reason,
    platformFailure: isPlatformFailure(summary),
    output,
  };
}
