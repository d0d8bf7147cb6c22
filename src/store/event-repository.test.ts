import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { openStore, type Store } from './store.js';

let scratch: string;
let store: Store;
let clock: number;
let runA: string;
let runB: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-events-'));
  clock = Date.UTC(2026, 0, 1);
  store = openStore(join(scratch, 'phoenix.db'), () => clock);
  store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/shop' } });
  const input = {
    service: 'shop',
    commit: 'abc',
    ref: 'refs/heads/main',
    trigger: { type: 'manual' as const, actor: 'me' },
    stages: [],
  };
  runA = store.runs.create(input).id;
  runB = store.runs.create(input).id;
});

afterEach(async () => {
  store.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('EventRepository', () => {
  it('returns a run’s events in append order, after a cursor, a page at a time', () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(store.events.append(runA, 'stage.status', { step: i }).id);
      store.events.append(runB, 'other', {});
      clock += 10;
    }

    const first = store.events.listSince(runA, 0, 3);
    const rest = store.events.listSince(runA, first.at(-1)?.id ?? 0, 10);

    expect([...first, ...rest].map((e) => e.data)).toEqual(
      [0, 1, 2, 3, 4].map((step) => ({ step })),
    );
    expect([...first, ...rest].map((e) => e.id)).toEqual(ids);
    expect(first[0]).toEqual({
      id: ids[0],
      runId: runA,
      time: '2026-01-01T00:00:00.000Z',
      type: 'stage.status',
      data: { step: 0 },
    });
    expect(store.events.listSince(runA, ids.at(-1) ?? 0, 10)).toEqual([]);
  });

  it('gives ever-growing ids, across runs and reopening', () => {
    const before = store.events.append(runA, 'a', {}).id;
    store.close();
    store = openStore(join(scratch, 'phoenix.db'), () => clock);

    const after = store.events.append(runB, 'b', {}).id;

    expect(after).toBeGreaterThan(before);
  });

  it('refuses an event for an unknown run', () => {
    expect(() => store.events.append('r_nope', 'x', {})).toThrow(NotFoundError);
  });

  it('is append-only even through SQL', () => {
    store.events.append(runA, 'run.status', { status: 'queued' });

    expect(() => store.db.prepare(`UPDATE run_events SET type = 'forged'`).run()).toThrow(
      /append-only/,
    );
    expect(store.events.listSince(runA, 0, 10)[0]?.type).toBe('run.status');
  });

  it('reads corrupt data as a PlatformError', () => {
    store.events.append(runA, 'x', {});
    store.db.exec('DROP TRIGGER run_events_append_only');
    store.db.prepare(`UPDATE run_events SET data_json = '"a string"'`).run();

    expect(() => store.events.listSince(runA, 0, 10)).toThrow(PlatformError);
  });
});
