import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePhoenixConfig, type ReleaseConfig } from '../config/phoenix-config.js';
import type { NewRelease, Release } from '../release/release.js';
import { ConflictError, NotFoundError, PlatformError } from '../shared/errors.js';
import { openDatabase } from './database.js';
import { MIGRATIONS } from './migrations.js';
import { openStore, type Store } from './store.js';
import { openScratchStore, type ScratchStore } from './testing/scratch-store.js';

let scratch: ScratchStore;
let store: Store;
let clock: number;

const START = Date.UTC(2026, 0, 1);
const DIGEST = `sha256:${'ab'.repeat(32)}`;

function releaseConfig(extra = ''): ReleaseConfig {
  const text = `service: shop\nrelease:\n  start: node server.js\n  instances: 2\n${extra}`;
  const config = parsePhoenixConfig(text, 'phoenix.yml').release;
  if (config === undefined) throw new Error('no release section');
  return config;
}

beforeEach(async () => {
  clock = START;
  scratch = await openScratchStore({
    prefix: 'phoenix-releases-',
    now: () => clock,
    services: ['shop', 'api'],
  });
  store = scratch.store;
});

afterEach(async () => {
  await scratch.close();
});

function newRunId(service = 'shop'): string {
  return store.runs.create({
    service,
    commit: 'c0ffee',
    ref: 'refs/heads/main',
    trigger: { type: 'push', actor: 'alice' },
    stages: [{ name: 'source', kind: 'source' }],
  }).id;
}

function newRelease(overrides: Partial<NewRelease> = {}): Release {
  const service = overrides.service ?? 'shop';
  return store.releases.create({
    service,
    runId: newRunId(service),
    commit: 'c0ffee',
    artifact: { name: 'shop-web', digest: DIGEST },
    config: releaseConfig(),
    ...overrides,
  });
}

describe('ReleaseRepository.create', () => {
  it('records a release with its artifact and a snapshot of the release settings', () => {
    const runId = newRunId();
    const config = releaseConfig('  health-check:\n    path: /ready\n    matcher: 200,204\n');

    const release = store.releases.create({
      service: 'shop',
      runId,
      commit: 'c0ffee',
      artifact: { name: 'shop-web', digest: DIGEST },
      config,
    });

    expect(release).toEqual({
      id: expect.stringMatching(/^rel_[0-9a-z]{17}$/),
      service: 'shop',
      number: 1,
      runId,
      commit: 'c0ffee',
      artifact: { name: 'shop-web', digest: DIGEST },
      config,
      createdAt: new Date(START).toISOString(),
    });
    expect(release.config.healthCheck).toMatchObject({
      path: '/ready',
      matcher: { text: '200,204' },
    });
    expect(store.releases.get(release.id)).toEqual(release);
  });

  it('numbers releases per service, consecutively, apart from run numbers', () => {
    newRunId();
    newRunId();

    const numbers = [newRelease(), newRelease({ service: 'api' }), newRelease()].map((r) => [
      r.service,
      r.number,
    ]);

    expect(numbers).toEqual([
      ['shop', 1],
      ['api', 1],
      ['shop', 2],
    ]);
    expect(store.releases.getByNumber('shop', 2).number).toBe(2);
  });

  it('gives unique ids that sort by creation time', () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(newRelease().id);
      clock += i % 3;
    }

    expect(new Set(ids).size).toBe(20);
    const byTime = ids.map((id) => id.slice(0, 13));
    expect([...byTime].sort()).toEqual(byTime);
  });

  it('refuses a second release of the same run, and the number is not used up', () => {
    const first = newRelease();

    expect(() => newRelease({ runId: first.runId })).toThrow(ConflictError);
    expect(newRelease().number).toBe(2);
  });

  it.each([
    ['an unknown service', { service: 'ghost' }],
    ['an unknown run', { runId: 'r_missing' }],
  ])('refuses %s and records nothing', (_name, overrides) => {
    expect(() =>
      store.releases.create({
        service: 'shop',
        runId: newRunId(),
        commit: 'c0ffee',
        artifact: { name: 'shop-web', digest: DIGEST },
        config: releaseConfig(),
        ...overrides,
      }),
    ).toThrow(NotFoundError);

    expect(store.releases.list({ service: 'shop', limit: 10 })).toEqual([]);
  });

  it('refuses a run of another service', () => {
    const apiRun = newRunId('api');

    expect(() => newRelease({ runId: apiRun })).toThrow(NotFoundError);
  });

  it('never reuses a number, even after a failed create', () => {
    newRelease();
    expect(() => newRelease({ runId: 'r_missing' })).toThrow(NotFoundError);

    expect(newRelease().number).toBe(2);
  });
});

describe('ReleaseRepository reads', () => {
  it('finds the release a run produced', () => {
    const release = newRelease();

    expect(store.releases.findByRun(release.runId)).toEqual(release);
    expect(store.releases.findByRun(newRunId())).toBeUndefined();
  });

  it.each([
    ['get', (s: Store) => s.releases.get('rel_missing')],
    ['getByNumber', (s: Store) => s.releases.getByNumber('shop', 99)],
    [
      'list before an unknown id',
      (s: Store) => s.releases.list({ service: 'shop', limit: 5, before: 'rel_x' }),
    ],
  ])('%s throws NotFoundError', (_name, call) => {
    expect(() => call(store)).toThrow(NotFoundError);
  });

  it('lists a service’s releases newest first, a page at a time', () => {
    const made = [1, 2, 3, 4, 5].map(() => newRelease());
    newRelease({ service: 'api' });

    const first = store.releases.list({ service: 'shop', limit: 2 });
    const second = store.releases.list({ service: 'shop', limit: 2, before: first[1]?.id });
    const last = store.releases.list({ service: 'shop', limit: 2, before: second[1]?.id });

    expect(first.map((r) => r.number)).toEqual([5, 4]);
    expect(second.map((r) => r.number)).toEqual([3, 2]);
    expect(last.map((r) => r.number)).toEqual([1]);
    expect(last[0]).toEqual(made[0]);
  });

  it("refuses a cursor from another service's list", () => {
    const api = newRelease({ service: 'api' });

    expect(() => store.releases.list({ service: 'shop', limit: 5, before: api.id })).toThrow(
      NotFoundError,
    );
  });

  it('gives the latest release of a service, or undefined', () => {
    newRelease();
    const second = newRelease();

    expect(store.releases.latest('shop')).toEqual(second);
    expect(store.releases.latest('api')).toBeUndefined();
  });

  it('refuses a stored config that is not a release config, naming the release', () => {
    const release = newRelease();
    store.db
      .prepare('UPDATE releases SET config_json = ? WHERE id = ?')
      .run('{"start":"x"}', release.id);

    expect(() => store.releases.get(release.id)).toThrow(PlatformError);
    expect(() => store.releases.get(release.id)).toThrow(`release ${release.id} config`);
  });
});

describe('releases in the schema', () => {
  it('go with their service', () => {
    const release = newRelease();

    store.services.delete('shop');

    expect(() => store.releases.get(release.id)).toThrow(NotFoundError);
    expect(store.releases.latest('api')).toBeUndefined();
  });

  it('keep the run that produced them', () => {
    const release = newRelease();

    expect(() => store.db.prepare('DELETE FROM runs WHERE id = ?').run(release.runId)).toThrow(
      /FOREIGN KEY/,
    );
  });

  it('upgrade a version 1 database: its stages are kept, release stages are allowed', () => {
    const path = join(scratch.folder, 'old.db');
    const old = openDatabase(path, { migrations: MIGRATIONS.filter((m) => m.version === 1) });
    old
      .prepare(
        `INSERT INTO services (name, repo_kind, repo_location, default_branch, last_run_number, created_at)
                VALUES ('shop', 'hosted', '/shop', 'main', 7, 0)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO runs (id, service, number, status, commit_sha, ref, trigger_json, created_at)
                VALUES ('r_old', 'shop', 7, 'succeeded', 'c0ffee', 'refs/heads/main', '{"type":"push","actor":"a"}', 0)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO stages (run_id, idx, name, kind, status, attempt, output_json)
                VALUES ('r_old', 1, 'build', 'build', 'succeeded', 2, '{"buildId":"shop:7"}')`,
      )
      .run();
    old.close();

    const upgraded = openStore(path);
    try {
      const run = upgraded.runs.get('r_old');
      const next = upgraded.runs.create({
        service: 'shop',
        commit: 'c0ffee',
        ref: 'refs/heads/main',
        trigger: { type: 'push', actor: 'a' },
        stages: [{ name: 'release', kind: 'release' }],
      });
      const release = upgraded.releases.create({
        service: 'shop',
        runId: run.id,
        commit: run.commit,
        artifact: { name: 'shop', digest: DIGEST },
        config: releaseConfig(),
      });

      expect(run.stages).toEqual([
        expect.objectContaining({ kind: 'build', attempt: 2, output: { buildId: 'shop:7' } }),
      ]);
      expect(next.stages[0]?.kind).toBe('release');
      expect(next.number).toBe(8);
      expect(release.number).toBe(1);
    } finally {
      upgraded.close();
    }
  });
});
