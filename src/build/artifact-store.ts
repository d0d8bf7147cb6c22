import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  readFile,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { NotFoundError, PhoenixError, PlatformError } from '../shared/errors.js';
import type { StoredFile } from './build-result.js';

/** What one artifact holds. Stored as a blob itself; its digest is the artifact's identity. */
export interface ArtifactManifest {
  name: string;
  files: StoredFile[];
  createdAt: string;
  buildId?: string;
}

export interface StoredBlob {
  /** `sha256:<64 lowercase hex>`. */
  digest: string;
  size: number;
}

const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** A digest string that is not `sha256:<64 lowercase hex>`; refused before any path is built from it. */
export class InvalidDigestError extends PhoenixError {
  readonly code = 'validation';

  constructor(readonly digest: string) {
    super(`invalid digest ${JSON.stringify(digest)}: expected sha256:<64 lowercase hex digits>`);
  }
}

export function isDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

export function sha256Digest(content: string | Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

const manifestSchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  buildId: z.string().optional(),
  files: z.array(
    z.object({
      path: z.string(),
      digest: z.string().regex(DIGEST_PATTERN),
      size: z.number().int().nonnegative(),
      mode: z.number().int().min(0).max(0o777),
      linkTarget: z.string().optional(),
    }),
  ),
});

/**
 * A content-addressed store: every blob lives at `blobs/sha256/<2 hex>/<62 hex>` under the
 * root, written to `tmp/` first and renamed into place, so a reader never sees half a blob
 * and concurrent writers of the same content are harmless. Blobs are never modified.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  blobPath(digest: string): string {
    const hex = checkedHex(digest);
    return join(this.root, 'blobs', 'sha256', hex.slice(0, 2), hex.slice(2));
  }

  async has(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  /** Copies a file into the store, hashing it on the way; the same content is stored once. */
  async putFile(path: string): Promise<StoredBlob> {
    const temp = await this.tempPath();
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        createReadStream(path),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(temp, { flags: 'wx', mode: 0o644 }),
      );
      const digest = `sha256:${hash.digest('hex')}`;
      await this.commit(temp, digest);
      return { digest, size };
    } catch (error) {
      await rm(temp, { force: true });
      throw wrap(error, `cannot store ${path}`);
    }
  }

  /** Stores the manifest as canonical JSON (files sorted by path) and returns its digest. */
  async putManifest(manifest: ArtifactManifest): Promise<string> {
    for (const file of manifest.files) checkManifestPath(file.path);
    const bytes = Buffer.from(canonicalManifest(manifest), 'utf8');
    const digest = sha256Digest(bytes);
    const temp = await this.tempPath();
    try {
      await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
      await this.commit(temp, digest);
    } catch (error) {
      await rm(temp, { force: true });
      throw wrap(error, `cannot store manifest of ${manifest.name}`);
    }
    return digest;
  }

  async getManifest(digest: string): Promise<ArtifactManifest> {
    const bytes = await this.readBlob(digest, 'artifact manifest');
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new PlatformError(`artifact manifest ${digest} is not JSON`, { cause: error });
    }
    const result = manifestSchema.safeParse(parsed);
    if (!result.success) {
      throw new PlatformError(`artifact manifest ${digest} is malformed: ${result.error.message}`);
    }
    return result.data;
  }

  /**
   * Recreates an artifact's files under `destination` (created when missing). Entries whose
   * path is absolute or climbs with `..`, or which would pass through a symbolic link, are
   * refused: nothing is ever written outside `destination`. Each blob's hash is checked.
   */
  async extract(manifestDigest: string, destination: string): Promise<void> {
    const manifest = await this.getManifest(manifestDigest);
    for (const file of manifest.files) checkManifestPath(file.path);
    await mkdir(destination, { recursive: true });
    for (const file of manifest.files) {
      const target = await prepareTarget(destination, file.path);
      if (file.linkTarget !== undefined) {
        if (sha256Digest(file.linkTarget) !== file.digest) {
          throw new PlatformError(`${file.path}: link target does not match its digest`);
        }
        await symlink(file.linkTarget, target);
      } else {
        await this.copyOut(file, target);
      }
    }
  }

  private async copyOut(file: StoredFile, target: string): Promise<void> {
    const hash = createHash('sha256');
    try {
      await pipeline(
        createReadStream(this.blobPath(file.digest)),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(target, { flags: 'wx', mode: 0o600 }),
      );
    } catch (error) {
      await rm(target, { force: true });
      if (errorCode(error) === 'ENOENT' && !(await this.has(file.digest))) {
        throw new NotFoundError(`blob ${file.digest} of ${file.path} not found`, { cause: error });
      }
      throw wrap(error, `cannot extract ${file.path}`);
    }
    if (`sha256:${hash.digest('hex')}` !== file.digest) {
      await unlink(target);
      throw new PlatformError(`blob ${file.digest} of ${file.path} is corrupt`);
    }
    await chmod(target, file.mode & 0o777);
  }

  private async readBlob(digest: string, what: string): Promise<Buffer> {
    const path = this.blobPath(digest);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new NotFoundError(`${what} ${digest} not found`, { cause: error });
      }
      throw wrap(error, `cannot read ${what} ${digest}`);
    }
    const actual = sha256Digest(bytes);
    if (actual !== digest) {
      throw new PlatformError(`${what} ${digest} is corrupt: its content hashes to ${actual}`);
    }
    return bytes;
  }

  private async tempPath(): Promise<string> {
    const directory = join(this.root, 'tmp');
    await mkdir(directory, { recursive: true });
    return join(directory, randomUUID());
  }

  /** Moves a finished temp file into place, or drops it when the blob already exists. */
  private async commit(temp: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (await exists(target)) {
      await rm(temp, { force: true });
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(temp, target);
  }
}

/** Stable bytes for a manifest: fixed key order, files sorted by path, no whitespace. */
export function canonicalManifest(manifest: ArtifactManifest): string {
  const files = [...manifest.files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => ({
      path: file.path,
      digest: file.digest,
      size: file.size,
      mode: file.mode,
      ...(file.linkTarget === undefined ? {} : { linkTarget: file.linkTarget }),
    }));
  return JSON.stringify({
    name: manifest.name,
    ...(manifest.buildId === undefined ? {} : { buildId: manifest.buildId }),
    createdAt: manifest.createdAt,
    files,
  });
}

/** Manifest paths are relative, `/`-separated, and never climb: `a/b.txt`, not `../b` or `/b`. */
function checkManifestPath(path: string): void {
  const segments = path.split('/');
  const bad =
    path === '' ||
    isAbsolute(path) ||
    path.includes('\0') ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad) {
    throw new PlatformError(
      `artifact path ${JSON.stringify(path)} is not a plain relative path; refusing to extract it`,
    );
  }
}

/**
 * Creates the parent folders of `path` one level at a time, refusing any level that already
 * exists as something other than a real folder (a symbolic link could lead outside), and
 * clears whatever file or link sits at the final name.
 */
async function prepareTarget(destination: string, path: string): Promise<string> {
  const segments = path.split('/');
  let current = destination;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    const stats = await lstatOrUndefined(current);
    if (stats === undefined) {
      await mkdir(current);
    } else if (!stats.isDirectory()) {
      throw new PlatformError(
        `${path}: ${current} exists and is not a folder; refusing to extract`,
      );
    }
  }
  const target = join(destination, path);
  const existing = await lstatOrUndefined(target);
  if (existing?.isDirectory()) {
    throw new PlatformError(`${path}: ${target} is a folder; refusing to replace it`);
  }
  if (existing !== undefined) await unlink(target);
  return target;
}

function checkedHex(digest: string): string {
  if (!DIGEST_PATTERN.test(digest)) throw new InvalidDigestError(digest);
  return digest.slice('sha256:'.length);
}

async function exists(path: string): Promise<boolean> {
  return (await lstatOrUndefined(path)) !== undefined;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function wrap(error: unknown, message: string): PhoenixError {
  return error instanceof PhoenixError ? error : new PlatformError(message, { cause: error });
}
