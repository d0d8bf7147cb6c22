import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFiles, git, gitRepo, tempDir } from '../../test/support/git-fixture.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import {
  changedPaths,
  createBareRepository,
  isBareRepository,
  listRefs,
  readFileAt,
  repositoryPath,
  validateRepositoryName,
} from './hosted-repository.js';

const ZERO = '0'.repeat(40);

describe('repository names and paths', () => {
  it.each(['shop', 'a', 'api-gateway', 'svc2', `a${'b'.repeat(62)}`])('accepts %j', (name) => {
    expect(validateRepositoryName(name)).toBeUndefined();
    expect(repositoryPath('/srv/repos', name)).toBe(`/srv/repos/${name}.git`);
  });

  it.each([
    '',
    '..',
    '../etc',
    'a/b',
    'a\\b',
    '.git',
    'Shop',
    '-rf',
    '1shop',
    'shop.git',
    'shop\n',
    'a b',
    `a${'b'.repeat(63)}`,
  ])('refuses %j', (name) => {
    expect(validateRepositoryName(name)).toMatch(/lower-case/);
    expect(() => repositoryPath('/srv/repos', name)).toThrow(ValidationError);
  });
});

describe('hosted repositories', () => {
  let dir: ReturnType<typeof tempDir>;
  let root: string;
  let work: string;

  beforeEach(() => {
    dir = tempDir();
    root = join(dir.path, 'repos');
    work = join(dir.path, 'work');
  });

  afterEach(() => dir.remove());

  it('creates an empty bare repository whose default branch is main', async () => {
    const { path } = await createBareRepository(root, 'shop');

    expect(path).toBe(join(root, 'shop.git'));
    expect(await isBareRepository(path)).toBe(true);
    expect(git(path, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(git(path, 'config', 'http.receivepack')).toBe('true');
    expect(await listRefs(path)).toEqual(new Map());
  });

  it('refuses a name that is taken, and leaves the first repository alone', async () => {
    const { path } = await createBareRepository(root, 'shop');
    const commit = gitRepo(work, { 'a.txt': 'a' });
    git(work, 'push', '-q', path, 'main');

    await expect(createBareRepository(root, 'shop')).rejects.toThrow(ConflictError);
    expect(await listRefs(path)).toEqual(new Map([['refs/heads/main', commit]]));
  });

  it('refuses a hostile name before touching the disk', async () => {
    await expect(createBareRepository(root, '../escape')).rejects.toThrow(ValidationError);

    expect(existsSync(join(dir.path, 'escape.git'))).toBe(false);
    expect(existsSync(root)).toBe(false);
  });

  it('is not a bare repository when the folder is missing or a working tree', async () => {
    gitRepo(work, { 'a.txt': 'a' });

    expect(await isBareRepository(join(root, 'missing.git'))).toBe(false);
    expect(await isBareRepository(work)).toBe(false);
  });

  it('lists branches and tags, peeling annotated tags to their commit', async () => {
    const { path } = await createBareRepository(root, 'shop');
    const first = gitRepo(work, { 'a.txt': 'a' });
    git(work, 'tag', 'light');
    git(work, 'tag', '-a', '-m', 'release', 'v1.0.0');
    const second = commitFiles(work, { 'b.txt': 'b' });
    git(work, 'branch', 'feature/x', first);
    git(work, 'push', '-q', path, 'main', 'feature/x', '--tags');

    const refs = await listRefs(path);

    expect(refs).toEqual(
      new Map([
        ['refs/heads/feature/x', first],
        ['refs/heads/main', second],
        ['refs/tags/light', first],
        ['refs/tags/v1.0.0', first],
      ]),
    );
  });

  it('fails with NotFoundError for a repository that does not exist', async () => {
    await expect(listRefs(join(root, 'missing.git'))).rejects.toThrow(NotFoundError);
  });

  it('lists the files changed between two commits, including deletions and odd names', async () => {
    const { path } = await createBareRepository(root, 'shop');
    const first = gitRepo(work, { 'keep.txt': 'k', 'gone.txt': 'g', 'src/app.ts': '1' });
    git(work, 'rm', '-q', 'gone.txt');
    const second = commitFiles(work, { 'src/app.ts': '2', 'new file\nwith newline.txt': 'n' });
    git(work, 'push', '-q', path, 'main');

    const paths = await changedPaths(path, first, second);

    expect(paths?.sort()).toEqual(['gone.txt', 'new file\nwith newline.txt', 'src/app.ts']);
  });

  it('has no changed paths for a new ref, a deleted ref or an unknown old commit', async () => {
    const { path } = await createBareRepository(root, 'shop');
    const commit = gitRepo(work, { 'a.txt': 'a' });
    git(work, 'push', '-q', path, 'main');

    expect(await changedPaths(path, ZERO, commit)).toBeUndefined();
    expect(await changedPaths(path, undefined, commit)).toBeUndefined();
    expect(await changedPaths(path, commit, ZERO)).toBeUndefined();
    expect(await changedPaths(path, 'f'.repeat(40), commit)).toBeUndefined();
  });

  it('refuses anything but full commit ids', async () => {
    const { path } = await createBareRepository(root, 'shop');
    const commit = gitRepo(work, { 'a.txt': 'a' });
    git(work, 'push', '-q', path, 'main');

    await expect(changedPaths(path, '--output=/tmp/x', commit)).rejects.toThrow(ValidationError);
    await expect(changedPaths(path, commit, 'HEAD')).rejects.toThrow(ValidationError);
  });

  it('reads a file as committed, and nothing for a missing file or a folder', async () => {
    const { path } = await createBareRepository(root, 'shop');
    const first = gitRepo(work, { 'phoenix.yml': 'name: shop\n', 'src/app.ts': 'x' });
    const second = commitFiles(work, { 'phoenix.yml': 'name: shop2\n' });
    git(work, 'push', '-q', path, 'main');

    expect(await readFileAt(path, first, 'phoenix.yml')).toBe('name: shop\n');
    expect(await readFileAt(path, second, 'phoenix.yml')).toBe('name: shop2\n');
    expect(await readFileAt(path, second, 'src/app.ts')).toBe('x');
    expect(await readFileAt(path, second, 'missing.yml')).toBeUndefined();
    expect(await readFileAt(path, second, 'src')).toBeUndefined();
  });

  it.each(['', '/etc/passwd', '../x', './phoenix.yml', 'a//b', 'a/../../b', 'a\nb'])(
    'refuses to read the path %j',
    async (file) => {
      const { path } = await createBareRepository(root, 'shop');
      const commit = gitRepo(work, { 'a.txt': 'a' });
      git(work, 'push', '-q', path, 'main');

      await expect(readFileAt(path, commit, file)).rejects.toThrow(ValidationError);
    },
  );

  it('fails with NotFoundError for an unknown commit', async () => {
    const { path } = await createBareRepository(root, 'shop');

    await expect(readFileAt(path, 'a'.repeat(40), 'phoenix.yml')).rejects.toThrow(NotFoundError);
  });
});
