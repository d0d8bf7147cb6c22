import { spawnSync } from 'node:child_process';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../build/artifact-store.js';
import { NotFoundError, PlatformError } from '../shared/errors.js';
import { ensureUnpacked, releaseDirectory, removeUnpacked } from './release-files.js';
import type { Release } from './release.js';

/** A real store that counts extractions and can hold one open until `release()`. */
class WatchedStore extends ArtifactStore {
  extractions = 0;
  private gate: Promise<void> | undefined;
  private opened: (() => void) | undefined;
  private reachedGate: (() => void) | undefined;
  reached: Promise<void> = Promise.resolve();

  holdNextExtraction(): void {
    this.gate = new Promise((resolve) => (this.opened = resolve));
    this.reached = new Promise((resolve) => (this.reachedGate = resolve));
  }

  release(): void {
    this.opened?.();
  }

  override async extract(digest: string, destination: string): Promise<void> {
    this.extractions++;
    await super.extract(digest, destination);
    const gate = this.gate;
    this.gate = undefined;
    if (gate !== undefined) {
      this.reachedGate?.();
      await gate;
    }
  }
}

let dir: string;
let artifacts: WatchedStore;
let releasesRoot: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phoenix-release-files-'));
  artifacts = new WatchedStore(join(dir, 'artifacts'));
  releasesRoot = join(dir, 'releases');
});

afterEach(async () => {
  await removeUnpacked(RELEASE_ID, releasesRoot).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const RELEASE_ID = 'rel_0mwr2q5ez6trjwz53';

/** An artifact with a script, a nested file and a symbolic link, as a build stores one. */
async function storedArtifact(): Promise<Pick<Release, 'id' | 'artifact'>> {
  const source = join(dir, 'src');
  await mkdir(join(source, 'public'), { recursive: true });
  await writeFile(join(source, 'server.js'), 'console.log("up")\n');
  await chmod(join(source, 'server.js'), 0o755);
  await writeFile(join(source, 'public', 'index.html'), '<h1>shop</h1>\n');
  const server = await artifacts.putFile(join(source, 'server.js'));
  const index = await artifacts.putFile(join(source, 'public', 'index.html'));
  const link = await artifacts.putFile(await linkTargetFile('server.js'));
  const digest = await artifacts.putManifest({
    name: 'shop-web',
    createdAt: new Date(0).toISOString(),
    files: [
      { path: 'server.js', digest: server.digest, size: server.size, mode: 0o755 },
      { path: 'public/index.html', digest: index.digest, size: index.size, mode: 0o644 },
      { path: 'main.js', digest: link.digest, size: 9, mode: 0o777, linkTarget: 'server.js' },
    ],
  });
  return { id: RELEASE_ID, artifact: { name: 'shop-web', digest } };
}

/** A file whose content is a link's target: a link's digest is its target's. */
async function linkTargetFile(target: string): Promise<string> {
  const path = join(dir, 'link-target');
  await writeFile(path, target);
  return path;
}

describe('ensureUnpacked', () => {
  it('unpacks the artifact into releases/<id>, files and folders read-only', async () => {
    const release = await storedArtifact();

    const directory = await ensureUnpacked(release, { artifacts, releasesRoot });

    expect(directory).toBe(join(releasesRoot, RELEASE_ID));
    expect(await readFile(join(directory, 'server.js'), 'utf8')).toBe('console.log("up")\n');
    expect(await readFile(join(directory, 'public', 'index.html'), 'utf8')).toBe('<h1>shop</h1>\n');
    expect(await readlink(join(directory, 'main.js'))).toBe('server.js');
    expect((await stat(join(directory, 'server.js'))).mode & 0o777).toBe(0o555);
    expect((await stat(join(directory, 'public', 'index.html'))).mode & 0o777).toBe(0o444);
    expect((await stat(join(directory, 'public'))).mode & 0o222).toBe(0);
    expect((await stat(directory)).mode & 0o222).toBe(0);
    expect(await readdir(releasesRoot)).toEqual([RELEASE_ID]);
  });

  it('returns the folder already there without unpacking again', async () => {
    const release = await storedArtifact();
    const first = await ensureUnpacked(release, { artifacts, releasesRoot });
    const inode = (await lstat(first)).ino;

    const second = await ensureUnpacked(release, { artifacts, releasesRoot });

    expect(second).toBe(first);
    expect((await lstat(second)).ino).toBe(inode);
    expect(artifacts.extractions).toBe(1);
  });

  it('shows no folder until the whole release is unpacked', async () => {
    const release = await storedArtifact();
    artifacts.holdNextExtraction();

    const unpacking = ensureUnpacked(release, { artifacts, releasesRoot });
    await artifacts.reached;
    const during = await readdir(releasesRoot);
    artifacts.release();
    await unpacking;

    expect(during).toEqual([expect.stringMatching(/^\.rel_0mwr2q5ez6trjwz53\.partial-/)]);
    expect(await readdir(releasesRoot)).toEqual([RELEASE_ID]);
  });

  it('gives concurrent calls the same complete folder and leaves no partial copies', async () => {
    const release = await storedArtifact();

    const directories = await Promise.all(
      Array.from({ length: 6 }, () => ensureUnpacked(release, { artifacts, releasesRoot })),
    );

    expect(artifacts.extractions).toBeGreaterThan(1);
    expect(new Set(directories)).toEqual(new Set([join(releasesRoot, RELEASE_ID)]));
    expect(await readdir(releasesRoot)).toEqual([RELEASE_ID]);
    expect(await readFile(join(releasesRoot, RELEASE_ID, 'server.js'), 'utf8')).toBe(
      'console.log("up")\n',
    );
  });

  it('leaves nothing behind when the artifact cannot be extracted', async () => {
    const release = await storedArtifact();
    const missing = {
      ...release,
      artifact: { ...release.artifact, digest: `sha256:${'0'.repeat(64)}` },
    };

    await expect(ensureUnpacked(missing, { artifacts, releasesRoot })).rejects.toThrow(
      NotFoundError,
    );

    expect(await readdir(releasesRoot)).toEqual([]);
  });

  it("removes partial folders of processes that died, keeping a live process's", async () => {
    const release = await storedArtifact();
    const dead = spawnSync('true').pid;
    const crashed = join(releasesRoot, `.${RELEASE_ID}.partial-${dead}-0a1b2c3d`);
    const live = join(releasesRoot, `.${RELEASE_ID}.partial-${process.pid}-0a1b2c3e`);
    const other = join(releasesRoot, `.rel_other.partial-${dead}-0a1b2c3f`);
    for (const folder of [crashed, live, other]) {
      await mkdir(join(folder, 'nested'), { recursive: true });
      await chmod(join(folder, 'nested'), 0o555);
    }

    await ensureUnpacked(release, { artifacts, releasesRoot });

    expect((await readdir(releasesRoot)).sort()).toEqual(
      [
        RELEASE_ID,
        `.rel_other.partial-${dead}-0a1b2c3f`,
        `.${RELEASE_ID}.partial-${process.pid}-0a1b2c3e`,
      ].sort(),
    );
  });

  it.each(['../etc', 'rel_../x', 'r_0mwr2q5ez6trjwz53', ''])(
    'refuses %j as a release id before touching the disk',
    async (id) => {
      const release = await storedArtifact();

      await expect(ensureUnpacked({ ...release, id }, { artifacts, releasesRoot })).rejects.toThrow(
        PlatformError,
      );
      expect(() => releaseDirectory(releasesRoot, id)).toThrow(PlatformError);
    },
  );
});

describe('removeUnpacked', () => {
  it('deletes the read-only folder, and is fine when there is none', async () => {
    const release = await storedArtifact();
    await ensureUnpacked(release, { artifacts, releasesRoot });

    await removeUnpacked(RELEASE_ID, releasesRoot);
    await removeUnpacked(RELEASE_ID, releasesRoot);

    expect(await readdir(releasesRoot)).toEqual([]);
  });
});
