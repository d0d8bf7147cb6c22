import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { projectName } from '../../src/build/build-directory.js';
import { commitFiles, createGitRepository } from './git-repository.js';
import { timedPush } from './git-push.js';
import {
  runListSchema,
  runResponseSchema,
  storedEvents,
  type PhoenixApi,
  type RunView,
  type StoredEvent,
} from './phoenix-api.js';

export const PUSH_SERVICE = 'push';
/** Printed by the build's first command with bash's clock, when bash runs it. */
const FIRST_COMMAND_MARKER = 'bench-first-command';
const PHOENIX_YML = `service: ${PUSH_SERVICE}\nexecution-mode: parallel\nbuild:\n  retries: 0\n`;
const BUILDSPEC = `version: 0.2\nphases:\n  build:\n    commands:\n      - echo "${FIRST_COMMAND_MARKER} $EPOCHREALTIME"\n`;

/** Where one push spent its time; server times are epoch milliseconds from the server's clock. */
export interface PushSample {
  /** Spawning `git push` until it exited. */
  gitPushMs: number;
  /** The run is recorded before the push's answer ends: this is the push's tail after it. */
  runCreatedToPushExitMs: number;
  /** Spawning `git push` until the server recorded the run (run.created). */
  pushToRunCreatedMs: number;
  runCreatedToBuildRunningMs: number;
  /** Build stage running until the build log's first `Running command` line. */
  buildRunningToCommandLoggedMs: number;
  /** That line until bash ran the command ($EPOCHREALTIME in its output). */
  commandLoggedToCommandRunningMs: number;
  pushToFirstCommandMs: number;
  /** Negative when the first command ran before `git push` returned. */
  pushExitToFirstCommandMs: number;
  runCreatedToSourceSucceededMs: number;
  sourceSucceededToBuildRunningMs: number;
  buildSucceededToRunFinishedMs: number;
  buildStageMs: number;
  /** The executor's own build, from the build summary. */
  buildMs: number;
  downloadSourceMs: number;
  finalizingMs: number;
  /** Build stage time outside the executor's build: slot, source inspection, build folder. */
  stageOutsideBuildMs: number;
  runMs: number;
}

const summarySchema = z.object({
  durationMs: z.number(),
  phases: z.array(z.object({ phase: z.string(), durationMs: z.number() })),
});

/**
 * Pushes `pushes` commits, one after the other, each once the previous run has finished, to
 * a hosted repository whose build echoes bash's clock in its first command. One unmeasured
 * push comes first (it creates the branch and warms the server).
 */
export async function measurePushes(options: {
  api: PhoenixApi;
  token: string;
  home: string;
  work: string;
  scratchHome: string;
  pushes: number;
}): Promise<PushSample[]> {
  const { api } = options;
  const repo = await api.json(z.object({ pushUrl: z.string() }), '/api/repos', {
    method: 'POST',
    body: JSON.stringify({ name: PUSH_SERVICE }),
  });
  const url = repo.pushUrl.replace('http://', `http://phoenix:${options.token}@`);
  await createGitRepository(options.work, {
    'phoenix.yml': PHOENIX_YML,
    'buildspec.yml': BUILDSPEC,
    'counter.txt': '0\n',
  });
  const samples: PushSample[] = [];
  for (let index = 0; index <= options.pushes; index++) {
    const commit = await commitFiles(options.work, { 'counter.txt': `${index + 1}\n` }, 'Push');
    const push = await timedPush({
      directory: options.work,
      url,
      branch: 'main',
      scratchHome: options.scratchHome,
    });
    const sample = await followPushedRun({ api, home: options.home, commit, push });
    if (index > 0) samples.push(sample);
  }
  return samples;
}

async function followPushedRun(options: {
  api: PhoenixApi;
  home: string;
  commit: string;
  push: { startedAt: number; wallMs: number };
}): Promise<PushSample> {
  const { api, push } = options;
  const [listed] = (await api.json(runListSchema, `/api/runs?service=${PUSH_SERVICE}&limit=1`))
    .runs;
  if (listed?.commit !== options.commit)
    throw new Error(`git push ${options.commit} returned before its run was recorded`);
  const stream = await api.runEvents(listed.id);
  const events = storedEvents(stream);
  const { run } = await api.json(runResponseSchema, `/api/runs/${listed.id}`);
  if (run.status !== 'succeeded') throw new Error(`run ${run.id} ${run.status}`);
  const log = await api.text(`/api/runs/${run.id}/logs?stage=1`);
  const first = firstCommand(log);
  const summary = await buildSummary(options.home, run);
  const at = (type: string, data: Record<string, unknown> = {}) => eventTime(events, type, data);
  const created = at('run.created');
  const sourceSucceeded = at('stage.status', { index: 0, status: 'succeeded' });
  const buildRunning = at('stage.status', { index: 1, status: 'running' });
  const buildSucceeded = at('stage.status', { index: 1, status: 'succeeded' });
  const finished = at('run.finished');
  const phase = (name: string) => summary.phases.find((p) => p.phase === name)?.durationMs ?? 0;
  return {
    gitPushMs: push.wallMs,
    runCreatedToPushExitMs: push.startedAt + push.wallMs - created,
    pushToRunCreatedMs: created - push.startedAt,
    runCreatedToBuildRunningMs: buildRunning - created,
    buildRunningToCommandLoggedMs: first.loggedAt - buildRunning,
    commandLoggedToCommandRunningMs: first.runningAt - first.loggedAt,
    pushToFirstCommandMs: first.runningAt - push.startedAt,
    pushExitToFirstCommandMs: first.runningAt - (push.startedAt + push.wallMs),
    runCreatedToSourceSucceededMs: sourceSucceeded - created,
    sourceSucceededToBuildRunningMs: buildRunning - sourceSucceeded,
    buildSucceededToRunFinishedMs: finished - buildSucceeded,
    buildStageMs: buildSucceeded - buildRunning,
    buildMs: summary.durationMs,
    downloadSourceMs: phase('DOWNLOAD_SOURCE'),
    finalizingMs: phase('FINALIZING'),
    stageOutsideBuildMs: buildSucceeded - buildRunning - summary.durationMs,
    runMs: finished - created,
  };
}

/** The time of the first stored event of `type` whose data has every field of `data`. */
function eventTime(
  events: readonly StoredEvent[],
  type: string,
  data: Record<string, unknown>,
): number {
  const event = events.find(
    (candidate) =>
      candidate.type === type &&
      Object.entries(data).every(([key, value]) => candidate.data[key] === value),
  );
  if (event === undefined) throw new Error(`no ${type} ${JSON.stringify(data)} event`);
  return Date.parse(event.time);
}

/**
 * When the build log says it runs the first command (the line's server timestamp, to the
 * millisecond) and when bash ran it (the $EPOCHREALTIME it printed, to the microsecond).
 */
function firstCommand(log: string): { loggedAt: number; runningAt: number } {
  const logged = /^(\S+) \[Phoenix\] Running command /m.exec(log)?.[1];
  const running = new RegExp(`^\\S+ ${FIRST_COMMAND_MARKER} (\\d+[.,]\\d+)$`, 'm').exec(log)?.[1];
  if (logged === undefined || running === undefined)
    throw new Error(`the build log has no first command:\n${log}`);
  // EPOCHREALTIME uses the locale's decimal separator.
  return { loggedAt: Date.parse(logged), runningAt: Number(running.replace(',', '.')) * 1000 };
}

/**
 * The build summary, which the API does not serve (the stage output has the build's number
 * and duration, not its phases): read from the server's PHOENIX_HOME, which the bench owns.
 */
async function buildSummary(home: string, run: RunView): Promise<z.infer<typeof summarySchema>> {
  const buildNumber = run.stages[1]?.output?.['buildNumber'];
  if (typeof buildNumber !== 'number') throw new Error(`run ${run.id} has no build number`);
  const path = join(home, 'builds', projectName(PUSH_SERVICE), String(buildNumber), 'summary.json');
  return summarySchema.parse(JSON.parse(await readFile(path, 'utf8')));
}
