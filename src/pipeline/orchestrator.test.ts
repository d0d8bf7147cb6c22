import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findMarkedProcesses } from '../build/process-reaper.js';
import { parsePhoenixConfig } from '../config/phoenix-config.js';
import { ConflictError } from '../shared/errors.js';
import {
  gatedBuildspec,
  PHOENIX_YML,
  PipelineFixture,
} from '../../test/support/pipeline-fixture.js';
import { stagesFor } from './orchestrator.js';
import type { Run } from './run.js';

const PASSING =
  'version: 0.2\nphases:\n  build:\n    commands:\n      - echo "built $CODEBUILD_RESOLVED_SOURCE_VERSION run $PHOENIX_RUN_NUMBER on $PHOENIX_BRANCH ($CODEBUILD_WEBHOOK_TRIGGER $CODEBUILD_WEBHOOK_EVENT by $CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID)"\n';

function statuses(run: Run): string[] {
  return [`run:${run.status}`, ...run.stages.map((stage) => `${stage.name}:${stage.status}`)];
}

describe('Orchestrator', () => {
  let f: PipelineFixture;

  beforeEach(() => {
    f = new PipelineFixture();
  });

  afterEach(async () => {
    await f.close();
  });

  it('runs a pushed commit through source and build, recording everything', async () => {
    const commit = await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    const logs: string[] = [];
    f.bus.subscribe((event) => event.type === 'log' && logs.push(event.line.text));

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual(['run:succeeded', 'source:succeeded', 'build:succeeded']);
    expect(run.number).toBe(1);
    expect(run.stages[1]?.externalId).toMatch(/^shop:/);
    expect(run.stages[1]?.output).toMatchObject({ status: 'SUCCEEDED' });
    expect(logs).toContain(`built ${commit} run 1 on main (branch/main PUSH by test)`);
    const types = f.store.events.listSince(run.id, 0, 100).map((event) => event.type);
    expect(types[0]).toBe('run.created');
    expect(types).toContain('stage.started');
    expect(types.at(-1)).toBe('run.finished');
  });

  it('records a failed run with the validation errors when phoenix.yml is invalid', async () => {
    const commit = await f.init({
      'phoenix.yml': 'service: shop\nexecution-mode: fastest\n',
      'buildspec.yml': PASSING,
    });

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual(['run:failed', 'source:failed']);
    expect(run.reason).toMatch(/^invalid configuration: phoenix.yml:2:\d+: execution-mode: /);
  });

  it('records a failed run when phoenix.yml names another service', async () => {
    const commit = await f.init({ 'phoenix.yml': 'service: billing\n', 'buildspec.yml': PASSING });

    const run = await f.finished(await f.submit(commit));

    expect(run.reason).toContain(
      'this repository belongs to service "shop", but phoenix.yml names "billing"',
    );
  });

  it('ignores a push its trigger does not match, saying why', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML('trigger:\n  branches: [main]\n'),
      'buildspec.yml': PASSING,
    });

    const result = await f.orchestrator.submit({
      service: 'shop',
      ref: 'refs/heads/feature/x',
      commit,
      trigger: { type: 'push', actor: 't' },
    });

    expect(result).toEqual({ ignored: expect.stringContaining('feature/x') });
    expect(f.store.runs.list({ limit: 10 })).toHaveLength(0);
  });

  it('fails a run whose tests fail, without retrying it', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML().replace('retries: 0', 'retries: 2'),
      'buildspec.yml':
        'version: 0.2\nphases:\n  build:\n    commands:\n      - echo "1 test failed"; exit 1\n',
    });

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual(['run:failed', 'source:succeeded', 'build:failed']);
    expect(run.stages[1]?.platformFailure).toBe(false);
    expect(run.stages[1]?.output).toMatchObject({ buildNumber: 1 });
  });

  it('retries a build killed for a platform reason', async () => {
    const marker = join(f.dir.path, 'killed-once');
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML().replace('retries: 0', 'retries: 1'),
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - 'if [ ! -f ${marker} ]; then touch ${marker}; kill -9 $BASHPID; fi; echo survived'\n`,
    });

    const run = await f.finished(await f.submit(commit));

    expect(statuses(run)).toEqual(['run:succeeded', 'source:succeeded', 'build:succeeded']);
    expect(run.stages[1]?.output).toMatchObject({ buildNumber: 2 });
  });

  it('cancels a running build, killing its processes', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(),
      'buildspec.yml': gatedBuildspec(join(f.dir.path, 'never')),
    });
    const waiting = f.next((event) => event.type === 'log' && event.line.text === 'waiting');
    const run = await f.submit(commit);
    await waiting;

    const cancelled = await f.orchestrator.cancel(run.id, 'alice');

    expect(statuses(cancelled)).toEqual(['run:cancelled', 'source:succeeded', 'build:cancelled']);
    expect(await findMarkedProcesses(cancelled.stages[1]?.externalId ?? '')).toEqual([]);
    await expect(f.orchestrator.cancel(run.id, 'alice')).rejects.toBeInstanceOf(ConflictError);
  });

  it('runs one at a time, in order, in queued mode', async () => {
    const gate = join(f.dir.path, 'go');
    const first = await f.init({
      'phoenix.yml': PHOENIX_YML('execution-mode: queued\n'),
      'buildspec.yml': gatedBuildspec(gate, 'first'),
    });
    const waiting = f.next((event) => event.type === 'log' && event.line.text === 'waiting');
    const a = await f.submit(first);
    await waiting;
    const second = f.push({ 'buildspec.yml': PASSING });
    const b = await f.submit(second);
    const c = await f.submit(f.push({ 'README.md': 'c' }));

    expect(f.store.runs.get(b.id).status).toBe('queued');
    writeFileSync(gate, '');
    const [doneA, doneB, doneC] = [await f.finished(a), await f.finished(b), await f.finished(c)];

    expect([doneA.status, doneB.status, doneC.status]).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(doneB.startedAt && doneA.finishedAt && doneB.startedAt >= doneA.finishedAt).toBe(true);
    expect(doneC.startedAt && doneB.finishedAt && doneC.startedAt >= doneB.finishedAt).toBe(true);
  });

  it('supersedes a run waiting for the build when a newer one arrives (superseded mode)', async () => {
    const gate = join(f.dir.path, 'go');
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(),
      'buildspec.yml': gatedBuildspec(gate),
    });
    const waiting = f.next((event) => event.type === 'log' && event.line.text === 'waiting');
    const a = await f.submit(commit);
    await waiting;
    const b = await f.submit(f.push({ 'b.txt': 'b' }));
    const c = await f.submit(f.push({ 'c.txt': 'c' }));

    const superseded = await f.finished(b);
    writeFileSync(gate, '');
    const [doneA, doneC] = [await f.finished(a), await f.finished(c)];

    expect(superseded.status).toBe('superseded');
    expect(superseded.reason).toBe(`superseded by run #3 (${c.commit.slice(0, 12)})`);
    expect([doneA.status, doneC.status]).toEqual(['succeeded', 'succeeded']);
  });

  it('runs everything at once in parallel mode', async () => {
    const gate = join(f.dir.path, 'go');
    const waiting = new Set<string>();
    const bothWaiting = new Promise<void>((resolve) =>
      f.bus.subscribe((event) => {
        if (event.type === 'log' && event.line.text === 'waiting') waiting.add(event.runId);
        if (waiting.size === 2) resolve();
      }),
    );
    const a = await f.submit(
      await f.init({
        'phoenix.yml': PHOENIX_YML('execution-mode: parallel\n'),
        'buildspec.yml': gatedBuildspec(gate),
      }),
    );
    const b = await f.submit(f.push({ 'b.txt': 'b' }));

    await bothWaiting;
    writeFileSync(gate, '');

    expect([...waiting].sort()).toEqual([a.id, b.id].sort());
    expect((await f.finished(a)).status).toBe('succeeded');
    expect((await f.finished(b)).status).toBe('succeeded');
  });

  it('retries only the failed stage of a failed run, by hand', async () => {
    const fixed = join(f.dir.path, 'fixed');
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(),
      'buildspec.yml': `version: 0.2\nphases:\n  build:\n    commands:\n      - test -f ${fixed}\n`,
    });
    const failed = await f.finished(await f.submit(commit));
    writeFileSync(fixed, '');

    await f.orchestrator.retry(failed.id, 'bob');
    const retried = await f.finished(failed);

    expect(failed.status).toBe('failed');
    expect(statuses(retried)).toEqual(['run:succeeded', 'source:succeeded', 'build:succeeded']);
    expect(retried.stages[0]?.attempt).toBe(1);
    expect(retried.stages[1]?.attempt).toBe(2);
    await expect(f.orchestrator.retry(retried.id, 'bob')).rejects.toBeInstanceOf(ConflictError);
  });

  /** A run recorded as building when the control plane died, with an orphan build process. */
  function interruptedRun(commit: string): Run {
    let run = f.store.runs.create({
      service: 'shop',
      commit,
      ref: 'refs/heads/main',
      trigger: { type: 'push', actor: 't' },
      stages: [
        { name: 'source', kind: 'source' },
        { name: 'build', kind: 'build' },
      ],
    });
    run = f.store.runs.transition(run.id, 'running');
    run = f.store.runs.transitionStage(run.id, 0, 'running');
    run = f.store.runs.transitionStage(run.id, 0, 'succeeded');
    return f.store.runs.transitionStage(run.id, 1, 'running', { externalId: 'shop:orphan-build' });
  }

  it('after a restart, fails the stage that was running, kills its processes and resumes the run', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML().replace('retries: 0', 'retries: 1'),
      'buildspec.yml': PASSING,
    });
    const run = interruptedRun(commit);
    const orphan = spawn('sleep', ['300'], {
      env: { ...process.env, PHOENIX_BUILD_ID: 'shop:orphan-build' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => orphan.on('exit', resolve));
    f.orchestrator = f.createOrchestrator();

    const recovered = await f.orchestrator.recover();
    const done = await f.finished(run);

    expect(recovered).toEqual({ resumed: 1, failed: 0 });
    await exited;
    expect(existsSync(`/proc/${orphan.pid}`) && orphan.exitCode === null).toBe(false);
    expect(statuses(done)).toEqual(['run:succeeded', 'source:succeeded', 'build:succeeded']);
    expect(done.stages[1]?.attempt).toBe(2);
    const stageEvents = f.store.events
      .listSince(run.id, 0, 100)
      .filter((event) => event.type === 'stage.status');
    expect(stageEvents.map((event) => event.data['reason'])).toContain(
      'the Phoenix server stopped while this stage ran',
    );
  });

  it('after a restart, fails a run whose interrupted build has no retries left, saying why', async () => {
    const commit = await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    const run = interruptedRun(commit);
    f.orchestrator = f.createOrchestrator();

    const recovered = await f.orchestrator.recover();
    const done = f.store.runs.get(run.id);

    expect(recovered).toEqual({ resumed: 0, failed: 1 });
    expect(statuses(done)).toEqual(['run:failed', 'source:succeeded', 'build:failed']);
    expect(done.reason).toBe(
      'build failed: the Phoenix server stopped while this stage ran (attempt 1; build.retries is 0)',
    );
  });

  it('refuses a second retry of the same run while the first is under way', async () => {
    const commit = await f.init({
      'phoenix.yml': PHOENIX_YML(),
      'buildspec.yml': 'version: 0.2\nphases:\n  build:\n    commands:\n      - exit 1\n',
    });
    const failed = await f.finished(await f.submit(commit));

    const outcomes = await Promise.allSettled([
      f.orchestrator.retry(failed.id, 'a'),
      f.orchestrator.retry(failed.id, 'b'),
      f.orchestrator.retry(failed.id, 'c'),
    ]);
    const done = await f.finished(failed);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(
      outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => (o as PromiseRejectedResult).reason),
    ).toEqual([expect.any(ConflictError), expect.any(ConflictError)]);
    expect(done.status).toBe('failed');
    expect(done.reason).toBe(
      'build failed: COMMAND_EXECUTION_ERROR: Error while executing command: exit 1. Reason: exit status 1 (buildspec.yml:5, phases.build.commands[0])',
    );
    expect(done.stages[1]?.attempt).toBe(2);
  });
});

describe('stagesFor', () => {
  const config = parsePhoenixConfig(
    [
      'service: shop',
      'release: { start: npm start }',
      'environments:',
      '  - name: preview',
      "    branches: ['feature/**']",
      '  - name: dev',
      '  - name: prod',
      '    branches: [main]',
      '',
    ].join('\n'),
    'phoenix.yml',
  );

  it.each([
    ['refs/heads/main', 'deploy:dev'],
    ['refs/heads/feature/cart', 'deploy:preview'],
    ['refs/heads/release/1.2', 'deploy:dev'],
    ['refs/tags/v1.0.0', 'deploy:dev'],
  ])('deploys a run of %s to the first environment that takes it: %s', (ref, deploy) => {
    expect(stagesFor(config, ref)).toEqual([
      { name: 'source', kind: 'source' },
      { name: 'build', kind: 'build' },
      { name: 'release', kind: 'release' },
      { name: deploy, kind: 'deploy' },
    ]);
  });

  it.each([
    [
      'no environments',
      'service: shop\nrelease: { start: npm start }\n',
      ['source', 'build', 'release'],
    ],
    ['no release', 'service: shop\n', ['source', 'build']],
    [
      'no environment for the branch',
      'service: shop\nrelease: { start: x }\nenvironments:\n  - name: prod\n    branches: [main]\n',
      ['source', 'build', 'release'],
    ],
  ])('adds no deploy stage with %s', (_name, text, stages) => {
    const names = stagesFor(parsePhoenixConfig(text, 'phoenix.yml'), 'refs/heads/feature/x').map(
      (stage) => stage.name,
    );

    expect(names).toEqual(stages);
  });
});
