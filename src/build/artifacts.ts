import { lstat, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ArtifactSpec } from '../config/buildspec.js';
import { sha256Digest, type ArtifactStore } from './artifact-store.js';
import type { ArtifactResult, StoredFile } from './build-result.js';
import { matchFiles, type MatchedFile } from './file-set.js';

export interface UploadArtifactsOptions {
  specs: readonly ArtifactSpec[];
  /** The build's source folder; nothing outside it is uploaded. */
  root: string;
  store: ArtifactStore;
  buildId: string;
  /** The primary artifact's name when the buildspec gives none (CodeBuild uses the project's). */
  defaultName: string;
  /** Evaluates `$VAR` and `$(...)` in patterns, base directories, exclusions and names. */
  expand?: (text: string) => Promise<string>;
  clock?: () => Date;
}

/**
 * With discard-paths, two matched files would land on the same name. CodeBuild silently keeps
 * one of them; Phoenix refuses, so an artifact never loses a file without anyone noticing.
 */
export class ArtifactConflictError extends Error {
  constructor(
    readonly artifactId: string,
    readonly outputPath: string,
    readonly paths: readonly [string, string],
  ) {
    super(
      `artifact ${artifactId}: discard-paths puts both ${paths[0]} and ${paths[1]} at ${outputPath}`,
    );
    this.name = 'ArtifactConflictError';
  }
}

/** An artifact's patterns matched nothing; CodeBuild fails UPLOAD_ARTIFACTS the same way. */
export class NoArtifactFilesError extends Error {
  constructor(
    readonly artifactId: string,
    readonly patterns: readonly string[],
    readonly baseDirectory?: string,
  ) {
    const base = baseDirectory === undefined ? '' : ` in base-directory ${baseDirectory}`;
    super(
      `artifact ${artifactId}: no matching artifact paths found for ${patterns.join(', ')}${base}`,
    );
    this.name = 'NoArtifactFilesError';
  }
}

interface ExpandedSpec {
  id: string;
  name: string;
  files: string[];
  baseDirectory?: string;
  excludePaths: string[];
  discardPaths: boolean;
  keepSymlinks: boolean;
}

/**
 * Stores each artifact (primary first, then secondaries in buildspec order) and returns what
 * was stored. Fails on the first artifact that matches nothing, has a discard-paths name
 * conflict, or reaches outside `root` (`PathEscapeError` from the file set, unchanged).
 */
export async function uploadArtifacts(options: UploadArtifactsOptions): Promise<ArtifactResult[]> {
  const ordered = [
    ...options.specs.filter((spec) => spec.id === 'primary'),
    ...options.specs.filter((spec) => spec.id !== 'primary'),
  ];
  const results: ArtifactResult[] = [];
  for (const spec of ordered) {
    const expanded = await expandSpec(spec, options);
    results.push(await uploadOne(expanded, options));
  }
  return results;
}

async function uploadOne(
  spec: ExpandedSpec,
  options: UploadArtifactsOptions,
): Promise<ArtifactResult> {
  // Flattening happens here rather than in the file set, which would silently keep one
  // of two files sharing a basename.
  const matched = await matchFiles(options.root, {
    baseDirectory: spec.baseDirectory,
    files: spec.files,
    excludePaths: spec.excludePaths,
    discardPaths: false,
    keepSymlinks: spec.keepSymlinks,
  });
  if (matched.length === 0) {
    throw new NoArtifactFilesError(spec.id, spec.files, spec.baseDirectory);
  }
  const entries = spec.discardPaths ? flatten(spec.id, matched) : matched;
  const files: StoredFile[] = [];
  for (const entry of entries) files.push(await storeEntry(options.store, entry));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const digest = await options.store.putManifest({
    name: spec.name,
    files,
    createdAt: (options.clock ?? (() => new Date()))().toISOString(),
    buildId: options.buildId,
  });
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  return { id: spec.id, name: spec.name, digest, files, totalBytes };
}

function flatten(artifactId: string, matched: readonly MatchedFile[]): MatchedFile[] {
  const byName = new Map<string, MatchedFile>();
  for (const file of matched) {
    const outputPath = posix.basename(file.outputPath);
    const earlier = byName.get(outputPath);
    if (earlier !== undefined) {
      throw new ArtifactConflictError(artifactId, outputPath, [
        earlier.outputPath,
        file.outputPath,
      ]);
    }
    byName.set(outputPath, file);
  }
  return [...byName.entries()].map(([outputPath, file]) => ({ ...file, outputPath }));
}

async function storeEntry(store: ArtifactStore, file: MatchedFile): Promise<StoredFile> {
  if (file.linkTarget !== undefined) {
    const stats = await lstat(file.absolutePath);
    return {
      path: file.outputPath,
      digest: sha256Digest(file.linkTarget),
      size: 0,
      mode: stats.mode & 0o777,
      linkTarget: file.linkTarget,
    };
  }
  const stats = await stat(file.absolutePath);
  const { digest, size } = await store.putFile(file.absolutePath);
  return { path: file.outputPath, digest, size, mode: stats.mode & 0o777 };
}

async function expandSpec(
  spec: ArtifactSpec,
  options: UploadArtifactsOptions,
): Promise<ExpandedSpec> {
  const expand = options.expand ?? ((text: string) => Promise.resolve(text));
  const expandAll = async (texts: readonly string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const text of texts) out.push(await expand(text));
    return out;
  };
  const fallbackName = spec.id === 'primary' ? options.defaultName : spec.id;
  const name = spec.name === undefined ? '' : await expand(spec.name);
  return {
    id: spec.id,
    name: name === '' ? fallbackName : name,
    files: await expandAll(spec.files),
    baseDirectory: spec.baseDirectory === undefined ? undefined : await expand(spec.baseDirectory),
    excludePaths: await expandAll(spec.excludePaths),
    discardPaths: spec.discardPaths,
    keepSymlinks: spec.enableSymlinks,
  };
}
