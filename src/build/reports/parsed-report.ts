import type { ReportSummary, TestCaseFailure } from '../build-result.js';

/** What every test report parser returns for one file. */
export interface ParsedReport {
  summary: ReportSummary;
  failures: TestCaseFailure[];
}

/** A report file is not in the format its report declares. */
export class ReportParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportParseError';
  }
}

/** Failure messages are for a glance in the summary; the stored file keeps the full text. */
export const MAX_FAILURE_MESSAGE_LENGTH = 500;

export function emptySummary(): ReportSummary {
  return { total: 0, passed: 0, failed: 0, skipped: 0, errors: 0, durationMs: 0 };
}

export function withPassed(counts: ReportSummary): ReportSummary {
  const passed = counts.total - counts.failed - counts.errors - counts.skipped;
  return { ...counts, passed: Math.max(0, passed) };
}

export function shortMessage(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed.length <= MAX_FAILURE_MESSAGE_LENGTH) return trimmed;
  return `${trimmed.slice(0, MAX_FAILURE_MESSAGE_LENGTH - 1)}…`;
}
