import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { APP_ENVIRONMENT, APP_SERVICE } from './deploy-app.js';
import type { DeployStack } from './deploy-stack.js';
import { deployAndWait, type FinishedDeployment } from './deployment-client.js';
import { probe } from './http-probe.js';
import { underLoad } from './load-period.js';
import type { LoadReport } from './load-protocol.js';
import { ANSWERS_KEY, CRASH_KEY } from './self-healing-app.js';

/** What the misbehaving release's instances wrote about themselves (self-healing-app.ts). */
export interface ReleaseLog {
  /** Answers other than /health, summed over the instances. */
  answers: number;
  /** Epoch ms of the first and last of them (any instance). */
  firstAnswerAt: number | undefined;
  lastAnswerAt: number | undefined;
  /** Epoch ms of every start that exited at once (`crash` mode), per instance, in order. */
  crashes: number[][];
}

/** One deployment of a misbehaving release under load, and what everyone saw of it. */
export interface RollbackRun {
  number: number;
  finished: FinishedDeployment;
  /** The load generator's count, with `answers` by status and body. */
  report: LoadReport;
  /** What GET / on the production listener answered after the deployment finished. */
  served: string;
  release: ReleaseLog;
}

export interface LoadSettings {
  url: string;
  connections: number;
  failureBucketMs: number;
  warmupMs: number;
  pids: { router: number; server: number };
  signal: AbortSignal;
}

/**
 * Under steady load (a generator of its own, warmed up, counting from zero): `steadyMs` of
 * nothing, the deployment of `release` through the API until it has finished (whatever the
 * outcome), `steadyMs` again. Then reads the new release's instance logs.
 */
export async function deployUnderLoad(
  stack: DeployStack,
  options: {
    load: LoadSettings;
    number: number;
    release: string;
    steadyMs: number;
    timeoutMs: number;
  },
): Promise<RollbackRun> {
  const { load, steadyMs } = options;
  const { signal } = load;
  let finished: FinishedDeployment | undefined;
  const { period, error } = await underLoad({ ...load, answers: true }, async () => {
    await sleep(steadyMs, undefined, { signal });
    finished = await deployAndWait(stack.api, {
      service: APP_SERVICE,
      environment: APP_ENVIRONMENT,
      release: options.release,
      timeoutMs: options.timeoutMs,
      signal,
    });
    await sleep(steadyMs, undefined, { signal });
  });
  if (error !== undefined) throw error;
  if (finished === undefined) throw new Error(`the deployment of ${options.release} never ran`);
  const answer = await probe(load.url);
  return {
    number: options.number,
    finished,
    report: period.report,
    served: answer === undefined ? 'no answer' : `${answer.status} ${answer.body}`,
    release: await readReleaseLog(stack.home, finished),
  };
}

const startedSchema = z.object({ instances: z.array(z.object({ id: z.string() })) });
const answersLineSchema = z.object({
  [ANSWERS_KEY]: z.object({
    count: z.number(),
    first: z.number().optional(),
    last: z.number().optional(),
  }),
});
const crashLineSchema = z.object({ [CRASH_KEY]: z.number() });

/**
 * The instance logs of the deployment's new release (the local runtime keeps them in
 * `<PHOENIX_HOME>/runtime/logs/<instance id>.log`); lines from before the request are
 * another deployment's. An instance's last answers line is its total.
 */
async function readReleaseLog(home: string, finished: FinishedDeployment): Promise<ReleaseLog> {
  const ids = new Set<string>();
  for (const event of finished.deployment.timeline) {
    if (event.type !== 'instances.started') continue;
    const parsed = startedSchema.safeParse(event.data);
    if (parsed.success) for (const instance of parsed.data.instances) ids.add(instance.id);
  }
  const log: ReleaseLog = {
    answers: 0,
    firstAnswerAt: undefined,
    lastAnswerAt: undefined,
    crashes: [],
  };
  for (const id of ids) {
    const text = await readFile(join(home, 'runtime', 'logs', `${id}.log`), 'utf8').catch(() => '');
    let total: z.infer<typeof answersLineSchema>[typeof ANSWERS_KEY] | undefined;
    const crashes: number[] = [];
    for (const line of text.split('\n')) {
      const value = parseJson(line);
      const crash = crashLineSchema.safeParse(value);
      if (crash.success && crash.data[CRASH_KEY] >= finished.requestedAt) {
        crashes.push(crash.data[CRASH_KEY]);
      }
      const answers = answersLineSchema.safeParse(value);
      if (answers.success && (answers.data[ANSWERS_KEY].first ?? 0) >= finished.requestedAt) {
        total = answers.data[ANSWERS_KEY];
      }
    }
    if (crashes.length > 0) log.crashes.push(crashes.sort((a, b) => a - b));
    if (total === undefined) continue;
    log.answers += total.count;
    log.firstAnswerAt = earliest(log.firstAnswerAt, total.first);
    log.lastAnswerAt = latest(log.lastAnswerAt, total.last);
  }
  return log;
}

function parseJson(line: string): unknown {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.max(a, b);
}
