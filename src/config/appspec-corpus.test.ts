import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatIssue } from '../shared/errors.js';
import {
  assessAppspec,
  assessAppspecFolder,
  CORPUS_MACHINE,
  renderAppspecTable,
  type AppspecCorpusEntry,
} from './appspec-corpus.js';

const REPOSITORY = join(import.meta.dirname, '..', '..');
const CORPUS = join(REPOSITORY, '..', 'shared', 'corpus', 'appspec');
const DOC = join(REPOSITORY, 'docs', 'appspec.md');

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const ECS = [
  'version: 0.0',
  'Resources:',
  '  - TargetService:',
  '      Type: AWS::ECS::Service',
  '      Properties:',
  '        TaskDefinition: shop:3',
  '        LoadBalancerInfo: {ContainerName: web, ContainerPort: 8080}',
];

describe('assessAppspec', () => {
  it('accepts an ECS appspec whose hooks are mapped, noting what it does not use and what runs', async () => {
    const text = yaml(
      ...ECS,
      'Hooks:',
      '  - AfterAllowTestTraffic: smoke',
      'PhoenixCommands:',
      '  smoke: npm run smoke',
    );

    const entry = await assessAppspec(text, 'appspec.yml', CORPUS_MACHINE);

    expect(entry).toMatchObject({ platform: 'ecs', parses: true, accepted: true, refusals: [] });
    expect(entry.notes).toEqual([
      { key: 'Resources[0].TargetService.Properties.TaskDefinition', text: expect.any(String) },
      { key: 'Resources[0].TargetService.Properties.LoadBalancerInfo', text: expect.any(String) },
      { key: 'hooks', text: 'AfterAllowTestTraffic' },
    ]);
  });

  it('refuses an EC2 appspec that installs outside the release, and says what would run', async () => {
    const text = yaml(
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: /',
      '    destination: /var/www/html',
      'hooks:',
      '  ApplicationStop:',
      '    - location: stop.sh',
      '  AfterInstall:',
      '    - location: a.sh',
      '    - location: b.sh',
    );

    const entry = await assessAppspec(text, 'appspec.yml', CORPUS_MACHINE);

    expect(entry.accepted).toBe(false);
    expect(entry.refusals.map(formatIssue)).toEqual([
      expect.stringMatching(
        /^appspec\.yml:5:18: files\[0\]\.destination: \/var\/www\/html: outside the release folder/,
      ),
    ]);
    expect(entry.notes).toEqual([
      {
        key: 'hooks',
        text: 'AfterInstall (2 scripts), and ApplicationStop when the release is replaced',
      },
    ]);
  });

  it('reports every refusal of a file the parser refuses', async () => {
    const entry = await assessAppspec('version: 1\nos: beos\n', 'bad.yml', CORPUS_MACHINE);

    expect(entry).toMatchObject({ parses: false, accepted: false });
    expect(entry.platform).toBeUndefined();
    expect(entry.refusals.map(formatIssue)).toEqual([
      expect.stringMatching(/^bad\.yml:1:10: version: /),
      expect.stringMatching(/^bad\.yml:2:5: os: /),
    ]);
  });
});

describe('renderAppspecTable', () => {
  it('sorts by file name, groups refusals by reason, keeps cells in one column, and counts', () => {
    const location = (line: number) => ({ file: 'b.yml', line, column: 3 });
    const entry = (file: string, accepted: boolean): AppspecCorpusEntry => ({
      file,
      platform: 'ec2',
      parses: true,
      accepted,
      refusals: accepted
        ? []
        : [
            { location: location(4), key: 'os', message: 'no | way; because' },
            { location: location(9), key: 'files[0]', message: 'no | way; other advice' },
          ],
      notes: [],
    });

    const table = renderAppspecTable([entry('b.yml', false), entry('a.yml', true)]);

    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.map((row) => row.split(' | ')[0])).toEqual(['| `a.yml`', '| `b.yml`']);
    expect(table).toContain('refused: 4:3 `os`, 9:3 `files[0]`: no \\| way');
    expect(table).toContain(
      '1 of 2 files are accepted as-is; 1 are refused before any hook runs (0 of them by the parser).',
    );
  });
});

describe('the real-world corpus', () => {
  let entries: AppspecCorpusEntry[];

  beforeAll(async () => {
    entries = await assessAppspecFolder(CORPUS, CORPUS_MACHINE);
  });

  it('reads all 18 files: each is accepted, or refused with file, line and column', () => {
    expect(entries).toHaveLength(18);
    for (const entry of entries) {
      if (entry.accepted) continue;
      expect(entry.refusals.length, entry.file).toBeGreaterThan(0);
      for (const issue of entry.refusals) expect(issue.location.file).toBe(entry.file);
    }
  });

  it('has the verdicts documented for the corpus', () => {
    const verdict = (entry: AppspecCorpusEntry): string =>
      entry.accepted ? 'accepted' : entry.parses ? 'refused' : 'unparsed';

    const count = (wanted: string): number =>
      entries.filter((entry) => verdict(entry) === wanted).length;

    expect({
      accepted: count('accepted'),
      refused: count('refused'),
      unparsed: count('unparsed'),
    }).toEqual({ accepted: 3, refused: 9, unparsed: 6 });
  });

  it('matches the table in docs/appspec.md', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = '<!-- appspec-corpus-table:start -->';
    const end = '<!-- appspec-corpus-table:end -->';
    const documented = doc.slice(doc.indexOf(start) + start.length, doc.indexOf(end));

    const generated = renderAppspecTable(entries);

    expect(doc).toContain(start);
    expect(doc).toContain(end);
    expect(
      documented.trim(),
      'docs/appspec.md is out of date: run `npx tsx scripts/appspec-table.ts > /tmp/t.md` and paste its output between the appspec-corpus-table markers',
    ).toBe(generated.trim());
  });
});
