import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseJUnitXml } from './junit.js';
import { MAX_FAILURE_MESSAGE_LENGTH, ReportParseError } from './parsed-report.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

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
