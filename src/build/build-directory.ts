import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface BuildDirectory {
  number: number;
  path: string;
}

/** A project name safe as a folder name and inside CODEBUILD_BUILD_ID. */
export function projectName(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return cleaned === '' ? 'project' : cleaned.slice(0, 100);
}

/**
 * Claims the next build number of a project by creating its folder: `mkdir` either makes the
 * folder or fails because another build took the number first, so concurrent builds never
 * share one.
 */
export async function allocateBuildDirectory(
  buildsRoot: string,
  project: string,
): Promise<BuildDirectory> {
  const projectRoot = join(buildsRoot, project);
  await mkdir(projectRoot, { recursive: true });
  for (;;) {
    const numbers = (await readdir(projectRoot)).filter((name) => /^\d+$/.test(name)).map(Number);
    const number = numbers.length === 0 ? 1 : Math.max(...numbers) + 1;
    const path = join(projectRoot, String(number));
    try {
      await mkdir(path);
      return { number, path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
