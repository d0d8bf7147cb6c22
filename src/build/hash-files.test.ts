import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashFiles } from './hash-files.js';

const script = fileURLToPath(new URL('../../libexec/codebuild-hash-files', import.meta.url));

let scratch: string;

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'phoenix-hash-'));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function put(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function runScript(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(script, args, { cwd }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

describe('hashFiles', () => {
  it('hashes each path with its content hash, in sorted order', async () => {
    await put(scratch, { 'b.lock': 'bee', 'a.lock': 'ay', 'skip.txt': 'no' });

    const hash = await hashFiles(scratch, ['*.lock']);

    expect(hash).toBe(sha256(`a.lock\0${sha256('ay')}\nb.lock\0${sha256('bee')}\n`));
  });

  it('does not depend on the order files were written or patterns given', async () => {
    const one = join(scratch, 'one');
    const two = join(scratch, 'two');
    await put(one, { 'x/a.json': '1', 'y/b.json': '2', '.hidden/c.json': '3' });
    await put(two, { '.hidden/c.json': '3', 'y/b.json': '2', 'x/a.json': '1' });

    const first = await hashFiles(one, ['x/*.json', '**/*.json']);
    const second = await hashFiles(two, ['**/*.json', 'x/*.json']);

    expect(first).toBe(second);
    expect(first).not.toBe(await hashFiles(two, ['x/*.json', 'y/*.json']));
  });

  it('changes when a file content or name changes', async () => {
    await put(scratch, { 'package-lock.json': '{"v":1}' });
    const before = await hashFiles(scratch, ['*.json']);

    await put(scratch, { 'package-lock.json': '{"v":2}' });
    const edited = await hashFiles(scratch, ['*.json']);
    await rm(join(scratch, 'package-lock.json'));
    await put(scratch, { 'other.json': '{"v":2}' });
    const renamed = await hashFiles(scratch, ['*.json']);

    expect(new Set([before, edited, renamed]).size).toBe(3);
  });

  it('hashes nothing when nothing matches', async () => {
    expect(await hashFiles(scratch, ['missing.lock'])).toBe(sha256(''));
  });

  it('agrees with the codebuild-hash-files script run as a child process', async () => {
    await put(scratch, {
      'package-lock.json': '{"lockfileVersion":3}',
      'packages/a/package-lock.json': '{"a":1}',
      '.config/settings.json': '{}',
      'README.md': 'ignored',
    });
    const patterns = ['package-lock.json', '**/package-lock.json', '.config/*.json'];

    const printed = await runScript(scratch, patterns);

    expect((await stat(script)).mode & 0o111).not.toBe(0);
    expect(printed).toBe(`${await hashFiles(scratch, patterns)}\n`);
    expect(printed.trim()).not.toBe(sha256(''));
  });
});
