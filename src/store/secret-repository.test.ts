import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SealedValue } from '../secrets/secret.js';
import { NotFoundError } from '../shared/errors.js';
import { isSqliteError } from './columns.js';
import { openScratchStore, type ScratchStore } from './testing/scratch-store.js';

const START = Date.UTC(2026, 0, 1);

function sealed(fill: number): SealedValue {
  return {
    ciphertext: Buffer.alloc(10, fill),
    iv: Buffer.alloc(12, fill),
    tag: Buffer.alloc(16, fill),
  };
}

describe('SecretRepository', () => {
  let scratch: ScratchStore;
  let clock: number;

  beforeEach(async () => {
    clock = START;
    scratch = await openScratchStore({
      prefix: 'phoenix-secrets-',
      now: () => clock,
      services: ['shop', 'billing'],
    });
  });

  afterEach(async () => {
    await scratch.close();
  });

  it('creates a secret, then replaces it in place, keeping when it was created', () => {
    const { secrets } = scratch.store;

    const first = secrets.put({ name: 'DB', scope: 'shop' }, sealed(1), 'alice');
    clock += 1000;
    const second = secrets.put({ name: 'DB', scope: 'shop' }, sealed(2), 'bob');

    expect(first).toEqual({
      created: true,
      record: {
        name: 'DB',
        scope: 'shop',
        createdAt: new Date(START).toISOString(),
        updatedAt: new Date(START).toISOString(),
        updatedBy: 'alice',
      },
    });
    expect(second).toEqual({
      created: false,
      record: {
        name: 'DB',
        scope: 'shop',
        createdAt: new Date(START).toISOString(),
        updatedAt: new Date(START + 1000).toISOString(),
        updatedBy: 'bob',
      },
    });
    expect(secrets.get({ name: 'DB', scope: 'shop' })?.sealed).toEqual(sealed(2));
    expect(secrets.list()).toHaveLength(1);
  });

  it('keeps one secret per name, scope and environment, every-environment included', () => {
    const { secrets } = scratch.store;
    const addresses = [
      { name: 'DB', scope: '*' },
      { name: 'DB', scope: '*', environment: 'prod' },
      { name: 'DB', scope: 'shop' },
      { name: 'DB', scope: 'shop', environment: 'prod' },
      { name: 'DB', scope: 'billing' },
      { name: 'API', scope: '*' },
    ];

    for (const address of addresses) secrets.put(address, sealed(1), 'alice');
    const again = addresses.map((address) => secrets.put(address, sealed(2), 'bob').created);

    expect(again.every((created) => !created)).toBe(true);
    expect(secrets.list()).toHaveLength(addresses.length);
    expect(secrets.candidates('DB', ['shop', '*']).map((s) => s.record)).toHaveLength(4);
    expect(secrets.candidates('DB', [])).toEqual([]);
  });

  it('refuses a second row for one address even when written behind its back', () => {
    const { db } = scratch.store;
    const insert = () =>
      db
        .prepare(
          `INSERT INTO secrets (name, scope, environment, ciphertext, iv, tag, created_at,
             updated_at, updated_by) VALUES ('DB', '*', NULL, x'00', zeroblob(12), zeroblob(16), 0, 0, 'x')`,
        )
        .run();
    insert();

    let failure: unknown;
    try {
      insert();
    } catch (error) {
      failure = error;
    }

    expect(isSqliteError(failure, 'SQLITE_CONSTRAINT_UNIQUE')).toBe(true);
  });

  it('lists by name, all services before one, every environment before one', () => {
    const { secrets } = scratch.store;
    for (const address of [
      { name: 'DB', scope: 'shop', environment: 'prod' },
      { name: 'DB', scope: 'shop' },
      { name: 'API', scope: 'billing' },
      { name: 'DB', scope: '*', environment: 'prod' },
      { name: 'DB', scope: '*' },
      { name: 'DB', scope: 'billing' },
    ]) {
      secrets.put(address, sealed(1), 'alice');
    }

    const all = secrets.list().map((s) => `${s.name} ${s.scope} ${s.environment ?? '-'}`);
    const shop = secrets.list({ scopes: ['shop', '*'] }).map((s) => `${s.name} ${s.scope}`);

    expect(all).toEqual([
      'API billing -',
      'DB * -',
      'DB * prod',
      'DB billing -',
      'DB shop -',
      'DB shop prod',
    ]);
    expect(shop).toEqual(['DB *', 'DB *', 'DB shop', 'DB shop']);
  });

  it('removes one address only, and says when there is nothing there', () => {
    const { secrets } = scratch.store;
    secrets.put({ name: 'DB', scope: 'shop' }, sealed(1), 'alice');
    secrets.put({ name: 'DB', scope: 'shop', environment: 'prod' }, sealed(1), 'alice');

    const removed = secrets.remove({ name: 'DB', scope: 'shop' });

    expect(removed).toMatchObject({ name: 'DB', scope: 'shop', updatedBy: 'alice' });
    expect(removed.environment).toBeUndefined();
    expect(secrets.list().map((s) => s.environment)).toEqual(['prod']);
    expect(() => secrets.remove({ name: 'DB', scope: 'shop' })).toThrow(NotFoundError);
    expect(() => secrets.remove({ name: 'DB', scope: 'shop' })).toThrow(
      'secret DB (service shop) not found',
    );
    expect(() => secrets.remove({ name: 'DB', scope: '*', environment: 'prod' })).toThrow(
      'secret DB (all services, environment prod) not found',
    );
  });

  it('refuses a secret for a service that does not exist', () => {
    expect(() =>
      scratch.store.secrets.put({ name: 'DB', scope: 'nope' }, sealed(1), 'alice'),
    ).toThrow(new NotFoundError('service nope not found'));
    expect(scratch.store.secrets.list()).toEqual([]);
  });

  it("removes a service's secrets with the service, and no one else's", () => {
    const { secrets, services } = scratch.store;
    secrets.put({ name: 'DB', scope: 'shop' }, sealed(1), 'alice');
    secrets.put({ name: 'DB', scope: 'shop', environment: 'prod' }, sealed(1), 'alice');
    secrets.put({ name: 'DB', scope: 'billing' }, sealed(1), 'alice');
    secrets.put({ name: 'DB', scope: '*' }, sealed(1), 'alice');

    services.delete('shop');

    expect(secrets.list().map((s) => s.scope)).toEqual(['*', 'billing']);
  });

  it('returns the oldest secret as a sample for checking the key', () => {
    const { secrets } = scratch.store;

    const none = secrets.first();
    secrets.put({ name: 'B', scope: '*' }, sealed(1), 'alice');
    secrets.put({ name: 'A', scope: '*' }, sealed(2), 'alice');

    expect(none).toBeUndefined();
    expect(secrets.first()?.record.name).toBe('B');
  });
});
