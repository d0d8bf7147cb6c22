import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { openStore, type Store } from './store.js';
import { hashToken, LAST_USED_RESOLUTION_MS } from './token-repository.js';

let scratch: string;
let store: Store;
let clock: number;
const START = Date.UTC(2026, 0, 1);

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-tokens-'));
  clock = START;
  store = openStore(join(scratch, 'phoenix.db'), () => clock);
});

afterEach(async () => {
  store.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Every byte SQLite has written: the database, its WAL and shared memory files. */
async function storedBytes(folder: string): Promise<Buffer> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(folder, e.name));
  return Buffer.concat(await Promise.all(files.map((file) => readFile(file))));
}

describe('TokenRepository', () => {
  it('creates a phx_ token that verifies to its record', () => {
    const { token, record } = store.tokens.create({ name: 'ci', role: 'developer' });

    const verified = store.tokens.verify(token);

    expect(token).toMatch(/^phx_[A-Za-z0-9_-]{43}$/);
    expect(record).toEqual({
      id: expect.stringMatching(/^tok_/),
      name: 'ci',
      role: 'developer',
      createdAt: new Date(START).toISOString(),
    });
    expect(verified).toMatchObject({ id: record.id, role: 'developer' });
    expect(store.tokens.verify(`${token}x`)).toBeUndefined();
    expect(store.tokens.verify('')).toBeUndefined();
  });

  it('stores only the hash, never the token', async () => {
    const { token } = store.tokens.create({ name: 'ci', role: 'viewer' });
    const fromEnv = 'automation-token-0123456789';
    const fresh = openStore(join(scratch, 'other', 'phoenix.db'));
    fresh.tokens.ensureAdmin(fromEnv);
    fresh.close();

    const bytes = await storedBytes(scratch);
    const otherBytes = await storedBytes(join(scratch, 'other'));

    expect(bytes.includes(token)).toBe(false);
    expect(bytes.includes(hashToken(token))).toBe(true);
    expect(otherBytes.includes(fromEnv)).toBe(false);
    expect(otherBytes.includes(hashToken(fromEnv))).toBe(true);
  });

  it('refuses a revoked token', () => {
    const { token, record } = store.tokens.create({ name: 'ci', role: 'admin' });
    clock += 5000;

    const revoked = store.tokens.revoke(record.id);

    expect(revoked.revokedAt).toBe(new Date(START + 5000).toISOString());
    expect(store.tokens.verify(token)).toBeUndefined();
    expect(store.tokens.count()).toBe(0);
    expect(store.tokens.list()).toEqual([revoked]);
    expect(() => store.tokens.revoke('tok_nope')).toThrow(NotFoundError);
  });

  it('records use at most once a minute', () => {
    const { token } = store.tokens.create({ name: 'ci', role: 'viewer' });
    const lastUsed = () => store.tokens.list()[0]?.lastUsedAt;
    const changes = () => store.db.prepare('SELECT total_changes()').pluck().get();

    store.tokens.verify(token);
    const first = lastUsed();
    clock += LAST_USED_RESOLUTION_MS - 1;
    const before = changes();
    store.tokens.verify(token);
    const writesWithinTheMinute = Number(changes()) - Number(before);
    clock += 1;
    store.tokens.verify(token);

    expect(first).toBe(new Date(START).toISOString());
    expect(writesWithinTheMinute).toBe(0);
    expect(lastUsed()).toBe(new Date(START + LAST_USED_RESOLUTION_MS).toISOString());
  });

  it('lists tokens and counts the live ones', () => {
    store.tokens.create({ name: 'a', role: 'admin' });
    const b = store.tokens.create({ name: 'b', role: 'approver' });
    store.tokens.create({ name: 'c', role: 'viewer' });
    store.tokens.revoke(b.record.id);

    expect(store.tokens.list().map((t) => t.name)).toEqual(['a', 'b', 'c']);
    expect(store.tokens.count()).toBe(2);
  });
});

describe('TokenRepository.ensureAdmin', () => {
  it('creates a random admin token once, at first start', () => {
    const first = store.tokens.ensureAdmin();
    const second = store.tokens.ensureAdmin();

    expect(first?.source).toBe('generated');
    expect(first?.record.role).toBe('admin');
    expect(first === undefined ? undefined : store.tokens.verify(first.token)?.role).toBe('admin');
    expect(second).toBeUndefined();
    expect(store.tokens.list()).toHaveLength(1);
  });

  it('takes the token from PHOENIX_ADMIN_TOKEN when given', () => {
    const fromEnv = 'automation-token-0123456789';

    const ensured = store.tokens.ensureAdmin(fromEnv);

    expect(ensured).toMatchObject({ token: fromEnv, source: 'env', record: { role: 'admin' } });
    expect(store.tokens.verify(fromEnv)?.role).toBe('admin');
  });

  it('does nothing when tokens exist, even revoked ones', () => {
    const { record } = store.tokens.create({ name: 'ops', role: 'admin' });
    store.tokens.revoke(record.id);

    expect(store.tokens.ensureAdmin('automation-token-0123456789')).toBeUndefined();
    expect(store.tokens.ensureAdmin()).toBeUndefined();
    expect(store.tokens.list()).toHaveLength(1);
  });

  it.each([
    ['too short', 'short-token'],
    ['19 characters', 'x'.repeat(19)],
    ['with whitespace', 'automation-token-0123456789\n'],
  ])('refuses an env token %s', (_name, fromEnv) => {
    expect(() => store.tokens.ensureAdmin(fromEnv)).toThrow(ValidationError);
    expect(store.tokens.list()).toEqual([]);
  });
});
