import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReportFormat, ReportSpec } from '../../config/buildspec.js';
import { PathEscapeError } from '../file-set.js';
import { collectReports } from './collect-reports.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function fixture(name: string): Promise<string> {
  return readFile(new URL(name, FIXTURES), 'utf8');
}

function suiteXml(testcases: string, attributes = ''): string {
  return `<?xml version="1.0"?><testsuite name="unit" ${attributes}>${testcases}</testsuite>`;
}

describe('collectReports', () => {
  let workspace: string;
  let store: string;

  beforeEach(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'phoenix-reports-src-'));
    store = await mkdtemp(join(tmpdir(), 'phoenix-reports-store-'));
  });

  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
    await rm(store, { recursive: true, force: true });
  });

  async function place(path: string, content: string): Promise<void> {
    await mkdir(dirname(join(workspace, path)), { recursive: true });
    await writeFile(join(workspace, path), content);
  }

  async function placeFixture(path: string, name: string): Promise<void> {
    await place(path, await fixture(name));
  }

  function spec(
    name: string,
    files: string[],
    extra: { format?: ReportFormat; baseDirectory?: string; discardPaths?: boolean } = {},
  ): ReportSpec {
    return {
      name,
      files,
      path: ['reports', name],
      baseDirectory: extra.baseDirectory,
      discardPaths: extra.discardPaths ?? false,
      format: extra.format ?? 'JUNITXML',
      location: { file: 'buildspec.yml', line: 1, column: 1 },
    };
  }

  it('stores files under the base directory, flattened, and sums their counts', async () => {
    await placeFixture('build/results/unit/jest.xml', 'jest-junit.xml');
    await placeFixture('build/results/it/TEST-calc.xml', 'TEST-com.example.CalculatorTest.xml');
    await placeFixture('other/pytest.xml', 'pytest.xml');
    const specs = [
      spec('unit-tests', ['**/*.xml'], { baseDirectory: 'build/results', discardPaths: true }),
    ];

    const [report] = await collectReports({ specs, root: workspace, destination: store });

    expect(report?.files).toEqual(['TEST-calc.xml', 'jest.xml']);
    expect(report?.summary).toEqual({
      total: 10,
      passed: 5,
      failed: 2,
      skipped: 2,
      errors: 1,
      durationMs: 1_236_500,
    });
    expect(report?.failures.map((failure) => failure.name)).toEqual([
      'dividesByZero',
      'loadsRates',
      'math divides by zero',
    ]);
    expect(report?.problems).toEqual([]);
    await expect(readFile(join(store, 'unit-tests', 'jest.xml'), 'utf8')).resolves.toBe(
      await fixture('jest-junit.xml'),
    );
  });

  it('keeps folders when paths are not discarded, and the copies outlive the workspace', async () => {
    await placeFixture('reports/api/pytest.xml', 'pytest.xml');
    const specs = [spec('api', ['reports/**/*.xml'])];

    const [report] = await collectReports({ specs, root: workspace, destination: store });
    await rm(workspace, { recursive: true, force: true });

    expect(report?.files).toEqual(['reports/api/pytest.xml']);
    await expect(
      readFile(join(store, 'api', 'reports', 'api', 'pytest.xml'), 'utf8'),
    ).resolves.toBe(await fixture('pytest.xml'));
  });

  it('records a file that cannot be parsed and still reads the others', async () => {
    await placeFixture('results/a.xml', 'TEST-com.example.CalculatorTest.xml');
    await place('results/b.xml', '<testsuite><testcase name="x"></testsuite>');
    await place('results/c.xml', '<coverage line-rate="1"/>');
    const specs = [spec('mixed', ['results/*.xml'])];

    const [report] = await collectReports({ specs, root: workspace, destination: store });

    expect(report?.files).toEqual(['results/a.xml', 'results/b.xml', 'results/c.xml']);
    expect(report?.summary?.total).toBe(5);
    expect(report?.problems).toHaveLength(2);
    expect(report?.problems[0]).toMatch(/^results\/b\.xml: malformed XML at line 1, column \d+: /);
    expect(report?.problems[1]).toBe(
      'results/c.xml: not JUnit XML: the root element is <coverage>, expected <testsuites> or <testsuite>',
    );
  });

  it('leaves the summary out when no file could be parsed', async () => {
    await place('out.json', '{"not": "cucumber"}');
    const specs = [spec('bdd', ['out.json'], { format: 'CUCUMBERJSON' })];

    const [report] = await collectReports({ specs, root: workspace, destination: store });

    expect(report?.files).toEqual(['out.json']);
    expect(report?.summary).toBeUndefined();
    expect(report?.problems).toEqual([expect.stringMatching(/^out\.json: not Cucumber JSON/)]);
  });

  it('reads each report by its own format', async () => {
    await placeFixture('target/testng-results.xml', 'testng-results.xml');
    await placeFixture('TestResults/nunit3.xml', 'nunit3.xml');
    await placeFixture('target/cucumber.json', 'cucumber.json');
    const specs = [
      spec('testng', ['target/testng-results.xml'], { format: 'TESTNGXML' }),
      spec('nunit', ['TestResults/*.xml'], { format: 'NUNIT3XML' }),
      spec('bdd', ['target/*.json'], { format: 'CUCUMBERJSON' }),
    ];

    const reports = await collectReports({ specs, root: workspace, destination: store });

    expect(reports.map((report) => [report.name, report.format, report.summary?.total])).toEqual([
      ['testng', 'TESTNGXML', 4],
      ['nunit', 'NUNIT3XML', 5],
      ['bdd', 'CUCUMBERJSON', 5],
    ]);
  });

  it('stores a coverage report without a summary', async () => {
    await placeFixture('coverage/coverage.xml', 'cobertura.xml');
    const specs = [spec('coverage', ['coverage/coverage.xml'], { format: 'COBERTURAXML' })];

    const [report] = await collectReports({ specs, root: workspace, destination: store });

    expect(report).toEqual({
      name: 'coverage',
      format: 'COBERTURAXML',
      files: ['coverage/coverage.xml'],
      failures: [],
      problems: [],
    });
    await expect(
      readFile(join(store, 'coverage', 'coverage', 'coverage.xml'), 'utf8'),
    ).resolves.toBe(await fixture('cobertura.xml'));
  });

  it('says so when nothing matched', async () => {
    await placeFixture('build/other.txt', 'pytest.xml');
    const specs = [spec('unit', ['*.xml'], { baseDirectory: 'build/test-results' })];

    const [report] = await collectReports({ specs, root: workspace, destination: store });

    expect(report).toEqual({
      name: 'unit',
      format: 'JUNITXML',
      files: [],
      failures: [],
      problems: ['no files matched *.xml in base-directory build/test-results'],
    });
  });

  it('keeps a report group ARN to one folder inside the destination', async () => {
    await placeFixture('junit.xml', 'pytest.xml');
    const name = 'arn:aws:codebuild:us-east-1:123456789012:report-group/../unit';
    const specs = [spec(name, ['junit.xml'])];

    const [report] = await collectReports({ specs, root: workspace, destination: store });

    expect(report?.name).toBe(name);
    await expect(
      readFile(
        join(store, 'arn_aws_codebuild_us-east-1_123456789012_report-group_.._unit', 'junit.xml'),
        'utf8',
      ),
    ).resolves.toBe(await fixture('pytest.xml'));
  });

  it.each([
    ['a file pattern', ['../outside/*.xml'], undefined],
    ['a base directory', ['*.xml'], '../outside'],
    ['an absolute pattern', ['/etc/*.xml'], undefined],
  ])('refuses %s that leaves the source folder', async (_label, files, baseDirectory) => {
    const specs = [spec('escape', files, { baseDirectory })];

    await expect(
      collectReports({ specs, root: workspace, destination: store }),
    ).rejects.toBeInstanceOf(PathEscapeError);
  });

  it('refuses a symbolic link to a file outside the source folder', async () => {
    await writeFile(join(store, 'secret.xml'), suiteXml(''));
    await symlink(join(store, 'secret.xml'), join(workspace, 'linked.xml'));
    const specs = [spec('escape', ['*.xml'])];

    await expect(
      collectReports({ specs, root: workspace, destination: store }),
    ).rejects.toBeInstanceOf(PathEscapeError);
  });
});
