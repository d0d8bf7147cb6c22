import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUN_TRANSITIONS, STAGE_TRANSITIONS, type Run, type RunStatus } from '../pipeline/run.js';
import type { EventStore, RunStore } from '../pipeline/ports.js';
import type { TransitionTable } from '../pipeline/state-machine.js';
import { IllegalTransitionError, NotFoundError, PlatformError } from '../shared/errors.js';
import type { NewRun } from './run-repository.js';
import type { Store } from './store.js';
import { openScratchStore, type ScratchStore } from './testing/scratch-store.js';

let scratch: ScratchStore;
let store: Store;
let clock: number;

const START = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(async () => {
  clock = START;
  scratch = await openScratchStore({
    prefix: 'phoenix-runs-',
    now: () => clock,
    services: ['shop', 'api'],
  });
  store = scratch.store;
});

afterEach(async () => {
  await scratch.close();
});

function newRun(overrides: Partial<NewRun> = {}): Run {
  return store.runs.create({
    service: 'shop',
    commit: 'c0ffee',
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice', detail: 'delivery-1' },
    stages: [
      { name: 'source', kind: 'source' },
      { name: 'build', kind: 'build' },
    ],
    ...overrides,
  });
}

/** Every (from, to) pair of a table, with whether the table allows it. */
function pairs<S extends string>(table: TransitionTable<S>): [S, S, boolean][] {
  const statuses = Object.keys(table).filter((s): s is S => s in table);
  return statuses.flatMap((from) =>
    statuses.map((to): [S, S, boolean] => [from, to, table[from].includes(to)]),
  );
}

/** Arrange: put a run or stage straight into a status, bypassing the table. */
function force(sql: string, ...params: (string | number)[]): void {
  store.db.prepare(sql).run(...params);
}

describe('RunRepository.create', () => {
  it('implements the pipeline’s ports (checked by the compiler)', () => {
    const ports: { runs: RunStore; events: EventStore } = store;

    expect(ports.runs).toBe(store.runs);
  });

  it('records a queued run with pending stages', () => {
    const run = newRun();

    expect(run).toMatchObject({
      service: 'shop',
      number: 1,
      status: 'queued',
      commit: 'c0ffee',
      ref: 'refs/heads/main',
      trigger: { type: 'push', actor: 'alice', detail: 'delivery-1' },
      createdAt: iso(START),
    });
    expect(run.id).toMatch(/^r_[0-9a-z]{17}$/);
    expect(run.stages).toEqual([
      { runId: run.id, index: 0, name: 'source', kind: 'source', status: 'pending', attempt: 0 },
      { runId: run.id, index: 1, name: 'build', kind: 'build', status: 'pending', attempt: 0 },
    ]);
    expect(store.runs.get(run.id)).toEqual(run);
  });

  it('numbers runs per service, consecutively', () => {
    const numbers = [newRun(), newRun({ service: 'api' }), newRun(), newRun()].map((r) => [
      r.service,
      r.number,
    ]);

    expect(numbers).toEqual([
      ['shop', 1],
      ['api', 1],
      ['shop', 2],
      ['shop', 3],
    ]);
    expect(store.runs.getByNumber('shop', 3).number).toBe(3);
  });

  it('gives unique ids that sort by creation time', () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      ids.push(newRun().id);
      clock += i % 3;
    }

    expect(new Set(ids).size).toBe(50);
    const byTime = ids.map((id) => id.slice(0, 11));
    expect([...byTime].sort()).toEqual(byTime);
  });

  it('refuses a run of an unknown service and records nothing', () => {
    expect(() => newRun({ service: 'ghost' })).toThrow(NotFoundError);

    expect(store.runs.list({ limit: 10 })).toEqual([]);
  });

  it.each([
    ['get', (s: Store) => s.runs.get('r_missing')],
    ['getByNumber', (s: Store) => s.runs.getByNumber('shop', 99)],
    ['transition', (s: Store) => s.runs.transition('r_missing', 'running')],
    ['transitionStage', (s: Store) => s.runs.transitionStage('r_missing', 0, 'running')],
  ])('%s of an unknown run throws NotFoundError', (_name, call) => {
    expect(() => call(store)).toThrow(NotFoundError);
  });

  it('throws NotFoundError for a stage index the run does not have', () => {
    const run = newRun();

    expect(() => store.runs.transitionStage(run.id, 2, 'running')).toThrow(NotFoundError);
  });
});

describe('run transitions follow RUN_TRANSITIONS', () => {
  it.each(pairs(RUN_TRANSITIONS))('%s → %s allowed: %s', (from, to, allowed) => {
    const run = newRun();
    force('UPDATE runs SET status = ? WHERE id = ?', from, run.id);

    const move = () => store.runs.transition(run.id, to);

    if (allowed) {
      expect(move().status).toBe(to);
      expect(store.runs.get(run.id).status).toBe(to);
    } else {
      expect(move).toThrow(IllegalTransitionError);
      expect(store.runs.get(run.id).status).toBe(from);
    }
  });
});

describe('stage transitions follow STAGE_TRANSITIONS', () => {
  it.each(pairs(STAGE_TRANSITIONS))('%s → %s allowed: %s', (from, to, allowed) => {
    const run = newRun();
    force('UPDATE stages SET status = ? WHERE run_id = ? AND idx = 1', from, run.id);

    const move = () => store.runs.transitionStage(run.id, 1, to);

    if (allowed) {
      expect(move().stages[1]?.status).toBe(to);
    } else {
      expect(move).toThrow(IllegalTransitionError);
      expect(store.runs.get(run.id).stages[1]?.status).toBe(from);
    }
  });
});

describe('transition bookkeeping', () => {
  it('stamps the first start and the finish; a retry clears the finish and the reason', () => {
    const run = newRun();
    clock = START + 1000;
    store.runs.transition(run.id, 'running');
    clock = START + 5000;
    const failed = store.runs.transition(run.id, 'failed', { reason: 'build failed' });
    clock = START + 9000;

    store.runs.transition(run.id, 'queued', { reason: 'retried by bob' });
    const retried = store.runs.transition(run.id, 'running');

    expect(failed).toMatchObject({
      startedAt: iso(START + 1000),
      finishedAt: iso(START + 5000),
      reason: 'build failed',
    });
    expect(retried.startedAt).toBe(iso(START + 1000));
    expect(retried.finishedAt).toBeUndefined();
    expect(retried.reason).toBeUndefined();
  });

  it('takes explicit times over the clock', () => {
    const run = newRun();

    const moved = store.runs.transition(run.id, 'cancelled', { finishedAt: iso(START + 42) });

    expect(moved.finishedAt).toBe(iso(START + 42));
  });

  it('starts a new stage attempt on each move to running, fresh of the last one', () => {
    const run = newRun();
    store.runs.transitionStage(run.id, 1, 'running', { logPath: '/logs/1', externalId: 'b1' });
    clock = START + 3000;
    const failed = store.runs.transitionStage(run.id, 1, 'failed', {
      reason: 'killed',
      platformFailure: true,
      output: { exitCode: 137 },
    });
    clock = START + 4000;

    const retried = store.runs.transitionStage(run.id, 1, 'running', { logPath: '/logs/2' });

    expect(failed.stages[1]).toMatchObject({
      status: 'failed',
      attempt: 1,
      startedAt: iso(START),
      finishedAt: iso(START + 3000),
      reason: 'killed',
      platformFailure: true,
      logPath: '/logs/1',
      externalId: 'b1',
      output: { exitCode: 137 },
    });
    expect(retried.stages[1]).toEqual({
      runId: run.id,
      index: 1,
      name: 'build',
      kind: 'build',
      status: 'running',
      attempt: 2,
      startedAt: iso(START + 4000),
      logPath: '/logs/2',
    });
  });

  it('records what a running stage started without changing its status', () => {
    const run = newRun();
    store.runs.transitionStage(run.id, 1, 'running', { logPath: '/logs/1' });

    const updated = store.runs.updateStage(run.id, 1, { externalId: 'b7', output: { a: 1 } });

    expect(updated.stages[1]).toMatchObject({
      status: 'running',
      attempt: 1,
      logPath: '/logs/1',
      externalId: 'b7',
      output: { a: 1 },
    });
    expect(() => store.runs.updateStage(run.id, 5, {})).toThrow(NotFoundError);
  });

  it('refuses a time that is not ISO 8601', () => {
    const run = newRun();

    expect(() => store.runs.transition(run.id, 'running', { startedAt: 'yesterday' })).toThrow(
      RangeError,
    );
    expect(store.runs.get(run.id).status).toBe('queued');
  });

  it('keeps a change and its event together, or neither, in a caller transaction', () => {
    const run = newRun();
    const both = store.db.transaction(() => {
      store.runs.transition(run.id, 'running');
      store.events.append(run.id, 'run.status', { status: 'running' });
      throw new Error('crash before commit');
    });

    expect(() => both()).toThrow('crash before commit');

    expect(store.runs.get(run.id).status).toBe('queued');
    expect(store.events.listSince(run.id, 0, 10)).toEqual([]);
  });
});

describe('RunRepository queries', () => {
  it('lists newest first, filtered, a page at a time', () => {
    const created: Run[] = [];
    for (let i = 0; i < 7; i++) created.push(newRun({ service: i % 2 === 0 ? 'shop' : 'api' }));
    const newestFirst = created.map((r) => r.id).reverse();

    const page1 = store.runs.list({ limit: 3 });
    const page2 = store.runs.list({ limit: 3, before: page1.at(-1)?.id });
    const page3 = store.runs.list({ limit: 3, before: page2.at(-1)?.id });

    expect([...page1, ...page2, ...page3].map((r) => r.id)).toEqual(newestFirst);
    expect(page3).toHaveLength(1);
    expect(page1[0]?.stages).toHaveLength(2);
    expect(store.runs.list({ service: 'api', limit: 10 }).map((r) => r.number)).toEqual([3, 2, 1]);
  });

  it('filters by one status or several', () => {
    const [a, b, c] = [newRun(), newRun(), newRun()];
    if (a === undefined || b === undefined || c === undefined) throw new Error('unreachable');
    store.runs.transition(a.id, 'running');
    store.runs.transition(b.id, 'cancelled');

    expect(store.runs.list({ status: 'running', limit: 10 }).map((r) => r.id)).toEqual([a.id]);
    expect(
      store.runs
        .list({ status: ['queued', 'cancelled'], limit: 10, service: 'shop' })
        .map((r) => r.id),
    ).toEqual([c.id, b.id]);
  });

  it('refuses an unknown cursor', () => {
    expect(() => store.runs.list({ limit: 5, before: 'r_nope' })).toThrow(NotFoundError);
  });

  it('finds unfinished runs oldest first, counts statuses and the queue', () => {
    const runs = Array.from({ length: 6 }, () => newRun());
    const [queued, running, waiting, succeeded, failed] = runs.map((r) => r.id);
    const to = (id: string | undefined, ...path: RunStatus[]) => {
      for (const status of path) store.runs.transition(id ?? '', status);
    };
    to(running, 'running');
    to(waiting, 'running', 'waiting');
    to(succeeded, 'running', 'succeeded');
    to(failed, 'failed');

    expect(store.runs.unfinished().map((r) => r.id)).toEqual([
      queued,
      running,
      waiting,
      runs[5]?.id,
    ]);
    expect(store.runs.countByStatus()).toEqual({
      queued: 2,
      running: 1,
      waiting: 1,
      succeeded: 1,
      failed: 1,
      cancelled: 0,
      superseded: 0,
    });
    expect(store.runs.queueDepth()).toBe(2);
  });

  it('sums durations of finished runs that started, by status', () => {
    const finish = (status: RunStatus, ms: number) => {
      const run = newRun();
      store.runs.transition(run.id, 'running', { startedAt: iso(START) });
      store.runs.transition(run.id, status, { finishedAt: iso(START + ms) });
    };
    finish('succeeded', 1000);
    finish('succeeded', 3000);
    finish('failed', 500);
    store.runs.transition(newRun().id, 'cancelled');
    store.runs.transition(newRun().id, 'running');

    expect(store.runs.durationStats()).toEqual([
      { status: 'failed', count: 1, sumMs: 500 },
      { status: 'succeeded', count: 2, sumMs: 4000 },
    ]);
  });
});

describe('corrupt JSON columns', () => {
  it.each([
    ['trigger not JSON', 'UPDATE runs SET trigger_json = ? WHERE id = ?', '{oops'],
    ['trigger of the wrong shape', 'UPDATE runs SET trigger_json = ? WHERE id = ?', '{"type":"x"}'],
    ['output not an object', 'UPDATE stages SET output_json = ? WHERE run_id = ?', '[1,2]'],
  ])('%s reads as a PlatformError', (_name, sql, value) => {
    const run = newRun();
    force(sql, value, run.id);

    expect(() => store.runs.get(run.id)).toThrow(PlatformError);
  });
});
