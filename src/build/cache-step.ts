import type { CacheSpec } from '../config/buildspec.js';
import type { ValidationIssue } from '../shared/errors.js';
import type { BuildCache } from './build-cache.js';
import type { CacheResult } from './build-result.js';
import { CachePathError, cacheDirectories, type CacheLocation } from './cache-paths.js';

/** Why the buildspec's cache paths cannot be used, as issues naming `cache.paths`. */
export function cachePathIssues(
  spec: CacheSpec | undefined,
  where: CacheLocation,
): ValidationIssue[] {
  if (spec === undefined) return [];
  try {
    cacheDirectories(spec, where);
    return [];
  } catch (error) {
    if (!(error instanceof CachePathError)) throw error;
    return [{ location: spec.location, key: 'cache.paths', message: error.message }];
  }
}

/**
 * A build's use of its cache: restore before install (keys evaluated in the build's shell,
 * so `$(codebuild-hash-files ...)` works), save after a successful build.
 */
export class CacheStep {
  private result: CacheResult | undefined;
  private key: string | undefined;

  constructor(
    private readonly spec: CacheSpec,
    private readonly cache: BuildCache,
    private readonly where: CacheLocation,
    private readonly log: (text: string) => void,
  ) {}

  async restore(expand: (text: string) => Promise<string>): Promise<void> {
    this.key = this.spec.key === undefined ? undefined : await expand(this.spec.key);
    const fallbacks: string[] = [];
    for (const key of this.spec.fallbackKeys) fallbacks.push(await expand(key));
    this.result = await this.cache.restore(this.spec, this.key, fallbacks, this.where);
    const restored = this.result.restoredKey ? ` (${this.result.restoredKey})` : '';
    this.log(`Cache ${this.result.restore}${restored}`);
  }

  async finish(succeeded: boolean): Promise<CacheResult | undefined> {
    if (this.result === undefined) return undefined;
    if (!succeeded) return { ...this.result, saved: false, note: 'the build did not succeed' };
    this.result = await this.cache.save(this.spec, this.key, this.where, this.result);
    const savedAs = this.result.savedKey ? ` as ${this.result.savedKey}` : '';
    this.log(
      this.result.saved
        ? `Cache saved${savedAs}`
        : `Cache not saved: ${this.result.note ?? 'nothing to save'}`,
    );
    return this.result;
  }
}
