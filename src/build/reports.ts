import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import type { ReportFormat, ReportSpec } from '../config/buildspec.js';
import type { ReportResult, ReportSummary, TestCaseFailure } from './build-result.js';
import { matchFiles } from './file-set.js';

/**
 * CodeBuild `reports`: test result files are copied out of the workspace (so they outlive
 * it) and the test formats Phoenix reads are summed per report. Coverage formats and the
 * test formats not read yet are stored only.
 */

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

function emptySummary(): ReportSummary {
  return { total: 0, passed: 0, failed: 0, skipped: 0, errors: 0, durationMs: 0 };
}

// ---- JUnit XML ----

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

// ---- TestNG and NUnit 3 ----

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

/** TestNG and NUnit 3 write run totals on the root; errors are counted as failures there. */
function summaryFromRunAttributes(root: XmlElement, durationMs: number): ReportSummary {
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

// ---- Cucumber JSON ----

const stepSchema = z.object({
  result: z
    .object({
      status: z.string(),
      duration: z.number().optional(),
      error_message: z.string().optional(),
    })
    .optional(),
});

const cucumberSchema = z.array(
  z.object({
    name: z.string().default(''),
    uri: z.string().optional(),
    elements: z
      .array(
        z.object({
          name: z.string().default(''),
          type: z.string().optional(),
          before: z.array(stepSchema).default([]),
          steps: z.array(stepSchema).default([]),
          after: z.array(stepSchema).default([]),
        }),
      )
      .default([]),
  }),
);

type CucumberStep = z.infer<typeof stepSchema>;
type ScenarioOutcome = 'passed' | 'failed' | 'skipped';

/** Reads Cucumber's JSON formatter output (an array of features). Step durations are nanoseconds. */
export function parseCucumberJson(text: string): ParsedReport {
  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (error) {
    throw new ReportParseError(`malformed JSON: ${String(error)}`, { cause: error });
  }
  const parsed = cucumberSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where =
      issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new ReportParseError(
      `not Cucumber JSON${where}: ${issue?.message ?? 'expected an array of features'}`,
    );
  }
  const counts = emptySummary();
  const failures: TestCaseFailure[] = [];
  for (const feature of parsed.data) {
    // Cucumber-JVM writes a background as its own element before each scenario it runs for.
    let background: CucumberStep[] = [];
    for (const element of feature.elements) {
      const steps = [...background, ...element.before, ...element.steps, ...element.after];
      if (element.type === 'background') {
        background = steps;
        continue;
      }
      background = [];
      for (const step of steps) counts.durationMs += (step.result?.duration ?? 0) / 1e6;
      counts.total += 1;
      const outcome = scenarioOutcome(steps);
      if (outcome === 'skipped') counts.skipped += 1;
      if (outcome !== 'failed') continue;
      counts.failed += 1;
      const failedStep = steps.find((step) => isFailedStatus(step.result?.status));
      failures.push({
        suite: nonEmpty(feature.name) ?? feature.uri ?? '',
        name: element.name,
        message: shortMessage(failedStep?.result?.error_message ?? ''),
      });
    }
  }
  counts.durationMs = Math.round(counts.durationMs);
  return { summary: withPassed(counts), failures };
}

/** Failed if any step failed; skipped if any step did not run (skipped, pending, undefined). */
function scenarioOutcome(steps: readonly CucumberStep[]): ScenarioOutcome {
  if (steps.some((step) => isFailedStatus(step.result?.status))) return 'failed';
  if (steps.some((step) => step.result?.status !== 'passed')) return 'skipped';
  return 'passed';
}

function isFailedStatus(status: string | undefined): boolean {
  return status === 'failed' || status === 'ambiguous';
}

// ---- XML and number helpers ----

interface XmlElement {
  name: string;
  attributes: Record<string, string | undefined>;
  children: XmlElement[];
  /** The element's own text (CDATA included), trimmed. */
  text: string;
}

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Without it numeric references such as pytest's `&#10;` in messages stay undecoded.
  htmlEntities: true,
});

function parseXml(text: string, kind: string): XmlElement {
  const xml = stripBom(text);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    const column = col === undefined ? '' : `, column ${col}`;
    throw new ReportParseError(`malformed XML at line ${line}${column}: ${msg}`);
  }
  const parsed: unknown = xmlParser.parse(xml);
  const root = toElements(parsed)[0];
  if (root === undefined) throw new ReportParseError(`not ${kind}: the document has no element`);
  return root;
}

/** Turns fast-xml-parser's ordered output into plain elements; declarations are dropped. */
function toElements(nodes: unknown): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    const name = Object.keys(node).find((key) => key !== ':@');
    if (name === undefined || name === '#text' || name.startsWith('?')) continue;
    const content: unknown = node[name];
    const attributes: Record<string, string> = {};
    const rawAttributes = node[':@'];
    if (isRecord(rawAttributes)) {
      for (const [key, value] of Object.entries(rawAttributes)) attributes[key] = String(value);
    }
    elements.push({ name, attributes, children: toElements(content), text: textOf(content) });
  }
  return elements;
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const node of content) {
    if (isRecord(node) && '#text' in node) text += String(node['#text']);
  }
  return text.trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

function descendantsNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) =>
    child.name === name ? [child] : descendantsNamed(child, name),
  );
}

function withPassed(counts: ReportSummary): ReportSummary {
  const passed = counts.total - counts.failed - counts.errors - counts.skipped;
  return { ...counts, passed: Math.max(0, passed) };
}

function shortMessage(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed.length <= MAX_FAILURE_MESSAGE_LENGTH) return trimmed;
  return `${trimmed.slice(0, MAX_FAILURE_MESSAGE_LENGTH - 1)}…`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** Numbers as test tools print them, thousands separators included ("1,234.5"). */
function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value.replace(/,/g, '').trim());
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

function parseCount(value: string | undefined): number {
  return Math.floor(parseNumber(value) ?? 0);
}

function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1000);
}

function stripBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}
