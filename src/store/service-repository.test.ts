import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { openStore, type Store } from './store.js';

let scratch: string;
let store: Store;
let clock: number;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-services-'));
  clock = Date.UTC(2026, 0, 1);
  store = openStore(join(scratch, 'phoenix.db'), () => clock);
});

afterEach(async () => {
  store.close();
  await rm(scratch, { recursive: true, force: true });
});

describe('ServiceRepository', () => {
  it('creates a service with defaults and reads it back', () => {
    const created = store.services.create({
      name: 'shop',
      repository: { kind: 'hosted', path: '/srv/phoenix/repos/shop.git' },
    });

    expect(created).toEqual({
      name: 'shop',
      repository: { kind: 'hosted', path: '/srv/phoenix/repos/shop.git' },
      defaultBranch: 'main',
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(store.services.get('shop')).toEqual(created);
  });

  it('keeps the webhook secret as given, for HMAC verification', () => {
    store.services.create({
      name: 'api',
      repository: { kind: 'external', url: 'https://github.com/acme/api.git' },
      webhookSecret: 's3cret',
      pollIntervalMs: 60_000,
      defaultBranch: 'trunk',
    });

    expect(store.services.get('api')).toMatchObject({
      repository: { kind: 'external', url: 'https://github.com/acme/api.git' },
      webhookSecret: 's3cret',
      pollIntervalMs: 60_000,
      defaultBranch: 'trunk',
    });
  });

  it('refuses a second service of the same name', () => {
    store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/a' } });

    expect(() =>
      store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/b' } }),
    ).toThrow(ConflictError);
    expect(store.services.get('shop').repository).toEqual({ kind: 'hosted', path: '/a' });
  });

  it('lists services by name', () => {
    for (const name of ['web', 'api', 'shop']) {
      store.services.create({ name, repository: { kind: 'hosted', path: `/${name}` } });
    }

    expect(store.services.list().map((s) => s.name)).toEqual(['api', 'shop', 'web']);
  });

  it('updates given fields, clears null ones and keeps the rest', () => {
    store.services.create({
      name: 'api',
      repository: { kind: 'external', url: 'https://example.com/api.git' },
      webhookSecret: 'old',
      pollIntervalMs: 30_000,
    });

    const updated = store.services.update('api', { webhookSecret: 'new', pollIntervalMs: null });

    expect(updated.webhookSecret).toBe('new');
    expect(updated.pollIntervalMs).toBeUndefined();
    expect(updated.repository).toEqual({ kind: 'external', url: 'https://example.com/api.git' });
    expect(store.services.get('api')).toEqual(updated);
  });

  it('deletes a service with its runs', () => {
    store.services.create({ name: 'shop', repository: { kind: 'hosted', path: '/shop' } });
    const run = store.runs.create({
      service: 'shop',
      commit: 'abc',
      ref: 'refs/heads/main',
      trigger: { type: 'manual', actor: 'me' },
      stages: [{ name: 'build', kind: 'build' }],
    });
    store.events.append(run.id, 'run.created', {});

    store.services.delete('shop');

    expect(() => store.services.get('shop')).toThrow(NotFoundError);
    expect(() => store.runs.get(run.id)).toThrow(NotFoundError);
    expect(store.events.listSince(run.id, 0, 10)).toEqual([]);
  });

  it.each([
    ['get', (s: Store) => s.services.get('nope')],
    ['update', (s: Store) => s.services.update('nope', { defaultBranch: 'x' })],
    ['delete', (s: Store) => s.services.delete('nope')],
  ])('%s of an unknown service throws NotFoundError', (_name, call) => {
    expect(() => call(store)).toThrow(NotFoundError);
  });
});
