import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { SECRET_KEY_BYTES } from './secret-box.js';
import { ensureSecretKey, SecretKeyError, secretKeyPath } from './secret-key.js';

const MODULE = fileURLToPath(new URL('./secret-key.ts', import.meta.url));
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=\n$/;

/** A process that loads the module, says `ready`, waits for a line, then ensures every home's key. */
const RACER = `
import { createInterface } from 'node:readline';
const { ensureSecretKey } = await import(process.env.MODULE);
const homes = JSON.parse(process.env.HOMES);
process.stdout.write('ready\\n');
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
const keys = await Promise.all(
  homes.map((home) =>
    ensureSecretKey({ home }).then((key) => key.bytes.toString('base64'), (error) => 'error: ' + error.message),
  ),
);
process.stdout.write(JSON.stringify(keys) + '\\n');
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
  const keys = once(child, 'exit').then(
    (): string[] => JSON.parse(output.split('\n')[1] ?? '[]') as string[],
  );
  return { child, ready, keys };
}

describe('ensureSecretKey', () => {
  let dir: ReturnType<typeof tempDir>;
  let home: string;

  beforeEach(() => {
    dir = tempDir('phoenix-secret-key-');
    home = join(dir.path, 'home');
  });

  afterEach(() => dir.remove());

  it('creates 32 random bytes in <home>/secrets.key for the owner only, then reads them back', async () => {
    const created = await ensureSecretKey({ home });
    const again = await ensureSecretKey({ home });

    expect(created).toMatchObject({ source: 'created', path: secretKeyPath(home) });
    expect(created.bytes).toHaveLength(SECRET_KEY_BYTES);
    expect(again).toMatchObject({ source: 'file', path: secretKeyPath(home) });
    expect(again.bytes.equals(created.bytes)).toBe(true);
    const text = readFileSync(join(home, 'secrets.key'), 'utf8');
    expect(text).toMatch(BASE64_KEY);
    expect(Buffer.from(text, 'base64').equals(created.bytes)).toBe(true);
    expect(statSync(join(home, 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(readdirSync(home)).toEqual(['secrets.key']);
  });

  it('makes a different key in every home', async () => {
    const first = await ensureSecretKey({ home: join(dir.path, 'a') });
    const second = await ensureSecretKey({ home: join(dir.path, 'b') });

    expect(first.bytes.equals(second.bytes)).toBe(false);
  });

  it('takes PHOENIX_SECRETS_KEY when set, and neither reads nor creates the file', async () => {
    const bytes = Buffer.alloc(SECRET_KEY_BYTES, 42);
    writeFileSync(join(dir.path, 'unused'), '');

    const key = await ensureSecretKey({ home, fromEnv: ` ${bytes.toString('base64')}\n` });
    const unpadded = await ensureSecretKey({
      home,
      fromEnv: bytes.toString('base64').replace(/=+$/, ''),
    });
    const empty = await ensureSecretKey({ home, fromEnv: '' });

    expect(key).toEqual({ bytes, source: 'env' });
    expect(unpadded.bytes.equals(bytes)).toBe(true);
    expect(empty.source).toBe('created');
  });

  it.each([
    ['too short', Buffer.alloc(16, 1).toString('base64'), /is 16 bytes long; it must be 32/],
    ['too long', Buffer.alloc(48, 1).toString('base64'), /is 48 bytes long; it must be 32/],
    ['not base64', 'not a key at all, just words!!', /is not base64/],
    ['hex', 'ab'.repeat(32), /is 48 bytes long/],
  ])('refuses an env key %s, naming the variable', async (_name, fromEnv, message) => {
    const attempt = ensureSecretKey({ home, fromEnv });

    await expect(attempt).rejects.toThrow(SecretKeyError);
    await expect(ensureSecretKey({ home, fromEnv })).rejects.toThrow(message);
    await expect(ensureSecretKey({ home, fromEnv })).rejects.toThrow(/PHOENIX_SECRETS_KEY/);
  });

  it.each([0o640, 0o604, 0o644, 0o660, 0o602, 0o610])(
    'refuses a key file with mode %o, naming the file',
    async (mode) => {
      await ensureSecretKey({ home });
      chmodSync(secretKeyPath(home), mode);

      const attempt = ensureSecretKey({ home });

      await expect(attempt).rejects.toThrow(SecretKeyError);
      await expect(ensureSecretKey({ home })).rejects.toThrow(
        `the secrets key ${secretKeyPath(home)} has group or other permissions (mode 0${mode.toString(8)})`,
      );
    },
  );

  it('accepts a key file the owner made read-only', async () => {
    const created = await ensureSecretKey({ home });
    chmodSync(secretKeyPath(home), 0o400);

    const read = await ensureSecretKey({ home });

    expect(read.bytes.equals(created.bytes)).toBe(true);
  });

  it.each([
    ['truncated', (text: string) => text.slice(0, 20)],
    ['empty', () => ''],
    ['doubled', (text: string) => `${text.trim()}${text.trim()}`],
  ])('refuses a key file %s, naming the file', async (_name, edit) => {
    await ensureSecretKey({ home });
    const path = secretKeyPath(home);
    writeFileSync(path, edit(readFileSync(path, 'utf8')));

    const attempt = ensureSecretKey({ home });

    await expect(attempt).rejects.toThrow(SecretKeyError);
    await expect(ensureSecretKey({ home })).rejects.toThrow(`the secrets key in ${path}`);
  });

  it('gives servers starting together in separate processes one key, and leaves no temp file', async () => {
    const homes = Array.from({ length: 30 }, (_, round) => join(dir.path, `home-${round}`));
    const racers = Array.from({ length: 4 }, () => racer(homes));
    await Promise.all(racers.map((r) => r.ready));

    for (const r of racers) r.child.stdin.end('go\n');
    const [first, ...others] = await Promise.all(racers.map((r) => r.keys));

    expect(first).toHaveLength(homes.length);
    for (const other of others) expect(other).toEqual(first);
    for (const [round, key] of (first ?? []).entries()) {
      const home = homes[round] ?? '';
      expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(readFileSync(secretKeyPath(home), 'utf8')).toBe(`${key}\n`);
      expect(readdirSync(home)).toEqual(['secrets.key']);
    }
  }, 30_000);
});
