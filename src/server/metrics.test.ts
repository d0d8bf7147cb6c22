import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentChanges } from '../deploy/deployment-changes.js';
import type { Deployment, DeploymentStrategy } from '../deploy/deployment.js';
import { DeployHarness, type TestRelease } from '../deploy/testing/deploy-harness.js';
import { RunEventBus } from '../pipeline/run-events.js';
import { EventLog, httpGet, RuntimeHarness } from '../runtime/__fixtures__/runtime-harness.js';
import type { LocalRuntime } from '../runtime/local/local-runtime.js';
import type { Instance } from '../runtime/runtime.js';
import { FakeClock } from '../shared/clock.js';
import { NotFoundError } from '../shared/errors.js';
import type { Store } from '../store/store.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import { ServerMetrics, type DeploymentMetricsSources } from './metrics.js';

const CANARY: DeploymentStrategy = {
  kind: 'canary',
  percent: 10,
  intervalMs: 10 * 60_000,
  bakeMs: 10 * 60_000,
  testListener: false,
  manualPromote: false,
};
/** The default alarms judge periods of 200 ms. */
const PERIOD_MS = 200;

/** The sample lines of `metric` (its name followed by labels), in the order rendered. */
function lines(text: string, metric: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${metric}{`));
}

/** The value of the one sample of `metric` whose labels contain `labels`. */
function value(text: string, metric: string, labels: string): number {
  const matching = lines(text, metric).filter((line) => line.includes(labels));
  if (matching.length !== 1) throw new Error(`${matching.length} samples of ${metric} ${labels}`);
  return Number(matching[0]?.split(' ').at(-1));
}

function metricsFor(
  store: Store,
  sources: Pick<DeploymentMetricsSources, 'releases' | 'changes' | 'runtime'>,
): ServerMetrics {
  return new ServerMetrics({
    runs: store.runs,
    bus: new RunEventBus(),
    processMetrics: false,
    deployments: { services: store.services, deployments: store.deployments, ...sources },
  });
}

describe('ServerMetrics: deployments', () => {
  let harness: DeployHarness;
  let changes: DeploymentChanges;
  let metrics: ServerMetrics;
  /** The harness keeps its releases outside the store: the test's releases, by id. */
  let releases: Map<string, TestRelease>;

  beforeEach(() => {
    harness = new DeployHarness();
    changes = new DeploymentChanges();
    releases = new Map();
    metrics = metricsFor(harness.store, {
      releases: {
        get: (id) => {
          const release = releases.get(id);
          if (release === undefined) throw new NotFoundError(`release ${id} not found`);
          return release;
        },
      },
      changes,
      runtime: harness.runtime,
    });
  });

  afterEach(async () => {
    metrics.close();
    expect(await harness.cleanup()).toEqual([]);
  });

  function release(version: string): TestRelease {
    const made = harness.release(version);
    releases.set(made.id, made);
    return made;
  }

  /** The first recorded change, from now on, that passes `test`. */
  function next(test: (deployment: Deployment) => boolean): Promise<Deployment> {
    return new Promise((resolve) => {
      const unsubscribe = changes.subscribe((deployment) => {
        if (!test(deployment)) return;
        unsubscribe();
        resolve(deployment);
      });
    });
  }

  function instanceLines(metric: string, releaseId: string, group: string, value: number) {
    return harness.runtime
      .list({ releaseId })
      .map(
        (instance) =>
          `${metric}{service="shop",environment="dev",release="${releaseId}",target_group="${group}",instance_id="${instance.id}"} ${value}`,
      );
  }

  it('counts deployments by outcome and rollbacks by cause, and shows each environment, what it serves and its instances', async () => {
    const controller = harness.controller({ onChange: (deployment) => changes.emit(deployment) });
    const first = await harness.deploy(controller, release('v1'));
    await controller.whenFinished(first.id);
    const failing = release('v2');
    const failingBakes = next((d) => d.releaseId === failing.id && d.status === 'baking');
    const second = await harness.deploy(controller, failing, CANARY);
    await failingBakes;
    for (let period = 0; period < 3; period++) {
      harness.router.serve('shop-dev-2', { status: 500, count: 10 });
      harness.clock.jump(PERIOD_MS);
    }
    await controller.whenFinished(second.id);
    const aborted = release('v3');
    const abortedBakes = next((d) => d.releaseId === aborted.id && d.status === 'baking');
    const third = await harness.deploy(controller, aborted, CANARY);
    await abortedBakes;

    const baking = await metrics.render();
    await controller.abort(third.id, 'carol');
    await controller.whenFinished(third.id);
    const text = await metrics.render();

    expect(lines(baking, 'phoenix_deployments')).toEqual([
      'phoenix_deployments{service="shop",environment="dev",status="baking"} 1',
    ]);
    expect(lines(baking, 'phoenix_instances')).toEqual([
      'phoenix_instances{service="shop",environment="dev",release="rel_1",target_group="shop-dev-1",status="running"} 2',
      'phoenix_instances{service="shop",environment="dev",release="rel_3",target_group="shop-dev-3",status="running"} 2',
    ]);
    expect(lines(text, 'phoenix_deployments')).toEqual([
      'phoenix_deployments{service="shop",environment="dev",status="aborted"} 1',
    ]);
    expect(lines(text, 'phoenix_serving_release_info')).toEqual([
      'phoenix_serving_release_info{service="shop",environment="dev",release="rel_1",target_group="shop-dev-1"} 1',
    ]);
    expect(lines(text, 'phoenix_deployments_finished_total')).toEqual([
      'phoenix_deployments_finished_total{service="shop",environment="dev",outcome="succeeded"} 1',
      'phoenix_deployments_finished_total{service="shop",environment="dev",outcome="failed"} 0',
      'phoenix_deployments_finished_total{service="shop",environment="dev",outcome="rolled-back"} 1',
      'phoenix_deployments_finished_total{service="shop",environment="dev",outcome="aborted"} 1',
    ]);
    expect(lines(text, 'phoenix_deployment_rollbacks_total')).toEqual([
      'phoenix_deployment_rollbacks_total{service="shop",environment="dev",cause="release-errors"} 1',
      'phoenix_deployment_rollbacks_total{service="shop",environment="dev",cause="aborted"} 1',
    ]);
    expect(lines(text, 'phoenix_deployment_duration_seconds_count')).toEqual([
      'phoenix_deployment_duration_seconds_count{service="shop",environment="dev",outcome="succeeded"} 1',
      'phoenix_deployment_duration_seconds_count{service="shop",environment="dev",outcome="rolled-back"} 1',
      'phoenix_deployment_duration_seconds_count{service="shop",environment="dev",outcome="aborted"} 1',
    ]);
    expect(lines(text, 'phoenix_instances')).toEqual([
      'phoenix_instances{service="shop",environment="dev",release="rel_1",target_group="shop-dev-1",status="running"} 2',
    ]);
    expect(lines(text, 'phoenix_instance_restarts_total')).toEqual(
      instanceLines('phoenix_instance_restarts_total', 'rel_1', 'shop-dev-1', 0),
    );
  });
});

describe('ServerMetrics: instances', () => {
  let runtimes: RuntimeHarness;
  let scratch: ScratchStore;
  let metrics: ServerMetrics | undefined;

  beforeEach(async () => {
    runtimes = new RuntimeHarness();
    scratch = await openScratchStore({ prefix: 'phoenix-metrics-', now: Date.now, services: [] });
  });

  afterEach(async () => {
    metrics?.close();
    expect(await runtimes.cleanup()).toEqual([]);
    await scratch.close();
  });

  function metricsOf(runtime: LocalRuntime): ServerMetrics {
    return metricsFor(scratch.store, {
      releases: scratch.store.releases,
      changes: new DeploymentChanges(),
      runtime,
    });
  }

  async function crashAndRestart(runtime: LocalRuntime, clock: FakeClock, instance: Instance) {
    const events = new EventLog(runtime);
    const restarting = events.next('restarting', instance.id);
    const started = events.next('started', instance.id);
    await httpGet(instance.port, '/crash');
    clock.advance((await restarting).delayMs);
    await started;
    // Answering, it has run Node's start-up: CPU time to show.
    await httpGet(instance.port, '/');
  }

  it("shows each live instance's restarts, CPU time and memory, and forgets it once stopped", async () => {
    const clock = new FakeClock();
    const runtime = runtimes.runtime({ clock });
    metrics = metricsOf(runtime);
    const [instance] = await runtime.start(runtimes.request());
    if (instance === undefined) throw new Error('no instance started');
    await crashAndRestart(runtime, clock, instance);
    // An unknown release (here r1) has no target group to name.
    const labels = `service="shop",environment="dev",release="r1",instance_id="${instance.id}"`;

    const running = await metrics.render();
    await runtime.stop([instance.id]);
    const stopped = await metrics.render();

    expect(lines(running, 'phoenix_instances')).toEqual([
      'phoenix_instances{service="shop",environment="dev",release="r1",status="running"} 1',
    ]);
    expect(lines(running, 'phoenix_instance_restarts_total')).toEqual([
      `phoenix_instance_restarts_total{${labels}} 1`,
    ]);
    expect(value(running, 'phoenix_instance_cpu_seconds_total', labels)).toBeGreaterThan(0);
    expect(value(running, 'phoenix_instance_resident_memory_bytes', labels)).toBeGreaterThan(
      1024 * 1024,
    );
    for (const metric of [
      'phoenix_instances',
      'phoenix_instance_restarts_total',
      'phoenix_instance_cpu_seconds_total',
      'phoenix_instance_resident_memory_bytes',
    ]) {
      expect(lines(stopped, metric)).toEqual([]);
    }
  });
});
