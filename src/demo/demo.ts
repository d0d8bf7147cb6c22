import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ApiClient } from '../cli/api-client.js';
import { describeDeploymentEvent } from '../deploy/deployment-timeline.js';
import type { DeploymentView } from '../deploy/deployment-view.js';
import type { RunView } from '../pipeline/run-view.js';
import { brokenServer, demoFiles, type DemoPorts } from './demo-service.js';

const run = promisify(execFile);

/** How often the demo looks at the run it follows (it prints each change once). */
const LOOK_EVERY_MS = 300;

export interface DemoOptions {
  client: ApiClient;
  /** An admin token: the demo pushes with it. */
  token: string;
  home: string;
  ports: DemoPorts;
  selfHealing: boolean;
  out: (line: string) => void;
}

export interface DemoResult {
  ok: boolean;
  /** The self-healing part: how the bad release went. */
  rollback?: { detectedMs: number; backOnStableMs: number; failed: number; requests: number };
}

/**
 * The demo: pushes the sample shop to a hosted repository and follows its run through dev,
 * a canary on staging and the approval gate before prod, saying where to look; then, when
 * asked, pushes a release that breaks under real traffic while load runs against staging,
 * and shows the automatic rollback: when it was noticed, how long it took, what failed.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const { client, out, ports } = o;
  const work = join(o.home, 'demo', 'shop');
  const files = demoFiles(ports);
  out('Creating the hosted repository shop and pushing the sample shop (examples/shop)');
  const pushUrl = await repository(client);
  const push = async (changes: Record<string, string>, message: string): Promise<void> => {
    await commit(work, changes, message);
    const url = pushUrl.replace('://', `://phoenix:${o.token}@`);
    await run('git', ['-C', work, 'push', '-q', url, 'HEAD:main']);
  };
  const first = await latestRunId(client);
  await push(files, 'the shop, version 1');
  // So that a person can push a change too: git -C <work> push phoenix main.
  await run('git', ['-C', work, 'remote', 'remove', 'phoenix']).catch(() => undefined);
  await run('git', [
    '-C',
    work,
    'remote',
    'add',
    'phoenix',
    pushUrl.replace('://', `://phoenix:${o.token}@`),
  ]);
  const firstRun = await follow(client, await nextRun(client, first), out, 'approve:prod');
  const served = await Promise.all([serves(ports.dev), serves(ports.staging)]);
  out(`dev serves the shop at http://127.0.0.1:${ports.dev}/products (${served[0]})`);
  out(`staging serves it at http://127.0.0.1:${ports.staging}/products (${served[1]})`);
  out(
    `  test listeners: http://127.0.0.1:${ports.devTest}/, http://127.0.0.1:${ports.stagingTest}/`,
  );
  out(
    `prod waits for approval (then http://127.0.0.1:${ports.prod}/products, test listener :${ports.prodTest})`,
  );
  const token = join(o.home, 'demo', 'admin-token');
  out('Try, from this folder:');
  out(`  npm run phoenix -- login --url ${client.url} --token "$(cat ${token})"`);
  out('  npm run phoenix -- status shop');
  out('  npm run phoenix -- approve shop --env prod --comment "looks good"');
  out(`  git -C ${work} commit --allow-empty -m "a change" && git -C ${work} push phoenix main`);
  out('  npm run phoenix -- rollback shop --env staging');
  const ok = firstRun.stages.some((s) => s.name === 'approve:prod' && s.status === 'running');
  if (!o.selfHealing) return { ok };

  out(
    'Self-healing: a release that leaks a database connection on every GET /products. Its unit tests and its smoke test pass; under real traffic /products soon answers 500 (its /health stays green)',
  );
  out(`Load on staging: GET http://127.0.0.1:${ports.staging}/products, back to back`);
  const load = startLoad(`http://127.0.0.1:${ports.staging}/products`);
  const before = await latestRunId(client);
  await push(brokenServer(files), 'a connection leak that only real traffic finds');
  const badRun = await follow(client, await nextRun(client, before), out, 'deploy:staging');
  const stats = await load.stop();
  const staging = (await client.serviceStatus('shop', { environment: 'staging' })).environments[0];
  const rollback = staging === undefined ? undefined : measure(staging.latest, stats.firstFailure);
  if (rollback === undefined || staging?.latest.status !== 'rolled-back') {
    out(`The bad release was not rolled back (run ${badRun.status}): see phoenix status shop`);
    return { ok: false };
  }
  out(`Rolled back automatically: ${staging.latest.reason ?? ''}`);
  out(
    `Noticed ${rollback.detectedMs} ms after the first error, production back on the stable release ${rollback.backOnStableMs} ms after it; ${stats.failed} of ${stats.requests} requests failed (the canary had ${stats.failed === 0 ? 'none' : '20%'} of the traffic)`,
  );
  return { ok, rollback: { ...rollback, failed: stats.failed, requests: stats.requests } };
}

async function repository(client: ApiClient): Promise<string> {
  try {
    return (await client.createRepository({ name: 'shop' })).pushUrl;
  } catch (error) {
    // Made by an earlier demo on the same PHOENIX_HOME: push to it again.
    if (error instanceof Error && /409|exists/.test(error.message)) return `${client.url}/git/shop`;
    throw error;
  }
}

async function commit(
  work: string,
  changes: Record<string, string>,
  message: string,
): Promise<void> {
  if (!existsSync(join(work, '.git'))) {
    await mkdir(work, { recursive: true });
    await run('git', ['init', '-q', '-b', 'main', work]);
    await run('git', ['-C', work, 'config', 'user.email', 'demo@phoenix.local']);
    await run('git', ['-C', work, 'config', 'user.name', 'Phoenix demo']);
  }
  for (const [path, content] of Object.entries(changes)) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), content);
  }
  await run('git', ['-C', work, 'add', '-A']);
  await run('git', ['-C', work, 'commit', '-q', '--allow-empty', '-m', message]);
}

async function latestRunId(client: ApiClient): Promise<string | undefined> {
  return (await client.listRuns({ service: 'shop', limit: 1 }).catch(() => ({ runs: [] }))).runs[0]
    ?.id;
}

/** The run a push started: the newest one that is not `previous`. */
async function nextRun(client: ApiClient, previous: string | undefined): Promise<RunView> {
  for (;;) {
    const [newest] = (await client.listRuns({ service: 'shop', limit: 1 })).runs;
    if (newest !== undefined && newest.id !== previous) return newest;
    await sleep(LOOK_EVERY_MS);
  }
}

/** Prints each stage as it changes until `until` is running or over, or the run ends. */
async function follow(
  client: ApiClient,
  started: RunView,
  out: (line: string) => void,
  until: string,
): Promise<RunView> {
  const seen = new Map<string, string>();
  const shown = new Map<string, number>();
  out(`Run shop #${started.number}: ${started.stages.map((s) => s.name).join(' → ')}`);
  for (;;) {
    const { run: current } = await client.getRun(started.id);
    for (const stage of current.stages) {
      if (stage.status === 'running' && stage.name.startsWith('deploy:')) {
        await showDeployment(client, stage.name.slice('deploy:'.length), shown, out);
      }
      if (seen.get(stage.name) === stage.status || stage.status === 'pending') continue;
      if (stage.status !== 'running' && stage.name.startsWith('deploy:')) {
        await showDeployment(client, stage.name.slice('deploy:'.length), shown, out);
      }
      seen.set(stage.name, stage.status);
      const reason = stage.reason === undefined ? '' : `: ${stage.reason}`;
      out(`  ${stage.name} ${stage.status}${stage.status === 'running' ? '' : reason}`);
    }
    const target = current.stages.find((s) => s.name === until);
    const reached =
      target !== undefined &&
      target.status !== 'pending' &&
      (until.startsWith('approve:') || target.status !== 'running');
    if (reached || ['succeeded', 'failed', 'cancelled', 'superseded'].includes(current.status)) {
      return current;
    }
    await sleep(LOOK_EVERY_MS);
  }
}

/**
 * The environment's deployment as it goes: its timeline in words (steps, traffic split,
 * health, the judge's verdict), each event once.
 */
async function showDeployment(
  client: ApiClient,
  environment: string,
  shown: Map<string, number>,
  out: (line: string) => void,
): Promise<void> {
  const status = await client.serviceStatus('shop', { environment }).catch(() => undefined);
  const deployment = status?.environments[0]?.latest;
  if (deployment === undefined) return;
  const last = shown.get(deployment.id) ?? 0;
  for (const event of deployment.timeline) {
    if (event.id <= last || !SHOWN_EVENTS.has(event.type)) continue;
    out(`      ${environment}: ${describeDeploymentEvent(event)}`);
  }
  shown.set(deployment.id, Math.max(last, ...deployment.timeline.map((e) => e.id)));
}

/** What a person watching wants to see of a deployment (not every write-ahead step). */
const SHOWN_EVENTS = new Set([
  'instances.started',
  'instances.healthy',
  'hook.finished',
  'weights.applied',
  'release.failing',
  'rollback.started',
  'drained',
  'deployment.finished',
]);

async function serves(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  const body = (await response.json()) as { version?: string };
  return `${response.status}, release ${body.version ?? '?'}`;
}

interface LoadStats {
  requests: number;
  failed: number;
  /** Epoch ms of the first failed request. */
  firstFailure?: number;
}

function startLoad(url: string): { stop(): Promise<LoadStats> } {
  const stats: LoadStats = { requests: 0, failed: 0 };
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      let ok = false;
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        ok = response.ok;
      } catch {
        ok = false;
      }
      stats.requests++;
      if (ok) continue;
      stats.failed++;
      stats.firstFailure ??= Date.now();
    }
  };
  const workers = Array.from({ length: 4 }, () => worker());
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return stats;
    },
  };
}

/** From the deployment's timeline: when it was judged failing, and production went back. */
function measure(
  deployment: DeploymentView,
  firstFailure: number | undefined,
): { detectedMs: number; backOnStableMs: number } | undefined {
  const failing = deployment.timeline.find((e) => e.type === 'release.failing');
  const rollback = deployment.timeline.findIndex((e) => e.type === 'rollback.started');
  const back = deployment.timeline.slice(rollback).find((e) => e.type === 'weights.applied');
  if (failing === undefined || back === undefined) return undefined;
  const start = firstFailure ?? Date.parse(failing.time);
  return {
    detectedMs: Math.max(0, Date.parse(failing.time) - start),
    backOnStableMs: Math.max(0, Date.parse(back.time) - start),
  };
}
