import { afterEach, describe, expect, it } from 'vitest';
import { parseBuildspec, type Buildspec } from '../config/buildspec.js';
import { UnsupportedError } from '../shared/errors.js';
import { planBatch, type BatchPlan } from './batch-plan.js';
import { runBatch, type BatchTaskResult } from './batch-runner.js';
import type { BuildStatus, BuildSummary } from './build-result.js';
import type { BuildRequest, Executor } from './executor.js';

const REQUEST: BuildRequest = { sourceDirectory: '/src/app', project: 'app' };

/** How the fake runs one task: end at once with a status, or wait to be released or aborted. */
type Script = BuildStatus | 'wait' | 'reject';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * A real Executor for tests, scripted per batch identifier. It records what it was asked and
 * when, and it complains (in `problems`, and by rejecting) when the batch runner misuses it:
 * a task run twice, a task run before its dependencies ended, a run without an identifier.
 */
class FakeExecutor implements Executor {
  readonly events: string[] = [];
  readonly requests = new Map<string, BuildRequest>();
  readonly aborted = new Set<string>();
  readonly problems: string[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly starts = new Map<string, Deferred>();
  private readonly releases = new Map<string, (status: BuildStatus) => void>();

  constructor(
    private readonly plan: BatchPlan,
    private readonly scripts: Record<string, Script> = {},
  ) {
    executors.push(this);
  }

  async run(request: BuildRequest, signal?: AbortSignal): Promise<BuildSummary> {
    const id = request.batchIdentifier ?? '';
    const problem = this.misuse(id);
    if (problem !== undefined) {
      this.problems.push(problem);
      throw new Error(problem);
    }
    this.requests.set(id, request);
    this.events.push(`start:${id}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.started(id).resolve();
    try {
      return summary(id, await this.outcome(id, signal));
    } finally {
      this.inFlight--;
      this.events.push(`end:${id}`);
    }
  }

  /** Resolves once the task has started. */
  whenStarted(id: string): Promise<void> {
    return this.started(id).promise;
  }

  /** Ends a task scripted 'wait'. */
  release(id: string, status: BuildStatus): void {
    const release = this.releases.get(id);
    if (release === undefined) throw new Error(`${id} is not waiting`);
    release(status);
  }

  private misuse(id: string): string | undefined {
    if (id === '') return 'run without a batch identifier';
    if (this.requests.has(id)) return `${id} run twice`;
    const task = this.plan.tasks.find((candidate) => candidate.identifier === id);
    if (task === undefined) return `${id} is not in the plan`;
    const early = task.dependOn.find((dependency) => !this.events.includes(`end:${dependency}`));
    return early === undefined ? undefined : `${id} started before ${early} ended`;
  }

  private async outcome(id: string, signal: AbortSignal | undefined): Promise<BuildStatus> {
    const script = this.scripts[id] ?? 'SUCCEEDED';
    if (script === 'reject') throw new Error('no such source');
    if (script !== 'wait') return script;
    return new Promise<BuildStatus>((resolve) => {
      this.releases.set(id, resolve);
      const onAbort = (): void => {
        this.aborted.add(id);
        resolve('STOPPED');
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private started(id: string): Deferred {
    const existing = this.starts.get(id);
    if (existing !== undefined) return existing;
    const created = deferred();
    this.starts.set(id, created);
    return created;
  }
}

const executors: FakeExecutor[] = [];

afterEach(() => {
  const problems = executors.flatMap((executor) => executor.problems);
  executors.length = 0;
  expect(problems).toEqual([]);
});

function summary(id: string, status: BuildStatus): BuildSummary {
  return {
    buildId: `app:${id}`,
    buildNumber: 1,
    project: 'app',
    status,
    reason: status === 'SUCCEEDED' ? undefined : `${id} ended ${status}`,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 10,
    phases: [],
    exportedVariables: {},
    artifacts: [],
    reports: [],
    warnings: [],
    logFile: `/builds/${id}/build.log`,
  };
}

function spec(batch: string): Buildspec {
  return parseBuildspec(
    `version: 0.2\nbatch:\n${batch}\nphases:\n  build:\n    commands:\n      - make\n`,
    'buildspec.yml',
  );
}

function statuses(tasks: readonly BatchTaskResult[]): Record<string, string> {
  return Object.fromEntries(tasks.map((task) => [task.identifier, task.status]));
}

const LIST = spec(`
  build-list:
    - identifier: linux
      env:
        variables:
          TARGET: linux
    - identifier: windows
      buildspec: windows.yml
    - identifier: docs
`);

const GRAPH = `
  build-graph:
    - identifier: test_a
      depend-on: [build]
    - identifier: build
      IGNORE
    - identifier: test_b
      depend-on: [build]
    - identifier: deploy
      depend-on: [test_a, test_b]
`;

describe('runBatch with a build-list', () => {
  it('runs every task with its buildspec and variables, and succeeds when all succeed', async () => {
    const executor = new FakeExecutor(planBatch(LIST));
    const request = { ...REQUEST, buildspec: 'ci.yml', overrides: { MODE: 'release' } };

    const result = await runBatch({ executor, spec: LIST, request, concurrency: 3 });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.kind).toBe('build-list');
    expect(statuses(result.tasks)).toEqual({
      linux: 'SUCCEEDED',
      windows: 'SUCCEEDED',
      docs: 'SUCCEEDED',
    });
    expect(executor.requests.get('linux')).toEqual({
      ...request,
      buildspec: 'ci.yml',
      overrides: { TARGET: 'linux', MODE: 'release' },
      batchIdentifier: 'linux',
    });
    expect(executor.requests.get('windows')?.buildspec).toBe('windows.yml');
    expect(result.tasks.every((task) => task.summary?.status === 'SUCCEEDED')).toBe(true);
  });

  it("lets the command line's overrides win over a task's variables", async () => {
    const executor = new FakeExecutor(planBatch(LIST));

    await runBatch({
      executor,
      spec: LIST,
      request: { ...REQUEST, overrides: { TARGET: 'mine' } },
    });

    expect(executor.requests.get('linux')?.overrides).toEqual({ TARGET: 'mine' });
  });

  it('fails the batch when a task fails, and still runs the others', async () => {
    const executor = new FakeExecutor(planBatch(LIST), { windows: 'FAILED' });

    const result = await runBatch({ executor, spec: LIST, request: REQUEST });

    expect(result.status).toBe('FAILED');
    expect(statuses(result.tasks)).toEqual({
      linux: 'SUCCEEDED',
      windows: 'FAILED',
      docs: 'SUCCEEDED',
    });
    expect(result.tasks[1]?.reason).toBe('windows ended FAILED');
  });

  it('succeeds when only a task with ignore-failure fails', async () => {
    const batch = spec(`
  build-list:
    - identifier: stable
    - identifier: nightly
      ignore-failure: true
`);
    const executor = new FakeExecutor(planBatch(batch), { nightly: 'FAILED' });

    const result = await runBatch({ executor, spec: batch, request: REQUEST });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.tasks[1]).toMatchObject({
      identifier: 'nightly',
      status: 'FAILED',
      ignoreFailure: true,
    });
  });

  it('records a task whose build cannot start as FAULT', async () => {
    const executor = new FakeExecutor(planBatch(LIST), { docs: 'reject' });

    const result = await runBatch({ executor, spec: LIST, request: REQUEST });

    expect(result.status).toBe('FAILED');
    expect(result.tasks[2]).toEqual({
      identifier: 'docs',
      status: 'FAULT',
      reason: 'the build could not start: no such source',
      ignoreFailure: false,
    });
  });

  it('never runs more tasks at once than the concurrency allows', async () => {
    const batch = spec(
      `  build-list:\n${['a', 'b', 'c', 'd', 'e'].map((id) => `    - identifier: ${id}`).join('\n')}`,
    );
    const executor = new FakeExecutor(planBatch(batch));

    const result = await runBatch({ executor, spec: batch, request: REQUEST, concurrency: 2 });

    expect(result.tasks).toHaveLength(5);
    expect(executor.maxInFlight).toBe(2);
  });

  it('measures the batch with the injected clock', async () => {
    const times = [1_000, 4_500];
    const executor = new FakeExecutor(planBatch(LIST));

    const result = await runBatch({
      executor,
      spec: LIST,
      request: REQUEST,
      now: () => times.shift() ?? 0,
    });

    expect(result.durationMs).toBe(3_500);
  });
});

describe('runBatch with a build-graph', () => {
  const graph = spec(GRAPH.replace('IGNORE', 'env: {}'));

  it('starts a task only after its dependencies ended', async () => {
    const executor = new FakeExecutor(planBatch(graph));

    const result = await runBatch({ executor, spec: graph, request: REQUEST, concurrency: 4 });

    expect(result.status).toBe('SUCCEEDED');
    const events = executor.events;
    expect(events[0]).toBe('start:build');
    expect(events.indexOf('start:test_a')).toBeGreaterThan(events.indexOf('end:build'));
    expect(events.indexOf('start:deploy')).toBeGreaterThan(events.indexOf('end:test_a'));
    expect(events.indexOf('start:deploy')).toBeGreaterThan(events.indexOf('end:test_b'));
    expect(result.tasks.map((task) => task.identifier)).toEqual([
      'test_a',
      'build',
      'test_b',
      'deploy',
    ]);
  });

  it('skips the tasks that depend on a failed one, naming the dependency', async () => {
    const executor = new FakeExecutor(planBatch(graph), { build: 'FAILED' });
    const ended: string[] = [];

    const result = await runBatch({
      executor,
      spec: graph,
      request: REQUEST,
      onTaskEnd: (task) => ended.push(task.identifier),
    });

    expect(result.status).toBe('FAILED');
    expect(result.tasks).toEqual([
      {
        identifier: 'test_a',
        status: 'SKIPPED',
        reason: 'dependency build ended FAILED',
        ignoreFailure: false,
      },
      expect.objectContaining({ identifier: 'build', status: 'FAILED' }),
      {
        identifier: 'test_b',
        status: 'SKIPPED',
        reason: 'dependency build ended FAILED',
        ignoreFailure: false,
      },
      {
        identifier: 'deploy',
        status: 'SKIPPED',
        reason: 'dependency test_a was skipped',
        ignoreFailure: false,
      },
    ]);
    expect([...executor.requests.keys()]).toEqual(['build']);
    expect(ended.sort()).toEqual(['build', 'deploy', 'test_a', 'test_b']);
  });

  it('runs the dependents of a failed task that has ignore-failure', async () => {
    const lenient = spec(GRAPH.replace('IGNORE', 'ignore-failure: true'));
    const executor = new FakeExecutor(planBatch(lenient), { build: 'FAILED' });

    const result = await runBatch({ executor, spec: lenient, request: REQUEST });

    expect(result.status).toBe('SUCCEEDED');
    expect(statuses(result.tasks)).toEqual({
      test_a: 'SUCCEEDED',
      build: 'FAILED',
      test_b: 'SUCCEEDED',
      deploy: 'SUCCEEDED',
    });
  });
});

describe('runBatch with a build-matrix', () => {
  const matrix = spec(`
  build-matrix:
    static:
      ignore-failure: true
      env:
        variables:
          CI: true
          NODE: "16"
    dynamic:
      buildspec:
        - ci/unit.yml
        - ci/e2e.yml
      env:
        variables:
          NODE: [18, 20]
          OS:
            - linux
            - alpine
`);

  it('runs one task per combination of buildspec and variable values', async () => {
    const executor = new FakeExecutor(planBatch(matrix));

    const result = await runBatch({ executor, spec: matrix, request: REQUEST, concurrency: 8 });

    expect(result.kind).toBe('build-matrix');
    expect(result.tasks.map((task) => task.identifier)).toEqual([
      'ci_unit_yml_NODE_18_OS_linux',
      'ci_unit_yml_NODE_18_OS_alpine',
      'ci_unit_yml_NODE_20_OS_linux',
      'ci_unit_yml_NODE_20_OS_alpine',
      'ci_e2e_yml_NODE_18_OS_linux',
      'ci_e2e_yml_NODE_18_OS_alpine',
      'ci_e2e_yml_NODE_20_OS_linux',
      'ci_e2e_yml_NODE_20_OS_alpine',
    ]);
    expect(executor.requests.get('ci_e2e_yml_NODE_20_OS_linux')).toMatchObject({
      buildspec: 'ci/e2e.yml',
      overrides: { CI: 'true', NODE: '20', OS: 'linux' },
    });
    expect(executor.requests.get('ci_unit_yml_NODE_18_OS_alpine')).toMatchObject({
      buildspec: 'ci/unit.yml',
      overrides: { CI: 'true', NODE: '18', OS: 'alpine' },
    });
    expect(result.tasks.every((task) => task.ignoreFailure)).toBe(true);
  });

  it('applies static ignore-failure to every task', async () => {
    const executor = new FakeExecutor(planBatch(matrix), {
      ci_e2e_yml_NODE_20_OS_alpine: 'FAILED',
    });

    const result = await runBatch({ executor, spec: matrix, request: REQUEST });

    expect(result.status).toBe('SUCCEEDED');
    expect(result.tasks.filter((task) => task.status === 'FAILED')).toHaveLength(1);
  });
});

describe('fast-fail and stopping', () => {
  const batch = spec(`
  fast-fail: true
  build-list:
    - identifier: quick
    - identifier: slow
    - identifier: later
`);

  it('with fast-fail, aborts the running tasks and skips the rest when one fails', async () => {
    const executor = new FakeExecutor(planBatch(batch), { quick: 'FAILED', slow: 'wait' });

    const result = await runBatch({ executor, spec: batch, request: REQUEST, concurrency: 2 });

    expect(result.status).toBe('FAILED');
    expect(executor.aborted).toEqual(new Set(['slow']));
    expect(result.tasks).toEqual([
      expect.objectContaining({ identifier: 'quick', status: 'FAILED' }),
      expect.objectContaining({ identifier: 'slow', status: 'STOPPED' }),
      {
        identifier: 'later',
        status: 'SKIPPED',
        reason: 'fast-fail: task quick ended FAILED',
        ignoreFailure: false,
      },
    ]);
    expect(executor.requests.has('later')).toBe(false);
  });

  it('without fast-fail, lets the other tasks finish', async () => {
    const patient = spec(`
  build-list:
    - identifier: quick
    - identifier: slow
    - identifier: later
`);
    const executor = new FakeExecutor(planBatch(patient), { quick: 'FAILED', slow: 'wait' });

    const running = runBatch({ executor, spec: patient, request: REQUEST, concurrency: 2 });
    await executor.whenStarted('later');
    executor.release('slow', 'SUCCEEDED');
    const result = await running;

    expect(statuses(result.tasks)).toEqual({
      quick: 'FAILED',
      slow: 'SUCCEEDED',
      later: 'SUCCEEDED',
    });
    expect(executor.aborted.size).toBe(0);
  });

  it('on an outer abort, stops the running tasks, skips the pending ones and ends STOPPED', async () => {
    const executor = new FakeExecutor(planBatch(batch), { quick: 'wait', slow: 'wait' });
    const controller = new AbortController();
    const started: string[] = [];

    const running = runBatch({
      executor,
      spec: batch,
      request: REQUEST,
      signal: controller.signal,
      onTaskStart: (id) => started.push(id),
    });
    await executor.whenStarted('slow');
    controller.abort();
    const result = await running;

    expect(result.status).toBe('STOPPED');
    expect(executor.aborted).toEqual(new Set(['quick', 'slow']));
    expect(started).toEqual(['quick', 'slow']);
    expect(statuses(result.tasks)).toEqual({
      quick: 'STOPPED',
      slow: 'STOPPED',
      later: 'SKIPPED',
    });
    expect(result.tasks[2]?.reason).toBe('the batch was stopped');
  });

  it('runs nothing when the signal is already aborted', async () => {
    const executor = new FakeExecutor(planBatch(LIST));

    const result = await runBatch({
      executor,
      spec: LIST,
      request: REQUEST,
      signal: AbortSignal.abort(),
    });

    expect(result.status).toBe('STOPPED');
    expect(result.tasks.every((task) => task.status === 'SKIPPED')).toBe(true);
    expect(executor.requests.size).toBe(0);
  });
});

describe('runBatch with a plan it refuses', () => {
  it('refuses a buildspec without a batch section', async () => {
    const plain = parseBuildspec(
      'version: 0.2\nphases:\n  build:\n    commands: [make]\n',
      'b.yml',
    );

    expect(() => planBatch(plain)).toThrow(UnsupportedError);
    expect(() => planBatch(plain)).toThrow('the buildspec has no batch section');
    await expect(
      runBatch({ executor: new FakeExecutor(planBatch(LIST)), spec: plain, request: REQUEST }),
    ).rejects.toThrow(UnsupportedError);
  });
});
