/**
 * Prints the compatibility table of the real-world AppSpec corpus, for docs/appspec.md:
 *
 *   npx tsx scripts/appspec-table.ts > /tmp/t.md
 *
 * then paste it between the appspec-corpus-table markers. The folder defaults to the corpus
 * next to the repository (`../shared/corpus/appspec`); another folder can be given as the
 * argument.
 */
import { join, resolve } from 'node:path';
import {
  assessAppspecFolder,
  CORPUS_MACHINE,
  renderAppspecTable,
} from '../src/config/appspec-corpus.js';

const repositoryRoot = join(import.meta.dirname, '..');
const folder = resolve(
  process.argv[2] ?? join(repositoryRoot, '..', 'shared', 'corpus', 'appspec'),
);

process.stdout.write(renderAppspecTable(await assessAppspecFolder(folder, CORPUS_MACHINE)));
