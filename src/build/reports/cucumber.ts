import { z } from 'zod';
import type { TestCaseFailure } from '../build-result.js';
import {
  emptySummary,
  ReportParseError,
  shortMessage,
  withPassed,
  type ParsedReport,
} from './parsed-report.js';
import { nonEmpty, stripBom } from './values.js';

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
