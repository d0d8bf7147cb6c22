import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import { SECRET_KEY_BYTES, SecretDecryptionError } from './secret-box.js';
import { SecretKeyError } from './secret-key.js';
import { MAX_SECRET_VALUE_BYTES, SecretStore } from './secret-store.js';

const KEY = Buffer.alloc(SECRET_KEY_BYTES, 3);
const START = Date.UTC(2026, 0, 1);

/** Every byte SQLite has written: the database, its WAL and shared memory files. */
async function storedBytes(folder: string): Promise<Buffer> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(folder, e.name));
  return Buffer.concat(await Promise.all(files.map((file) => readFile(file))));
}

describe('SecretStore', () => {
  let scratch: ScratchStore;
  let secrets: SecretStore;

  beforeEach(async () => {
    scratch = await openScratchStore({
      prefix: 'phoenix-secret-store-',
      now: () => START,
      services: ['shop', 'billing'],
    });
    secrets = new SecretStore({ repository: scratch.store.secrets, key: KEY });
  });

  afterEach(async () => {
    await scratch.close();
  });

  it('keeps values encrypted: no value reaches the database files', async () => {
    secrets.set({ name: 'DB', value: 'plaintext-marker-4711', actor: 'alice' });
    secrets.set({ name: 'DB', service: 'shop', value: 'shop-marker-0815', actor: 'alice' });

    const bytes = await storedBytes(scratch.folder);

    expect(secrets.resolve('DB', { service: 'shop' })).toBe('shop-marker-0815');
    expect(bytes.includes('plaintext-marker-4711')).toBe(false);
    expect(bytes.includes('shop-marker-0815')).toBe(false);
  });

  it('resolves the most specific secret: service and environment, service, all services', () => {
    secrets.set({ name: 'DB', value: 'all-services', actor: 'alice' });
    secrets.set({ name: 'DB', environment: 'prod', value: 'all-prod', actor: 'alice' });
    secrets.set({ name: 'DB', service: 'shop', value: 'shop-any', actor: 'alice' });
    secrets.set({
      name: 'DB',
      service: 'shop',
      environment: 'prod',
      value: 'shop-prod',
      actor: 'alice',
    });

    const seen = {
      shopProd: secrets.resolve('DB', { service: 'shop', environment: 'prod' }),
      shopDev: secrets.resolve('DB', { service: 'shop', environment: 'dev' }),
      shopBuild: secrets.resolve('DB', { service: 'shop' }),
      billingProd: secrets.resolve('DB', { service: 'billing', environment: 'prod' }),
      billingBuild: secrets.resolve('DB', { service: 'billing' }),
      nobody: secrets.resolve('DB'),
      missing: secrets.resolve('API', { service: 'shop' }),
      badName: secrets.resolve('prod/db:password', { service: 'shop' }),
    };

    expect(seen).toEqual({
      shopProd: 'shop-prod',
      shopDev: 'shop-any',
      shopBuild: 'shop-any',
      billingProd: 'all-prod',
      billingBuild: 'all-services',
      nobody: 'all-services',
      missing: undefined,
      badName: undefined,
    });
  });

  it('says whether it created or replaced, and lists without values', () => {
    const created = secrets.set({ name: 'DB', service: 'shop', value: 'first-value', actor: 'a' });
    const replaced = secrets.set({
      name: 'DB',
      service: 'shop',
      value: 'second-value',
      actor: 'b',
    });
    secrets.set({ name: 'API', value: 'global-value', actor: 'a' });
    secrets.set({ name: 'API', service: 'billing', value: 'billing-value', actor: 'a' });

    const all = secrets.list();
    const shop = secrets.list({ service: 'shop' });

    expect(created.created).toBe(true);
    expect(replaced).toMatchObject({ created: false, secret: { updatedBy: 'b' } });
    expect(secrets.resolve('DB', { service: 'shop' })).toBe('second-value');
    expect(all.map((s) => `${s.name} ${s.scope}`)).toEqual(['API *', 'API billing', 'DB shop']);
    expect(shop.map((s) => `${s.name} ${s.scope}`)).toEqual(['API *', 'DB shop']);
    expect(JSON.stringify(all)).not.toMatch(/value/);
  });

  it('removes one address; a lookup then falls back to the next scope', () => {
    secrets.set({ name: 'DB', value: 'all-services', actor: 'alice' });
    secrets.set({ name: 'DB', service: 'shop', value: 'shop-any', actor: 'alice' });

    const removed = secrets.remove({ name: 'DB', service: 'shop' });

    expect(removed).toMatchObject({ name: 'DB', scope: 'shop' });
    expect(secrets.resolve('DB', { service: 'shop' })).toBe('all-services');
    expect(() => secrets.remove({ name: 'DB', service: 'shop' })).toThrow(NotFoundError);
  });

  it.each([
    ['a bad name', { name: '1DB', value: 'long-enough' }, 'name'],
    ['a bad service', { name: 'DB', service: 'Shop!', value: 'long-enough' }, 'service'],
    ['a bad environment', { name: 'DB', environment: 'Prod', value: 'long-enough' }, 'environment'],
    ['an empty value', { name: 'DB', value: '' }, 'value'],
    ['a value too short to mask', { name: 'DB', value: ' ab \n' }, 'value'],
    ['a value too large', { name: 'DB', value: 'x'.repeat(MAX_SECRET_VALUE_BYTES + 1) }, 'value'],
  ])('refuses %s, naming the field and never the value', (_name, input, key) => {
    let failure: unknown;
    try {
      secrets.set({ ...input, actor: 'alice' });
    } catch (error) {
      failure = error;
    }

    expect(failure).toBeInstanceOf(ValidationError);
    expect(failure instanceof ValidationError ? failure.issues.map((i) => i.key) : []).toEqual([
      key,
    ]);
    expect(String(failure)).not.toContain('long-enough');
    expect(secrets.list()).toEqual([]);
  });

  it('refuses a secret for a service that does not exist', () => {
    expect(() =>
      secrets.set({ name: 'DB', service: 'nope', value: 'long-enough', actor: 'alice' }),
    ).toThrow(NotFoundError);
  });

  it('refuses to decrypt a row moved to another name, service or environment', () => {
    const { db } = scratch.store;
    secrets.set({ name: 'DB', service: 'shop', value: 'shop-secret', actor: 'alice' });
    secrets.set({ name: 'API', service: 'billing', value: 'billing-secret', actor: 'alice' });

    db.prepare("UPDATE secrets SET name = 'STOLEN' WHERE name = 'DB'").run();
    db.prepare("UPDATE secrets SET scope = 'shop' WHERE name = 'API'").run();

    expect(() => secrets.resolve('STOLEN', { service: 'shop' })).toThrow(SecretDecryptionError);
    expect(() => secrets.resolve('API', { service: 'shop' })).toThrow(SecretDecryptionError);
  });

  it('checks at start that the key opens the stored secrets', () => {
    const empty = new SecretStore({
      repository: scratch.store.secrets,
      key: Buffer.alloc(SECRET_KEY_BYTES, 9),
    });
    const fresh = () => empty.checkKey();
    fresh();
    secrets.set({ name: 'DB', value: 'sealed-with-key-3', actor: 'alice' });

    const right = () => secrets.checkKey();
    const wrong = () => empty.checkKey();

    expect(right).not.toThrow();
    expect(wrong).toThrow(SecretKeyError);
    expect(wrong).toThrow(/does not open the stored secrets/);
  });
});
