/**
 * Prints the compatibility table of the real-world buildspec corpus, for docs/buildspec.md:
 *
 *   npx tsx scripts/corpus-table.ts > /tmp/t.md
 *
 * then paste it between the corpus-table markers. The folder defaults to the corpus next to
 * the repository (`../shared/corpus/buildspec`); another folder can be given as the argument.
 */
import { join, resolve } from 'node:path';
import { assessFolder, BARE_ROOT_MACHINE, renderCorpusTable } from '../src/build/corpus-report.js';

const repositoryRoot = join(import.meta.dirname, '..');
const folder = resolve(
  process.argv[2] ?? join(repositoryRoot, '..', 'shared', 'corpus', 'buildspec'),
);

process.stdout.write(renderCorpusTable(await assessFolder(folder, BARE_ROOT_MACHINE)));
