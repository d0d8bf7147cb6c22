import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { staticSecrets } from './secrets.js';
import { formatIssue } from '../shared/errors.js';
import {
  assessBuildspec,
  assessFolder,
  BARE_ROOT_MACHINE,
  renderCorpusTable,
  type CorpusEntry,
} from './corpus-report.js';

const REPOSITORY = join(import.meta.dirname, '..', '..');
const CORPUS = join(REPOSITORY, '..', 'shared', 'corpus', 'buildspec');
const DOC = join(REPOSITORY, 'docs', 'buildspec.md');

function buildspec(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const BUILD_PHASE = ['phases:', '  build:', '    commands:', '      - make'];

describe('assessBuildspec', () => {
  it('lets a plain buildspec start, with nothing to say', async () => {
    const text = buildspec(
      'version: 0.2',
      ...BUILD_PHASE,
      'artifacts:',
      '  base-directory: dist',
      '  files:',
      "    - '**/*'",
    );

    const entry = await assessBuildspec(text, 'buildspec.yml', BARE_ROOT_MACHINE);

    expect(entry).toEqual({
      file: 'buildspec.yml',
      parses: true,
      runsAsIs: true,
      refusals: [],
      notes: [],
    });
  });

  it('refuses an absolute artifact base-directory, naming file, line, column and key', async () => {
    const text = buildspec(
      'version: 0.2',
      ...BUILD_PHASE,
      'artifacts:',
      '  base-directory: /tmp/out',
      '  files:',
      "    - '**/*'",
    );

    const entry = await assessBuildspec(text, 'buildspec.yml', BARE_ROOT_MACHINE);

    expect(entry.parses).toBe(true);
    expect(entry.runsAsIs).toBe(false);
    expect(entry.refusals.map(formatIssue)).toEqual([
      expect.stringMatching(
        /^buildspec\.yml:7:19: artifacts.base-directory: \/tmp\/out: absolute paths/,
      ),
    ]);
  });

  it('refuses secrets-manager variables without a secret store, and starts with one', async () => {
    const text = buildspec(
      'version: 0.2',
      'env:',
      '  secrets-manager:',
      '    TOKEN: prod/deploy:token',
      ...BUILD_PHASE,
    );

    const bare = await assessBuildspec(text, 'buildspec.yml', BARE_ROOT_MACHINE);
    const withStore = await assessBuildspec(text, 'buildspec.yml', {
      ...BARE_ROOT_MACHINE,
      secrets: staticSecrets({ 'prod/deploy': '{"token":"s3cret-value"}' }),
    });

    expect(bare.runsAsIs).toBe(false);
    expect(bare.refusals).toEqual([
      expect.objectContaining({
        key: 'env.secrets-manager.TOKEN',
        location: { file: 'buildspec.yml', line: 4, column: 12 },
      }),
    ]);
    expect(withStore.runsAsIs).toBe(true);
  });

  it('notes runtime-versions as a warning; the build still starts', async () => {
    const text = buildspec(
      'version: 0.2',
      'phases:',
      '  install:',
      '    runtime-versions:',
      '      nodejs: 20',
      '  build:',
      '    commands:',
      '      - npm test',
    );

    const entry = await assessBuildspec(text, 'buildspec.yml', BARE_ROOT_MACHINE);

    expect(entry.runsAsIs).toBe(true);
    expect(entry.notes).toEqual([
      { key: 'phases.install.runtime-versions', text: expect.stringContaining('nodejs 20') },
    ]);
  });

  it('notes a build-fanout batch as refused and a build-list batch as planned', async () => {
    const fanout = buildspec(
      'version: 0.2',
      'batch:',
      '  build-fanout:',
      '    parallelism: 4',
      ...BUILD_PHASE,
    );
    const list = buildspec(
      'version: 0.2',
      'batch:',
      '  build-list:',
      '    - identifier: unit',
      '    - identifier: lint',
      ...BUILD_PHASE,
    );

    const refused = await assessBuildspec(fanout, 'buildspec.yml', BARE_ROOT_MACHINE);
    const planned = await assessBuildspec(list, 'buildspec.yml', BARE_ROOT_MACHINE);

    expect(refused.notes).toEqual([
      { key: 'batch.build-fanout', text: expect.stringMatching(/^refused at 4:5: build-fanout/) },
    ]);
    expect(planned.notes).toEqual([{ key: 'batch', text: 'build-list accepted, 2 tasks' }]);
  });

  it('reports the first line of a parse failure', async () => {
    const entry = await assessBuildspec('version: 0.3\nphases: {}\n', 'bad.yml', BARE_ROOT_MACHINE);

    expect(entry.parses).toMatch(/^bad\.yml:1:10: version: /);
    expect(entry.runsAsIs).toBe(false);
  });
});

describe('renderCorpusTable', () => {
  it('sorts by file name, keeps cells in one column, and counts', () => {
    const entry = (file: string, runsAsIs: boolean): CorpusEntry => ({
      file,
      parses: true,
      runsAsIs,
      refusals: [],
      notes: runsAsIs ? [] : [{ key: 'env.shell', text: 'a | b' }],
    });

    const table = renderCorpusTable([entry('b.yml', false), entry('a.yml', true)]);

    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(['| `a.yml`', '| `b.yml`']);
    expect(table).toContain('a \\| b');
    expect(table).toContain('1 of 2 files start as-is; 1 are refused before any command runs.');
  });
});

describe('the real-world corpus', () => {
  let entries: CorpusEntry[];

  beforeAll(async () => {
    entries = await assessFolder(CORPUS, BARE_ROOT_MACHINE);
  });

  it('parses all 36 files', () => {
    const failures = entries.filter((entry) => entry.parses !== true);

    expect(entries).toHaveLength(36);
    expect(failures).toEqual([]);
  });

  it('matches the table in docs/buildspec.md', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = '<!-- corpus-table:start -->';
    const end = '<!-- corpus-table:end -->';
    const documented = doc.slice(doc.indexOf(start) + start.length, doc.indexOf(end));

    const generated = renderCorpusTable(entries);

    expect(doc).toContain(start);
    expect(doc).toContain(end);
    expect(
      documented.trim(),
      'docs/buildspec.md is out of date: run `npx tsx scripts/corpus-table.ts > /tmp/t.md` and paste its output between the corpus-table markers',
    ).toBe(generated.trim());
  });
});
