import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { PlatformError } from '../shared/errors.js';
import { adminTokenPath, ensureAdminToken } from './admin-token.js';

describe('ensureAdminToken', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;

  beforeEach(() => {
    dir = tempDir('phoenix-router-token-');
    path = adminTokenPath(dir.path);
  });

  afterEach(() => dir.remove());

  it('creates a random token for the owner only, then reads the same one back', async () => {
    const created = await ensureAdminToken(path);
    const again = await ensureAdminToken(path);

    expect(created).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toBe(created);
    expect(readFileSync(path, 'utf8')).toBe(`${created}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${dir.path}/router`).mode & 0o777).toBe(0o700);
  });

  it('gives two processes starting together one token', async () => {
    const tokens = await Promise.all([1, 2, 3, 4].map(() => ensureAdminToken(path)));

    expect(new Set(tokens).size).toBe(1);
  });

  it('keeps a token written by hand, and refuses one too short to guard production traffic', async () => {
    await ensureAdminToken(path);
    writeFileSync(path, '  my-own-router-token-0123456789\n');
    const own = await ensureAdminToken(path);
    writeFileSync(path, 'short\n');

    expect(own).toBe('my-own-router-token-0123456789');
    await expect(ensureAdminToken(path)).rejects.toThrow(PlatformError);
    await expect(ensureAdminToken(path)).rejects.toThrow(/shorter than 16 characters/);
  });
});
