import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { BuildSummary, PhaseType } from '../../src/build/build-result.js';
import type { BuildRequest } from '../../src/build/executor.js';
import { createPhoenix, type Phoenix } from '../../src/main.js';
import { silentLogger } from '../../src/shared/logger.js';

/** How much of a failed build's log to show. */
const LOG_TAIL_LINES = 40;

/** A Phoenix whose state lives in `home` and whose builds see only this PATH from the host. */
export function benchPhoenix(home: string): Phoenix {
  return createPhoenix({
    env: { PHOENIX_HOME: home, PATH: process.env['PATH'] },
    logger: silentLogger(),
  });
}

export interface TimedBuild {
  summary: BuildSummary;
  /** From calling `run` until the summary is back, as a user of the executor waits. */
  wallMs: number;
}

/** Runs one build and times it; a build that does not succeed is an error, with its log's tail. */
export async function runTimedBuild(phoenix: Phoenix, request: BuildRequest): Promise<TimedBuild> {
  const started = performance.now();
  const summary = await phoenix.executor.run(request);
  const wallMs = performance.now() - started;
  if (summary.status !== 'SUCCEEDED') {
    const log = await readFile(summary.logFile, 'utf8').catch(() => '');
    const tail = log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
    throw new Error(`bench build ${summary.status}: ${summary.reason ?? ''}\n${tail}`);
  }
  return { summary, wallMs };
}

/** A phase's duration from the summary, 0 when the build had no such phase. */
export function phaseMs(summary: BuildSummary, phase: PhaseType): number {
  return summary.phases.find((result) => result.phase === phase)?.durationMs ?? 0;
}

/** Time spent in none of the summary's phases: source inspection, cache restore and save, summary. */
export function outsidePhasesMs(build: TimedBuild): number {
  const inPhases = build.summary.phases.reduce((total, phase) => total + phase.durationMs, 0);
  return build.wallMs - inPhases;
}

/**
 * Time from the end of phase `after` to the start of phase `before`: what Phoenix does between
 * two phases, such as starting the shell and restoring the cache before INSTALL.
 */
export function gapMs(summary: BuildSummary, after: PhaseType, before: PhaseType): number {
  const first = summary.phases.find((result) => result.phase === after);
  const second = summary.phases.find((result) => result.phase === before);
  if (first?.startedAt === undefined || second?.startedAt === undefined) {
    throw new Error(`the build has no timed ${first === undefined ? after : before} phase`);
  }
  return Date.parse(second.startedAt) - (Date.parse(first.startedAt) + first.durationMs);
}
