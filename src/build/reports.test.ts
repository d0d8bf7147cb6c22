import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReportFormat, ReportSpec } from '../config/buildspec.js';
import { PathEscapeError } from './file-set.js';
import {
  collectReports,
  MAX_FAILURE_MESSAGE_LENGTH,
  parseCucumberJson,
  parseJUnitXml,
  parseNUnit3Xml,
  parseTestNgXml,
  ReportParseError,
} from './reports.js';

const FIXTURES = new URL('./__fixtures__/reports/', import.meta.url);

function fixture(name: string): Promise<string> {
  return readFile(new URL(name, FIXTURES), 'utf8');
}

function suiteXml(testcases: string, attributes = ''): string {
  return `<?xml version="1.0"?><testsuite name="unit" ${attributes}>${testcases}</testsuite>`;
}

describe('parseJUnitXml', () => {
  it("reads jest-junit's output, timing the suites rather than the wall clock", async () => {
    const report = parseJUnitXml(await fixture('jest-junit.xml'));

    expect(report.summary).toEqual({
      total: 5,
      passed: 3,
      failed: 1,
      skipped: 1,
      errors: 0,
      durationMs: 2000,
    });
    expect(report.failures).toEqual([
      {
        suite: 'math',
        name: 'math divides by zero',
        message:
          'Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: Infinity\nReceived: NaN\n    at Object.<anonymous> (/app/src/math.test.ts:12:20)',
      },
    ]);
  });

  it('reads a Maven Surefire report: single suite, error, skipped, flaky test passed', async () => {
    const report = parseJUnitXml(await fixture('TEST-com.example.CalculatorTest.xml'));

    expect(report.summary).toEqual({
      total: 5,
      passed: 2,
      failed: 1,
      skipped: 1,
      errors: 1,
      durationMs: 1_234_500,
    });
    expect(report.failures).toEqual([
      {
        suite: 'com.example.CalculatorTest',
        name: 'dividesByZero',
        message: 'expected: <0> but was: <1>',
      },
      {
        suite: 'com.example.CalculatorTest',
        name: 'loadsRates',
        message:
          'java.net.ConnectException: Connection refused\n\tat java.base/sun.nio.ch.Net.connect0(Native Method)',
      },
    ]);
  });

  it("reads pytest's testsuites > testsuite shape with a typed <skipped>", async () => {
    const report = parseJUnitXml(await fixture('pytest.xml'));

    expect(report.summary).toEqual({
      total: 5,
      passed: 2,
      failed: 1,
      skipped: 1,
      errors: 1,
      durationMs: 456,
    });
    expect(report.failures).toEqual([
      {
        suite: 'pytest',
        name: 'test_create_user',
        message: 'assert 404 == 201\n +  where 404 = <Response [404]>.status_code',
      },
      {
        suite: 'pytest',
        name: 'test_migrate',
        message: 'failed on setup with "ConnectionRefusedError: [Errno 111] Connection refused"',
      },
    ]);
  });

  it('walks nested suites, counting attributes only for suites without testcases', async () => {
    const report = parseJUnitXml(await fixture('phpunit-nested.xml'));

    expect(report.summary).toEqual({
      total: 6,
      passed: 3,
      failed: 2,
      skipped: 1,
      errors: 0,
      durationMs: 50,
    });
    expect(report.failures).toEqual([
      {
        suite: 'Tests\\Unit\\CartTest',
        name: 'testRemove',
        message:
          'Tests\\Unit\\CartTest::testRemove\nFailed asserting that 2 matches expected 1.\n\n/app/tests/Unit/CartTest.php:25',
      },
    ]);
  });

  it.each([
    ['nothing', '', { total: 1, passed: 1, failed: 0, errors: 0, skipped: 0 }],
    [
      'a failure',
      '<failure message="boom"/>',
      { total: 1, passed: 0, failed: 1, errors: 0, skipped: 0 },
    ],
    ['an error', '<error/>', { total: 1, passed: 0, failed: 0, errors: 1, skipped: 0 }],
    ['a bare skip', '<skipped/>', { total: 1, passed: 0, failed: 0, errors: 0, skipped: 1 }],
    [
      'a skip with a message',
      '<skipped message="later">why</skipped>',
      { total: 1, passed: 0, failed: 0, errors: 0, skipped: 1 },
    ],
    [
      'a failure and an error',
      '<failure/><error/>',
      { total: 1, passed: 0, failed: 1, errors: 0, skipped: 0 },
    ],
    [
      'a flaky failure',
      '<flakyFailure message="timeout"/>',
      { total: 1, passed: 1, failed: 0, errors: 0, skipped: 0 },
    ],
    [
      'only output',
      '<system-out>log</system-out>',
      { total: 1, passed: 1, failed: 0, errors: 0, skipped: 0 },
    ],
  ])('counts a testcase holding %s', (_label, children, expected) => {
    const xml = suiteXml(`<testcase name="t">${children}</testcase>`);

    const { summary } = parseJUnitXml(xml);

    expect(summary).toEqual({ ...expected, durationMs: 0 });
  });

  it.each([
    ['1.5', 1500],
    ['1,234.5', 1_234_500],
    ['0.0015', 2],
    ['abc', 7000],
    ['-3', 7000],
  ])('reads suite time %j as %i ms (falling back to the testcases)', (time, durationMs) => {
    const xml = suiteXml('<testcase name="t" time="7"/>', `time="${time}"`);

    expect(parseJUnitXml(xml).summary.durationMs).toBe(durationMs);
  });

  it('trusts testcases over contradicting suite attributes', () => {
    const xml = suiteXml(
      '<testcase name="a"/><testcase name="b"><skipped/></testcase>',
      'tests="10" failures="5"',
    );

    expect(parseJUnitXml(xml).summary).toEqual({
      total: 2,
      passed: 1,
      failed: 0,
      skipped: 1,
      errors: 0,
      durationMs: 0,
    });
  });

  it('falls back to the attributes of a suite without testcases', () => {
    const xml = suiteXml('', 'tests="4" failures="1" errors="1" skipped="1" time="2"');

    expect(parseJUnitXml(xml)).toEqual({
      summary: { total: 4, passed: 1, failed: 1, skipped: 1, errors: 1, durationMs: 2000 },
      failures: [],
    });
  });

  it('names a failure by classname when the suite has no name, and trims long messages', () => {
    const long = `  ${'x'.repeat(600)}  `;
    const xml = `<testsuites><testsuite><testcase classname="app.Cart" name="adds"><failure message="${long}"/></testcase><testcase classname="app.Cart" name="removes"><failure/></testcase></testsuite></testsuites>`;

    const { failures } = parseJUnitXml(xml);

    expect(failures.map(({ suite, name }) => `${suite} ${name}`)).toEqual([
      'app.Cart adds',
      'app.Cart removes',
    ]);
    expect(failures[0]?.message).toHaveLength(MAX_FAILURE_MESSAGE_LENGTH);
    expect(failures[0]?.message).toBe(`${'x'.repeat(MAX_FAILURE_MESSAGE_LENGTH - 1)}…`);
    expect(failures[1]?.message).toBeUndefined();
  });

  it('accepts a byte order mark before the declaration', () => {
    const xml = `\uFEFF${suiteXml('<testcase name="a"/>')}`;

    expect(parseJUnitXml(xml).summary.total).toBe(1);
  });

  it.each([
    [
      'an unclosed tag',
      '<testsuite><testcase></testsuite>',
      /^malformed XML at line 1, column \d+: /,
    ],
    ['an empty file', '', /^malformed XML at line 1/],
    ['JSON', '{"tests": 3}', /^malformed XML at line 1, column 1: /],
    [
      'a Maven POM',
      '<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion></project>',
      /^not JUnit XML: the root element is <project>, expected <testsuites> or <testsuite>$/,
    ],
  ])('rejects %s with a ReportParseError', (_label, xml, message) => {
    expect(() => parseJUnitXml(xml)).toThrow(ReportParseError);
    expect(() => parseJUnitXml(xml)).toThrow(message);
  });
});

describe('parseCucumberJson', () => {
  it('counts scenarios, folding backgrounds and hooks into them', async () => {
    const report = parseCucumberJson(await fixture('cucumber.json'));

    expect(report.summary).toEqual({
      total: 5,
      passed: 2,
      failed: 1,
      skipped: 2,
      errors: 0,
      durationMs: 17,
    });
    expect(report.failures).toEqual([
      {
        suite: 'Login',
        name: 'wrong password',
        message:
          'java.lang.AssertionError: expected error banner to be visible\n\tat com.shop.steps.LoginSteps.seeErrorBanner(LoginSteps.java:42)',
      },
    ]);
  });

  it.each([
    [['passed', 'passed'], 'passed'],
    [['passed', 'failed', 'skipped'], 'failed'],
    [['passed', 'skipped'], 'skipped'],
    [['pending'], 'skipped'],
    [['passed', 'undefined'], 'skipped'],
    [['ambiguous'], 'failed'],
    [[], 'passed'],
  ])('judges a scenario with steps %j as %s', (statuses, outcome) => {
    const steps = statuses.map((status) => ({ name: 'step', result: { status } }));
    const json = JSON.stringify([
      { name: 'F', elements: [{ name: 'S', type: 'scenario', steps }] },
    ]);

    const { summary } = parseCucumberJson(json);

    expect({ passed: summary.passed, failed: summary.failed, skipped: summary.skipped }).toEqual({
      passed: outcome === 'passed' ? 1 : 0,
      failed: outcome === 'failed' ? 1 : 0,
      skipped: outcome === 'skipped' ? 1 : 0,
    });
  });

  it('fails the scenario that follows a failed background', () => {
    const json = JSON.stringify([
      {
        name: 'Checkout',
        elements: [
          {
            type: 'background',
            steps: [{ result: { status: 'failed', error_message: 'no database' } }],
          },
          { name: 'pays', type: 'scenario', steps: [{ result: { status: 'skipped' } }] },
          { name: 'refunds', type: 'scenario', steps: [{ result: { status: 'passed' } }] },
        ],
      },
    ]);

    const report = parseCucumberJson(json);

    expect(report.summary).toMatchObject({ total: 2, failed: 1, passed: 1 });
    expect(report.failures).toEqual([{ suite: 'Checkout', name: 'pays', message: 'no database' }]);
  });

  it.each([
    ['malformed JSON', '[{"name": ', /^malformed JSON: SyntaxError/],
    ['an object', '{"name": "Login"}', /^not Cucumber JSON: /],
    [
      'a step status that is not a string',
      '[{"elements": [{"steps": [{"result": {"status": 3}}]}]}]',
      /^not Cucumber JSON at 0\.elements\.0\.steps\.0\.result\.status: /,
    ],
  ])('rejects %s', (_label, text, message) => {
    expect(() => parseCucumberJson(text)).toThrow(ReportParseError);
    expect(() => parseCucumberJson(text)).toThrow(message);
  });
});

describe('parseTestNgXml', () => {
  it('reads the run totals and names failed test methods, not failed configuration', async () => {
    const report = parseTestNgXml(await fixture('testng-results.xml'));

    expect(report).toEqual({
      summary: { total: 4, passed: 2, failed: 1, skipped: 1, errors: 0, durationMs: 1530 },
      failures: [
        {
          suite: 'com.shop.CheckoutTest',
          name: 'appliesCoupon',
          message: 'expected [10.0] but found [12.0]',
        },
      ],
    });
  });

  it('rejects another XML format', async () => {
    const xml = await fixture('jest-junit.xml');

    expect(() => parseTestNgXml(xml)).toThrow(
      'not TestNG XML: the root element is <testsuites>, expected <testng-results>',
    );
  });
});

describe('parseNUnit3Xml', () => {
  it('reads the run totals and names failed test cases, not failed suites', async () => {
    const report = parseNUnit3Xml(await fixture('nunit3.xml'));

    expect(report).toEqual({
      summary: { total: 5, passed: 3, failed: 1, skipped: 1, errors: 0, durationMs: 842 },
      failures: [
        {
          suite: 'Shop.Tests.CartTests',
          name: 'AppliesDiscount',
          message: 'Expected: 10m\n  But was:  12m',
        },
      ],
    });
  });

  it('rejects the NUnit 2 format', () => {
    const xml = '<?xml version="1.0"?><test-results total="1" failures="0"/>';

    expect(() => parseNUnit3Xml(xml)).toThrow(
      'not NUnit 3 XML: the root element is <test-results>, expected <test-run>',
    );
  });
});

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
