import type { ReportSummary, TestCaseFailure } from '../build-result.js';
import {
  emptySummary,
  ReportParseError,
  shortMessage,
  withPassed,
  type ParsedReport,
} from './parsed-report.js';
import { nonEmpty, parseCount, parseNumber, secondsToMs } from './values.js';
import { childrenNamed, firstChild, parseXml, type XmlElement } from './xml.js';

/**
 * Reads JUnit XML as Jest, Maven Surefire, pytest, PHPUnit and others write it. Counts come
 * from the testcases; a suite without testcases or child suites falls back to its attributes.
 */
export function parseJUnitXml(xml: string): ParsedReport {
  const root = parseXml(xml, 'JUnit XML');
  if (root.name !== 'testsuites' && root.name !== 'testsuite') {
    throw new ReportParseError(
      `not JUnit XML: the root element is <${root.name}>, expected <testsuites> or <testsuite>`,
    );
  }
  const failures: TestCaseFailure[] = [];
  const counts = countSuite(root, failures);
  const suites = childrenNamed(root, 'testsuite');
  // A <testsuites> time is wall-clock across parallel workers (Jest); the suites' sum is the work.
  counts.durationMs =
    root.name === 'testsuites' && suites.length > 0
      ? suites.reduce((sum, suite) => sum + suiteDuration(suite), 0)
      : suiteDuration(root);
  return { summary: withPassed(counts), failures };
}

function countSuite(suite: XmlElement, failures: TestCaseFailure[]): ReportSummary {
  const cases = childrenNamed(suite, 'testcase');
  const suites = childrenNamed(suite, 'testsuite');
  if (cases.length === 0 && suites.length === 0) return countsFromAttributes(suite);
  const counts = emptySummary();
  for (const testcase of cases) countTestCase(suite, testcase, counts, failures);
  for (const child of suites) {
    const childCounts = countSuite(child, failures);
    counts.total += childCounts.total;
    counts.failed += childCounts.failed;
    counts.errors += childCounts.errors;
    counts.skipped += childCounts.skipped;
  }
  return counts;
}

function countTestCase(
  suite: XmlElement,
  testcase: XmlElement,
  counts: ReportSummary,
  failures: TestCaseFailure[],
): void {
  counts.total += 1;
  // Surefire's <flakyFailure>/<rerunFailure> mark a test that passed on a rerun: not counted.
  const failure = firstChild(testcase, 'failure');
  const error = firstChild(testcase, 'error');
  const problem = failure ?? error;
  if (problem !== undefined) {
    if (failure !== undefined) counts.failed += 1;
    else counts.errors += 1;
    failures.push({
      suite: nonEmpty(suite.attributes.name) ?? testcase.attributes.classname ?? '',
      name: testcase.attributes.name ?? '',
      message: shortMessage(nonEmpty(problem.attributes.message) ?? problem.text),
    });
    return;
  }
  if (firstChild(testcase, 'skipped') !== undefined) counts.skipped += 1;
}

function countsFromAttributes(suite: XmlElement): ReportSummary {
  const { tests, failures, errors, skipped, skip } = suite.attributes;
  return {
    ...emptySummary(),
    total: parseCount(tests),
    failed: parseCount(failures),
    errors: parseCount(errors),
    skipped: parseCount(skipped ?? skip),
  };
}

/** A suite's own time covers its children; without one, its parts are added up. */
function suiteDuration(suite: XmlElement): number {
  const own = parseNumber(suite.attributes.time);
  if (own !== undefined) return secondsToMs(own);
  const suites = childrenNamed(suite, 'testsuite');
  if (suites.length > 0) return suites.reduce((sum, child) => sum + suiteDuration(child), 0);
  return childrenNamed(suite, 'testcase').reduce(
    (sum, testcase) => sum + secondsToMs(parseNumber(testcase.attributes.time) ?? 0),
    0,
  );
}
