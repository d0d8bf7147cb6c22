import type { ReportSummary } from '../build-result.js';
import { emptySummary, withPassed } from './parsed-report.js';
import { parseCount } from './values.js';
import type { XmlElement } from './xml.js';

/** TestNG and NUnit 3 write run totals on the root; errors are counted as failures there. */
export function summaryFromRunAttributes(root: XmlElement, durationMs: number): ReportSummary {
  const { total, passed, failed, skipped } = root.attributes;
  const counts = {
    ...emptySummary(),
    total: parseCount(total),
    failed: parseCount(failed),
    skipped: parseCount(skipped),
    durationMs,
  };
  return passed === undefined ? withPassed(counts) : { ...counts, passed: parseCount(passed) };
}
