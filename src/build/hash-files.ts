import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import fg from 'fast-glob';

/**
 * The hash behind `codebuild-hash-files`, used in cache keys such as
 * `npm-$(codebuild-hash-files package-lock.json)`.
 *
 * Files matching the patterns below `root` (dot files included, directories not) are
 * sorted by relative path; for each one the line `<relative path>\0<sha256 of content>\n`
 * is fed to an outer SHA-256, whose hex digest is returned. The path takes part so that a
 * rename changes the key. When nothing matches, the result is the SHA-256 of nothing
 * (`e3b0c442…b855`), so a key never silently loses its hash part.
 *
 * `bin/codebuild-hash-files` implements the same bytes in plain JavaScript; change both
 * together.
 */
export async function hashFiles(root: string, patterns: readonly string[]): Promise<string> {
  const files = await fg([...patterns], { cwd: root, dot: true, onlyFiles: true, unique: true });
  files.sort();
  const outer = createHash('sha256');
  for (const file of files) {
    outer.update(`${file}\0${await hashContent(join(root, file))}\n`);
  }
  return outer.digest('hex');
}

function hashContent(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
