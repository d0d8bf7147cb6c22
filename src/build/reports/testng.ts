import type { TestCaseFailure } from '../build-result.js';
import { ReportParseError, shortMessage, type ParsedReport } from './parsed-report.js';
import { summaryFromRunAttributes } from './run-totals.js';
import { nonEmpty, parseNumber } from './values.js';
import { childrenNamed, descendantsNamed, firstChild, parseXml } from './xml.js';

/** Reads testng-results.xml; configuration methods (@BeforeClass...) are not tests. */
export function parseTestNgXml(xml: string): ParsedReport {
  const root = parseXml(xml, 'TestNG XML');
  if (root.name !== 'testng-results') {
    throw new ReportParseError(
      `not TestNG XML: the root element is <${root.name}>, expected <testng-results>`,
    );
  }
  const failures: TestCaseFailure[] = [];
  for (const testClass of descendantsNamed(root, 'class')) {
    for (const method of childrenNamed(testClass, 'test-method')) {
      if (method.attributes.status !== 'FAIL' || method.attributes['is-config'] === 'true')
        continue;
      const exception = firstChild(method, 'exception');
      const message = exception && firstChild(exception, 'message');
      failures.push({
        suite: testClass.attributes.name ?? '',
        name: method.attributes.name ?? '',
        message: shortMessage(nonEmpty(message?.text) ?? exception?.attributes.class ?? ''),
      });
    }
  }
  const durationMs = childrenNamed(root, 'suite').reduce(
    (sum, suite) => sum + Math.round(parseNumber(suite.attributes['duration-ms']) ?? 0),
    0,
  );
  return { summary: summaryFromRunAttributes(root, durationMs), failures };
}
