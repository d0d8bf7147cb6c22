import { createHash } from 'node:crypto';
import {
  chmod,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { ArtifactStore, InvalidDigestError, type ArtifactManifest } from './artifact-store.js';

function sha256(content: string | Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

let dir: string;
let store: ArtifactStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phoenix-artifact-store-'));
  store = new ArtifactStore(join(dir, 'artifacts'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function source(name: string, content: string, mode = 0o644): Promise<string> {
  const path = join(dir, 'src', name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
  return path;
}

/** Writes raw bytes as a blob, bypassing putManifest's checks, as a tampered store would. */
async function rawBlob(content: string): Promise<string> {
  const digest = sha256(content);
  await mkdir(dirname(store.blobPath(digest)), { recursive: true });
  await writeFile(store.blobPath(digest), content);
  return digest;
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1))
    .sort();
}

describe('putFile', () => {
  it('stores the content under its sha256 and reports its size', async () => {
    const path = await source('app.js', 'console.log(1);\n');
    const hex = createHash('sha256').update('console.log(1);\n').digest('hex');

    const blob = await store.putFile(path);

    expect(blob).toEqual({ digest: `sha256:${hex}`, size: 16 });
    expect(store.blobPath(blob.digest)).toBe(
      join(dir, 'artifacts', 'blobs', 'sha256', hex.slice(0, 2), hex.slice(2)),
    );
    expect(await readFile(store.blobPath(blob.digest), 'utf8')).toBe('console.log(1);\n');
    expect(await store.has(blob.digest)).toBe(true);
  });

  it('stores the same content once and leaves no temp files', async () => {
    const first = await source('a.txt', 'same');
    const second = await source('nested/b.txt', 'same');

    const one = await store.putFile(first);
    const two = await store.putFile(second);

    expect(one.digest).toBe(sha256('same'));
    expect(two.digest).toBe(one.digest);
    const hex = one.digest.slice('sha256:'.length);
    expect(await listFiles(join(dir, 'artifacts'))).toEqual([
      join('blobs', 'sha256', hex.slice(0, 2), hex.slice(2)),
    ]);
  });

  it('fails with a PlatformError for a missing file and leaves no temp file', async () => {
    const missing = join(dir, 'nope.txt');

    await expect(store.putFile(missing)).rejects.toBeInstanceOf(PlatformError);

    expect(await listFiles(join(dir, 'artifacts'))).toEqual([]);
  });
});

describe('manifests', () => {
  const manifest: ArtifactManifest = {
    name: 'web',
    createdAt: '2026-01-01T00:00:00.000Z',
    buildId: 'build-1',
    files: [
      { path: 'z.txt', digest: sha256('z'), size: 1, mode: 0o644 },
      { path: 'a/b.txt', digest: sha256('b'), size: 1, mode: 0o755 },
    ],
  };

  it('stores canonical JSON with files sorted by path, whatever their order', async () => {
    const expectedJson =
      '{"name":"web","buildId":"build-1","createdAt":"2026-01-01T00:00:00.000Z","files":[' +
      `{"path":"a/b.txt","digest":"${sha256('b')}","size":1,"mode":493},` +
      `{"path":"z.txt","digest":"${sha256('z')}","size":1,"mode":420}]}`;

    const digest = await store.putManifest(manifest);
    const reversed = await store.putManifest({ ...manifest, files: [...manifest.files].reverse() });

    expect(digest).toBe(sha256(expectedJson));
    expect(reversed).toBe(digest);
    expect(await readFile(store.blobPath(digest), 'utf8')).toBe(expectedJson);
  });

  it('reads back what it stored', async () => {
    const digest = await store.putManifest(manifest);

    const read = await store.getManifest(digest);

    expect(read).toEqual({ ...manifest, files: [manifest.files[1], manifest.files[0]] });
  });

  it('reports a missing manifest as NotFoundError', async () => {
    await expect(store.getManifest(sha256('absent'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('detects a blob whose content no longer matches its digest', async () => {
    const digest = await store.putManifest(manifest);
    await writeFile(store.blobPath(digest), JSON.stringify({ ...manifest, name: 'evil' }));

    const read = store.getManifest(digest);

    await expect(read).rejects.toBeInstanceOf(PlatformError);
    await expect(read).rejects.toThrow(/corrupt/);
  });

  it('refuses a stored blob that is not a manifest', async () => {
    const digest = await rawBlob('{"name":3}');

    await expect(store.getManifest(digest)).rejects.toBeInstanceOf(PlatformError);
  });

  it.each(['../x', '/etc/passwd', 'a/../../x', 'a//b', './a', ''])(
    'refuses to store a manifest with path %j',
    async (path) => {
      const bad = { ...manifest, files: [{ path, digest: sha256('x'), size: 1, mode: 0o644 }] };

      await expect(store.putManifest(bad)).rejects.toBeInstanceOf(PlatformError);
    },
  );
});

describe('digest validation', () => {
  it.each([
    'sha256:../../../../etc/passwd',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}`,
    `sha512:${'a'.repeat(64)}`,
    `sha256:${'a'.repeat(64)}/../x`,
    'a'.repeat(64),
  ])('refuses %j before touching the filesystem', async (digest) => {
    expect(() => store.blobPath(digest)).toThrow(InvalidDigestError);
    await expect(store.has(digest)).rejects.toBeInstanceOf(InvalidDigestError);
    await expect(store.getManifest(digest)).rejects.toBeInstanceOf(InvalidDigestError);
    await expect(store.extract(digest, join(dir, 'out'))).rejects.toBeInstanceOf(
      InvalidDigestError,
    );
  });
});

describe('extract', () => {
  it('recreates files with their modes, nested folders and symbolic links', async () => {
    const run = await store.putFile(await source('run.sh', '#!/bin/sh\necho hi\n', 0o755));
    const config = await store.putFile(await source('config.json', '{}', 0o600));
    const digest = await store.putManifest({
      name: 'web',
      createdAt: '2026-01-01T00:00:00.000Z',
      files: [
        { path: 'bin/run.sh', ...run, mode: 0o755 },
        { path: 'etc/deep/config.json', ...config, mode: 0o600 },
        {
          path: 'current',
          digest: sha256('bin/run.sh'),
          size: 0,
          mode: 0o777,
          linkTarget: 'bin/run.sh',
        },
      ],
    });
    const out = join(dir, 'out');

    await store.extract(digest, out);

    expect(await listFiles(out)).toEqual(['bin/run.sh', 'current', 'etc/deep/config.json']);
    expect(await readFile(join(out, 'bin/run.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(await readFile(join(out, 'etc/deep/config.json'), 'utf8')).toBe('{}');
    expect((await stat(join(out, 'bin/run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(out, 'etc/deep/config.json'))).mode & 0o777).toBe(0o600);
    expect(await readlink(join(out, 'current'))).toBe('bin/run.sh');
  });

  it('replaces files already at the destination instead of writing through them', async () => {
    const blob = await store.putFile(await source('a.txt', 'new'));
    const digest = await store.putManifest({
      name: 'web',
      createdAt: '2026-01-01T00:00:00.000Z',
      files: [{ path: 'a.txt', ...blob, mode: 0o644 }],
    });
    const out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(dir, 'victim.txt'), 'keep');
    await symlink(join(dir, 'victim.txt'), join(out, 'a.txt'));

    await store.extract(digest, out);

    expect(await readFile(join(out, 'a.txt'), 'utf8')).toBe('new');
    expect(await readFile(join(dir, 'victim.txt'), 'utf8')).toBe('keep');
  });

  it.each(['../x', '/tmp/phoenix-extract-escape', 'a/../../x'])(
    'refuses manifest path %j and writes nothing',
    async (path) => {
      const blob = await store.putFile(await source('x', 'payload'));
      const digest = await rawBlob(
        JSON.stringify({
          name: 'evil',
          createdAt: '2026-01-01T00:00:00.000Z',
          files: [{ path, ...blob, mode: 0o644 }],
        }),
      );
      await mkdir(join(dir, 'deep'));
      const out = join(dir, 'deep', 'out');

      await expect(store.extract(digest, out)).rejects.toBeInstanceOf(PlatformError);

      expect(await listFiles(join(dir, 'deep'))).toEqual([]);
      await expect(stat('/tmp/phoenix-extract-escape')).rejects.toThrow(/ENOENT/);
    },
  );

  it('refuses to write through a symbolic link it created', async () => {
    const blob = await store.putFile(await source('x', 'payload'));
    const outside = join(dir, 'outside');
    await mkdir(outside);
    const digest = await rawBlob(
      JSON.stringify({
        name: 'evil',
        createdAt: '2026-01-01T00:00:00.000Z',
        files: [
          { path: 'link', digest: sha256(outside), size: 0, mode: 0o777, linkTarget: outside },
          { path: 'link/x', ...blob, mode: 0o644 },
        ],
      }),
    );

    await expect(store.extract(digest, join(dir, 'out'))).rejects.toBeInstanceOf(PlatformError);

    expect(await readdir(outside)).toEqual([]);
  });

  it('detects a corrupted file blob', async () => {
    const blob = await store.putFile(await source('a.txt', 'original'));
    const digest = await store.putManifest({
      name: 'web',
      createdAt: '2026-01-01T00:00:00.000Z',
      files: [{ path: 'a.txt', ...blob, mode: 0o644 }],
    });
    await writeFile(store.blobPath(blob.digest), 'tampered');
    const out = join(dir, 'out');

    await expect(store.extract(digest, out)).rejects.toThrow(/corrupt/);

    expect(await listFiles(out)).toEqual([]);
  });

  it('reports a missing file blob as NotFoundError', async () => {
    const digest = await store.putManifest({
      name: 'web',
      createdAt: '2026-01-01T00:00:00.000Z',
      files: [{ path: 'a.txt', digest: sha256('never stored'), size: 12, mode: 0o644 }],
    });

    await expect(store.extract(digest, join(dir, 'out'))).rejects.toBeInstanceOf(NotFoundError);
  });
});
