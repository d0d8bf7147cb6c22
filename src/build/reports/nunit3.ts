import type { TestCaseFailure } from '../build-result.js';
import { ReportParseError, shortMessage, type ParsedReport } from './parsed-report.js';
import { summaryFromRunAttributes } from './run-totals.js';
import { nonEmpty, parseNumber, secondsToMs } from './values.js';
import { firstChild, parseXml, type XmlElement } from './xml.js';

/** Reads the NUnit 3 result format (`<test-run>`). */
export function parseNUnit3Xml(xml: string): ParsedReport {
  const root = parseXml(xml, 'NUnit 3 XML');
  if (root.name !== 'test-run') {
    throw new ReportParseError(
      `not NUnit 3 XML: the root element is <${root.name}>, expected <test-run>`,
    );
  }
  const failures: TestCaseFailure[] = [];
  collectNUnitFailures(root, '', failures);
  const durationMs = secondsToMs(parseNumber(root.attributes.duration) ?? 0);
  return { summary: summaryFromRunAttributes(root, durationMs), failures };
}

function collectNUnitFailures(
  element: XmlElement,
  suiteName: string,
  failures: TestCaseFailure[],
): void {
  for (const child of element.children) {
    if (child.name === 'test-suite') {
      collectNUnitFailures(
        child,
        child.attributes.fullname ?? child.attributes.name ?? '',
        failures,
      );
    } else if (child.name === 'test-case' && child.attributes.result === 'Failed') {
      const failure = firstChild(child, 'failure');
      const message = failure && firstChild(failure, 'message');
      failures.push({
        suite: nonEmpty(child.attributes.classname) ?? suiteName,
        name: child.attributes.name ?? '',
        message: shortMessage(message?.text ?? ''),
      });
    }
  }
}
