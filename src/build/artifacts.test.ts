import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactSpec } from '../config/buildspec.js';
import { ArtifactStore } from './artifact-store.js';
import {
  ArtifactConflictError,
  NoArtifactFilesError,
  uploadArtifacts,
  type UploadArtifactsOptions,
} from './artifacts.js';
import { PathEscapeError } from './file-set.js';

function sha256(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

function artifactSpec(overrides: Partial<ArtifactSpec> = {}): ArtifactSpec {
  return {
    id: 'primary',
    files: ['**/*'],
    discardPaths: false,
    excludePaths: [],
    enableSymlinks: false,
    key: 'artifacts',
    path: ['artifacts'],
    location: { file: 'buildspec.yml', line: 1, column: 1 },
    ...overrides,
  };
}

let dir: string;
let root: string;
let store: ArtifactStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phoenix-artifacts-'));
  root = join(dir, 'src');
  store = new ArtifactStore(join(dir, 'artifacts'));
  await mkdir(root);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(path: string, content: string, mode = 0o644): Promise<void> {
  const absolute = join(root, path);
  await mkdir(dirname(absolute), { recursive: true });
  await writeFile(absolute, content);
  await chmod(absolute, mode);
}

function upload(specs: ArtifactSpec[], extra: Partial<UploadArtifactsOptions> = {}) {
  return uploadArtifacts({
    specs,
    root,
    store,
    buildId: 'build-7',
    defaultName: 'my-project',
    clock: () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    ...extra,
  });
}

describe('uploadArtifacts', () => {
  it('stores every file matched by **/* with its digest, size and mode', async () => {
    await write('README.md', 'readme');
    await write('bin/run.sh', '#!/bin/sh\n', 0o755);
    await write('dist/lib/util.js', 'util');

    const [result] = await upload([artifactSpec()]);

    expect(result).toEqual({
      id: 'primary',
      name: 'my-project',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      totalBytes: 6 + 10 + 4,
      files: [
        { path: 'README.md', digest: sha256('readme'), size: 6, mode: 0o644 },
        { path: 'bin/run.sh', digest: sha256('#!/bin/sh\n'), size: 10, mode: 0o755 },
        { path: 'dist/lib/util.js', digest: sha256('util'), size: 4, mode: 0o644 },
      ],
    });
    expect(await store.has(sha256('readme'))).toBe(true);
    expect(await store.getManifest(result?.digest ?? '')).toEqual({
      name: 'my-project',
      buildId: 'build-7',
      createdAt: '2026-01-02T03:04:05.000Z',
      files: result?.files,
    });
  });

  it('makes paths relative to base-directory', async () => {
    await write('src/app.ts', 'source');
    await write('dist/app.js', 'app');
    await write('dist/lib/util.js', 'util');

    const [result] = await upload([artifactSpec({ baseDirectory: 'dist' })]);

    expect(result?.files.map((file) => [file.path, file.digest])).toEqual([
      ['app.js', sha256('app')],
      ['lib/util.js', sha256('util')],
    ]);
  });

  it('merges every folder a base-directory glob matches', async () => {
    await write('dist-web/index.html', 'html');
    await write('dist-api/server.js', 'server');
    await write('docs/guide.md', 'guide');

    const [result] = await upload([artifactSpec({ baseDirectory: 'dist*' })]);

    expect(result?.files.map((file) => [file.path, file.digest])).toEqual([
      ['index.html', sha256('html')],
      ['server.js', sha256('server')],
    ]);
  });

  it('flattens paths with discard-paths', async () => {
    await write('dist/app.js', 'app');
    await write('dist/lib/util.js', 'util');

    const [result] = await upload([artifactSpec({ discardPaths: true })]);

    expect(result?.files.map((file) => [file.path, file.digest])).toEqual([
      ['app.js', sha256('app')],
      ['util.js', sha256('util')],
    ]);
  });

  it('refuses two files that discard-paths would put at the same name', async () => {
    await write('a/config.json', 'a');
    await write('b/config.json', 'b');

    const error = await upload([artifactSpec({ discardPaths: true })]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ArtifactConflictError);
    expect(error).toMatchObject({
      artifactId: 'primary',
      outputPath: 'config.json',
      paths: ['a/config.json', 'b/config.json'],
    });
  });

  it('leaves out exclude-paths', async () => {
    await write('dist/app.js', 'app');
    await write('dist/app.js.map', 'map');
    await write('dist/test/app.test.js', 'test');

    const [result] = await upload([artifactSpec({ excludePaths: ['**/*.map', 'dist/test/**/*'] })]);

    expect(result?.files.map((file) => file.path)).toEqual(['dist/app.js']);
  });

  it('uploads the primary artifact first, then secondaries under their identifiers', async () => {
    await write('web/index.html', 'html');
    await write('api/server.js', 'server');
    const specs = [
      artifactSpec({ id: 'api', files: ['api/**/*'] }),
      artifactSpec({ id: 'web', files: ['web/**/*'], name: 'website' }),
      artifactSpec({ files: ['**/*'] }),
    ];

    const results = await upload(specs);

    expect(results.map((result) => [result.id, result.name])).toEqual([
      ['primary', 'my-project'],
      ['api', 'api'],
      ['web', 'website'],
    ]);
    expect(results[1]?.files.map((file) => file.path)).toEqual(['api/server.js']);
    expect(results[2]?.files.map((file) => file.path)).toEqual(['web/index.html']);
    expect((await store.getManifest(results[2]?.digest ?? '')).name).toBe('website');
  });

  it('fails when an artifact matches nothing, naming its patterns', async () => {
    await write('dist/app.js', 'app');

    const error = await upload([artifactSpec({ files: ['build/**/*', '*.zip'] })]).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(NoArtifactFilesError);
    expect(error).toMatchObject({ artifactId: 'primary', patterns: ['build/**/*', '*.zip'] });
    expect(String(error)).toContain('no matching artifact paths found for build/**/*, *.zip');
  });

  it('fails when base-directory does not exist', async () => {
    await write('dist/app.js', 'app');

    const result = upload([artifactSpec({ baseDirectory: 'out' })]);

    await expect(result).rejects.toBeInstanceOf(NoArtifactFilesError);
  });

  it.each([['../secret'], ['/etc/*'], ['dist/../../secret']])(
    'refuses the escaping pattern %s',
    async (pattern) => {
      await write('dist/app.js', 'app');
      await writeFile(join(dir, 'secret'), 'secret');

      const result = upload([artifactSpec({ files: [pattern] })]);

      await expect(result).rejects.toBeInstanceOf(PathEscapeError);
    },
  );

  it('refuses a symbolic link that points outside the root', async () => {
    await writeFile(join(dir, 'secret'), 'secret');
    await write('dist/app.js', 'app');
    await symlink(join(dir, 'secret'), join(root, 'dist', 'leak'));

    const result = upload([artifactSpec({ files: ['dist/**/*'] })]);

    await expect(result).rejects.toBeInstanceOf(PathEscapeError);
  });

  it('stores the content a symbolic link inside the root points to', async () => {
    await write('dist/app.js', 'app');
    await symlink('app.js', join(root, 'dist', 'current.js'));

    const [result] = await upload([artifactSpec({ files: ['dist/**/*'] })]);

    expect(result?.files).toEqual([
      { path: 'dist/app.js', digest: sha256('app'), size: 3, mode: 0o644 },
      { path: 'dist/current.js', digest: sha256('app'), size: 3, mode: 0o644 },
    ]);
  });

  it('keeps symbolic links as links with enable-symlinks', async () => {
    await write('dist/app.js', 'app');
    await symlink('app.js', join(root, 'dist', 'current.js'));

    const [result] = await upload([artifactSpec({ files: ['dist/**/*'], enableSymlinks: true })]);

    expect(result?.files).toEqual([
      { path: 'dist/app.js', digest: sha256('app'), size: 3, mode: 0o644 },
      {
        path: 'dist/current.js',
        digest: sha256('app.js'),
        size: 0,
        mode: 0o777,
        linkTarget: 'app.js',
      },
    ]);
  });

  it('expands variables in patterns, base-directory, exclusions and name', async () => {
    await write('out/v1/app.js', 'app');
    await write('out/v1/app.js.map', 'map');
    const variables: Record<string, string> = { OUT: 'out/v1', EXT: 'js', SKIP: '*.map' };
    const seen: string[] = [];
    const expand = async (text: string): Promise<string> => {
      seen.push(text);
      return text.replace(/\$(\w+)/g, (_, name: string) => variables[name] ?? '');
    };
    const spec = artifactSpec({
      baseDirectory: '$OUT',
      files: ['**/*.$EXT*'],
      excludePaths: ['$SKIP'],
      name: 'app-$EXT',
    });

    const [result] = await upload([spec], { expand });

    expect(result?.name).toBe('app-js');
    expect(result?.files.map((file) => file.path)).toEqual(['app.js']);
    expect(seen.sort()).toEqual(['$OUT', '$SKIP', '**/*.$EXT*', 'app-$EXT']);
  });
});
