import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { PlatformError } from '../shared/errors.js';
import { adminTokenPath, ensureAdminToken } from './admin-token.js';

const MODULE = fileURLToPath(new URL('./admin-token.ts', import.meta.url));
const ROUNDS = 100;
const RACERS = 6;

/**
 * A child process that loads the module, says `ready`, waits for a line on stdin, then
 * creates the token of every round at once and prints each round's token (or error).
 */
const RACER = `
import { createInterface } from 'node:readline';
const { adminTokenPath, ensureAdminToken } = await import(process.env.MODULE);
const homes = JSON.parse(process.env.HOMES);
process.stdout.write('ready\\n');
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
const results = await Promise.all(
  homes.map((home) =>
    ensureAdminToken(adminTokenPath(home)).catch((error) => 'error: ' + error.message),
  ),
);
process.stdout.write(JSON.stringify(results) + '\\n');
`;

function racer(homes: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RACER], {
    env: { ...process.env, MODULE, HOMES: JSON.stringify(homes) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.startsWith('ready\n')) resolve();
    });
  });
  const results = once(child, 'exit').then((): string[] => {
    const line = output.split('\n')[1] ?? '[]';
    return JSON.parse(line) as string[];
  });
  return { child, ready, results };
}

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

  it('gives router and server processes created together one whole token, and leaves no temp file', async () => {
    const homes = Array.from({ length: ROUNDS }, (_, round) => `${dir.path}/home-${round}`);
    const racers = Array.from({ length: RACERS }, () => racer(homes));
    await Promise.all(racers.map((r) => r.ready));

    for (const r of racers) r.child.stdin.end('go\n');
    const [first, ...others] = await Promise.all(racers.map((r) => r.results));

    expect(first).toHaveLength(ROUNDS);
    for (const other of others) expect(other).toEqual(first);
    for (const [round, token] of (first ?? []).entries()) {
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect(readFileSync(adminTokenPath(homes[round] ?? ''), 'utf8')).toBe(`${token}\n`);
      expect(readdirSync(`${homes[round] ?? ''}/router`)).toEqual(['admin-token']);
    }
  }, 30_000);

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
