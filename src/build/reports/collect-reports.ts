import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ReportFormat, ReportSpec } from '../../config/buildspec.js';
import type { ReportResult, ReportSummary } from '../build-result.js';
import { matchFiles } from '../file-set.js';
import { parseCucumberJson } from './cucumber.js';
import { parseJUnitXml } from './junit.js';
import { parseNUnit3Xml } from './nunit3.js';
import { emptySummary, type ParsedReport } from './parsed-report.js';
import { parseTestNgXml } from './testng.js';

/**
 * CodeBuild `reports`: test result files are copied out of the workspace (so they outlive
 * it) and the test formats Phoenix reads are summed per report. Coverage formats and the
 * test formats not read yet are stored only.
 */

type ReportParser = (text: string) => ParsedReport;

const PARSERS: Partial<Record<ReportFormat, ReportParser>> = {
  JUNITXML: parseJUnitXml,
  CUCUMBERJSON: parseCucumberJson,
  TESTNGXML: parseTestNgXml,
  NUNIT3XML: parseNUnit3Xml,
};

export interface CollectReportsOptions {
  specs: readonly ReportSpec[];
  /** The build's source folder; report paths are relative to it. */
  root: string;
  /** Where report files are stored, one folder per report. */
  destination: string;
}

/**
 * Copies and parses every report's files. Files that cannot be parsed become `problems`;
 * a pattern leaving the root throws `PathEscapeError`, and failing to store a file throws.
 */
export async function collectReports(options: CollectReportsOptions): Promise<ReportResult[]> {
  const results: ReportResult[] = [];
  for (const spec of options.specs) results.push(await collectReport(spec, options));
  return results;
}

async function collectReport(
  spec: ReportSpec,
  { root, destination }: CollectReportsOptions,
): Promise<ReportResult> {
  const matched = await matchFiles(root, {
    baseDirectory: spec.baseDirectory,
    files: spec.files,
    discardPaths: spec.discardPaths,
  });
  const result: ReportResult = {
    name: spec.name,
    format: spec.format,
    files: [],
    failures: [],
    problems: [],
  };
  if (matched.length === 0) {
    result.problems.push(noMatchProblem(spec));
    return result;
  }
  const folder = join(destination, folderName(spec.name));
  const parse = PARSERS[spec.format];
  const summaries: ReportSummary[] = [];
  for (const file of matched) {
    const stored = join(folder, ...file.outputPath.split('/'));
    await mkdir(dirname(stored), { recursive: true });
    await copyFile(file.absolutePath, stored);
    result.files.push(file.outputPath);
    if (parse === undefined) continue;
    try {
      const parsed = parse(await readFile(stored, 'utf8'));
      summaries.push(parsed.summary);
      for (const failure of parsed.failures) result.failures.push(failure);
    } catch (error) {
      result.problems.push(
        `${file.outputPath}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (summaries.length > 0) result.summary = sumSummaries(summaries);
  return result;
}

function noMatchProblem(spec: ReportSpec): string {
  const where = spec.baseDirectory === undefined ? '' : ` in base-directory ${spec.baseDirectory}`;
  return `no files matched ${spec.files.join(', ')}${where}`;
}

/** Report names may be report group ARNs; keep them to one safe path segment. */
function folderName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? `_${safe}` : safe;
}

function sumSummaries(summaries: readonly ReportSummary[]): ReportSummary {
  const total = emptySummary();
  for (const summary of summaries) {
    total.total += summary.total;
    total.passed += summary.passed;
    total.failed += summary.failed;
    total.skipped += summary.skipped;
    total.errors += summary.errors;
    total.durationMs += summary.durationMs;
  }
  return total;
}
