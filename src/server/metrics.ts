import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  FINISHED_DEPLOYMENT_STATUSES,
  isFinished,
  type Deployment,
  type DeploymentEvent,
  type DeploymentStatus,
} from '../deploy/deployment.js';
import type { DeploymentListener } from '../deploy/deployment-changes.js';
import { environmentStatus } from '../deploy/environment-status.js';
import type { DeploymentStore } from '../deploy/ports.js';
import { targetGroupName } from '../deploy/target-group.js';
import { FINISHED_RUN_STATUSES } from '../pipeline/run.js';
import type { RunEventBus } from '../pipeline/run-events.js';
import type { Instance } from '../runtime/runtime.js';
import { NotFoundError } from '../shared/errors.js';
import type { RunRepository } from '../store/run-repository.js';

/** Run durations from seconds to hours: builds are rarely shorter or longer. */
export const RUN_DURATION_BUCKETS_SECONDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/** Deployment durations, created to finished: from a quick all-at-once to a day-long canary. */
export const DEPLOYMENT_DURATION_BUCKETS_SECONDS = [
  10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400,
];

/** A rollback whose timeline names no cause: a step failed (hook, start, health) or Phoenix did. */
export const UNNAMED_ROLLBACK_CAUSE = 'step-failed';

/**
 * Where the deployment and instance metrics come from, all read when scraped except the
 * finished deployments, counted as the controller records them (so those counters start at
 * zero with the server, as counters do).
 */
export interface DeploymentMetricsSources {
  services: { list(): { name: string }[] };
  deployments: Pick<DeploymentStore, 'latest' | 'servingRelease'>;
  /** For the target group (`<service>-<environment>-<number>`) of a release id. */
  releases: { get(id: string): { number: number } };
  /** Every recorded change of every deployment (DeploymentChanges). */
  changes: { subscribe(listener: DeploymentListener): () => void };
  runtime: InstanceSource;
}

/** What the instance metrics need of a runtime. */
export interface InstanceSource {
  list(): Instance[];
  /**
   * CPU time and resident memory of a running instance's processes, undefined when it is not
   * running. Runtimes that cannot measure their instances leave it out (LocalRuntime has it).
   */
  processStats?(instanceId: string): Promise<{ cpuSeconds: number; rssBytes: number } | undefined>;
}

export interface ServerMetricsOptions {
  runs: RunRepository;
  bus: RunEventBus;
  processMetrics: boolean;
  /** Without it, /metrics shows runs and requests only. */
  deployments?: DeploymentMetricsSources;
}

/**
 * The server's Prometheus metrics, in a registry of its own (never prom-client's global
 * one), so that two servers in one process, as in tests, do not share or clash. Gauges read
 * the store (and the runtime) when scraped, so they are right after a restart; the duration
 * histograms observe runs and deployments as they finish. Call `close()` to stop listening.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly unsubscribes: (() => void)[] = [];

  constructor(options: ServerMetricsOptions) {
    const { runs, bus } = options;
    const registers = [this.registry];
    const byStatus: Gauge<'status'> = new Gauge({
      name: 'phoenix_runs',
      help: 'Pipeline runs recorded in the store, by status.',
      labelNames: ['status'],
      registers,
      collect: () => {
        for (const [status, count] of Object.entries(runs.countByStatus())) {
          byStatus.set({ status }, count);
        }
      },
    });
    const queueDepth: Gauge = new Gauge({
      name: 'phoenix_queue_depth',
      help: 'Runs waiting for their turn (queued).',
      registers,
      collect: () => queueDepth.set(runs.queueDepth()),
    });
    const stagesRunning: Gauge = new Gauge({
      name: 'phoenix_stages_running',
      help: 'Stages running now, across all runs.',
      registers,
      collect: () =>
        stagesRunning.set(
          runs
            .unfinished()
            .reduce(
              (sum, run) => sum + run.stages.filter((stage) => stage.status === 'running').length,
              0,
            ),
        ),
    });
    const durations = new Histogram({
      name: 'phoenix_run_duration_seconds',
      help: 'Start-to-finish duration of runs that finished while this server ran, by status.',
      labelNames: ['status'],
      buckets: RUN_DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.requests = new Counter({
      name: 'phoenix_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.unsubscribes.push(
      bus.subscribe((event) => {
        if (event.type !== 'run.status' || !FINISHED_RUN_STATUSES.includes(event.status)) return;
        const { startedAt, finishedAt } = event.run;
        if (startedAt === undefined || finishedAt === undefined) return;
        const seconds = (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000;
        if (Number.isFinite(seconds) && seconds >= 0)
          durations.observe({ status: event.status }, seconds);
      }),
    );
    if (options.deployments !== undefined) {
      const sources = options.deployments;
      // Every collect of one scrape waits for the same reading: /proc is read once per scrape.
      const reading = shared(() => readNow(sources));
      registerEnvironmentGauges(registers, reading);
      registerInstanceMetrics(registers, reading);
      this.unsubscribes.push(sources.changes.subscribe(countFinishes(registers)));
    }
  }

  /** `route` is the route's pattern (`/api/runs/:id`), never the raw URL: labels stay few. */
  countRequest(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}

type Registers = Registry[];

/** What one scrape reads of the deployments and the runtime. */
interface Reading {
  environments: EnvironmentReading[];
  instances: InstanceReading[];
}

interface EnvironmentReading {
  service: string;
  environment: string;
  /** The status of the environment's newest deployment. */
  status: DeploymentStatus;
  /** Labels of the serving release's series; none when nothing serves. */
  serving?: ReleaseLabels;
}

interface InstanceReading {
  instance: Instance;
  labels: ReleaseLabels;
  stats?: { cpuSeconds: number; rssBytes: number };
}

/** A release in an environment; `target_group` only when the release is known. */
type ReleaseLabels = Record<'service' | 'environment' | 'release', string> & {
  target_group?: string;
};

/**
 * The same promise for every caller while one is under way, a new one afterwards: prom-client
 * collects all metrics of a scrape at once, and each scrape must see the present.
 */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

async function readNow(sources: DeploymentMetricsSources): Promise<Reading> {
  const labelsOf = releaseLabels(sources.releases);
  const environments: EnvironmentReading[] = [];
  for (const { name: service } of sources.services.list()) {
    for (const { environment, latest, servingReleaseId } of environmentStatus(
      sources.deployments,
      service,
    )) {
      const reading: EnvironmentReading = { service, environment, status: latest.status };
      if (servingReleaseId !== undefined)
        reading.serving = labelsOf(service, environment, servingReleaseId);
      environments.push(reading);
    }
  }
  // A stopped instance is history: it gets no series. A failed one still wants attention.
  const live = sources.runtime.list().filter((instance) => instance.status !== 'stopped');
  const instances = await Promise.all(
    live.map(async (instance): Promise<InstanceReading> => {
      const labels = labelsOf(instance.service, instance.environment, instance.releaseId);
      const stats = await sources.runtime.processStats?.(instance.id);
      return { instance, labels, ...(stats === undefined ? {} : { stats }) };
    }),
  );
  return { environments, instances };
}

/** Labels of releases in environments, each release read once per scrape. */
function releaseLabels(
  releases: DeploymentMetricsSources['releases'],
): (service: string, environment: string, release: string) => ReleaseLabels {
  const numbers = new Map<string, number | undefined>();
  return (service, environment, release) => {
    if (!numbers.has(release)) numbers.set(release, releaseNumber(releases, release));
    const number = numbers.get(release);
    const labels: ReleaseLabels = { service, environment, release };
    if (number !== undefined) labels.target_group = targetGroupName(service, environment, number);
    return labels;
  };
}

function releaseNumber(
  releases: DeploymentMetricsSources['releases'],
  id: string,
): number | undefined {
  try {
    return releases.get(id).number;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Per environment: its newest deployment's status and the release it serves. */
function registerEnvironmentGauges(registers: Registers, reading: () => Promise<Reading>): void {
  const newest: Gauge<'service' | 'environment' | 'status'> = new Gauge({
    name: 'phoenix_deployments',
    help: "Each environment's newest deployment (1), by status: the deployments in flight, and how the last one of each environment ended.",
    labelNames: ['service', 'environment', 'status'],
    registers,
    collect: async () => {
      const { environments } = await reading();
      newest.reset();
      for (const { service, environment, status } of environments) {
        newest.set({ service, environment, status }, 1);
      }
    },
  });
  const serving: Gauge<'service' | 'environment' | 'release' | 'target_group'> = new Gauge({
    name: 'phoenix_serving_release_info',
    help: 'The release production routes to in each environment (1), as the last finished deployment left it.',
    labelNames: ['service', 'environment', 'release', 'target_group'],
    registers,
    collect: async () => {
      const { environments } = await reading();
      serving.reset();
      for (const environment of environments) {
        if (environment.serving !== undefined) serving.set(environment.serving, 1);
      }
    },
  });
}

/** Series for the instances the runtime has now; gone instances lose theirs at the next scrape. */
function registerInstanceMetrics(registers: Registers, reading: () => Promise<Reading>): void {
  type Labels = keyof ReleaseLabels;
  const byStatus: Gauge<Labels | 'status'> = new Gauge({
    name: 'phoenix_instances',
    help: 'Instances of releases the runtime runs (stopped ones left out), by status.',
    labelNames: ['service', 'environment', 'release', 'target_group', 'status'],
    registers,
    collect: async () => {
      const { instances } = await reading();
      byStatus.reset();
      for (const { instance, labels } of instances) {
        byStatus.inc({ ...labels, status: instance.status });
      }
    },
  });
  const restarts: Counter<Labels | 'instance_id'> = new Counter({
    name: 'phoenix_instance_restarts_total',
    help: 'Restarts of each instance after it exited, as the runtime counts them.',
    labelNames: ['service', 'environment', 'release', 'target_group', 'instance_id'],
    registers,
    collect: async () => {
      const { instances } = await reading();
      restarts.reset();
      for (const { instance, labels } of instances) {
        restarts.inc({ ...labels, instance_id: instance.id }, instance.restarts);
      }
    },
  });
  const cpu: Counter<Labels | 'instance_id'> = new Counter({
    name: 'phoenix_instance_cpu_seconds_total',
    help: "User and system CPU time of each running instance's processes (the instance and its children).",
    labelNames: ['service', 'environment', 'release', 'target_group', 'instance_id'],
    registers,
    collect: async () => {
      const { instances } = await reading();
      cpu.reset();
      for (const { instance, labels, stats } of instances) {
        if (stats !== undefined) cpu.inc({ ...labels, instance_id: instance.id }, stats.cpuSeconds);
      }
    },
  });
  const memory: Gauge<Labels | 'instance_id'> = new Gauge({
    name: 'phoenix_instance_resident_memory_bytes',
    help: "Resident memory of each running instance's processes (the instance and its children).",
    labelNames: ['service', 'environment', 'release', 'target_group', 'instance_id'],
    registers,
    collect: async () => {
      const { instances } = await reading();
      memory.reset();
      for (const { instance, labels, stats } of instances) {
        if (stats !== undefined)
          memory.set({ ...labels, instance_id: instance.id }, stats.rssBytes);
      }
    },
  });
}

/**
 * Counts deployments as they finish and rollbacks as they start, from the changes the
 * controller records: a change whose newest event is `deployment.finished` (or
 * `rollback.started`) is that moment, seen once.
 */
function countFinishes(registers: Registers): DeploymentListener {
  const finished = new Counter({
    name: 'phoenix_deployments_finished_total',
    help: 'Deployments that finished while this server ran, by outcome.',
    labelNames: ['service', 'environment', 'outcome'],
    registers,
  });
  const rollbacks = new Counter({
    name: 'phoenix_deployment_rollbacks_total',
    help: `Rollbacks begun while this server ran, by cause: an alarm's name, health, crash-loop, aborted (a person), or ${UNNAMED_ROLLBACK_CAUSE}.`,
    labelNames: ['service', 'environment', 'cause'],
    registers,
  });
  const durations = new Histogram({
    name: 'phoenix_deployment_duration_seconds',
    help: 'Created-to-finished duration of deployments that finished while this server ran, by outcome.',
    labelNames: ['service', 'environment', 'outcome'],
    buckets: DEPLOYMENT_DURATION_BUCKETS_SECONDS,
    registers,
  });
  const known = new Set<string>();
  return (deployment) => {
    const { service, environment } = deployment;
    // Every outcome from 0 once the environment is seen, so that increase() sees the first.
    if (!known.has(`${service}\0${environment}`)) {
      known.add(`${service}\0${environment}`);
      for (const outcome of FINISHED_DEPLOYMENT_STATUSES)
        finished.inc({ service, environment, outcome }, 0);
    }
    const last = deployment.timeline.at(-1);
    if (last?.type === 'rollback.started') {
      rollbacks.inc({ service, environment, cause: rollbackCause(deployment, last) });
    }
    if (last?.type !== 'deployment.finished' || !isFinished(deployment.status)) return;
    const outcome = deployment.status;
    finished.inc({ service, environment, outcome });
    const seconds = secondsBetween(deployment.createdAt, deployment.finishedAt);
    if (seconds !== undefined) durations.observe({ service, environment, outcome }, seconds);
  };
}

function rollbackCause(deployment: Deployment, event: DeploymentEvent): string {
  const cause = event.data['cause'];
  if (typeof cause === 'string' && cause !== '') return cause;
  return deployment.outcome === 'aborted' ? 'aborted' : UNNAMED_ROLLBACK_CAUSE;
}

function secondsBetween(from: string, to: string | undefined): number | undefined {
  if (to === undefined) return undefined;
  const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
