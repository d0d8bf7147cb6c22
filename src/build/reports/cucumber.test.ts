import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseCucumberJson } from './cucumber.js';
import { ReportParseError } from './parsed-report.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function fixture(name: string): Promise<string> {
  return readFile(new URL(name, FIXTURES), 'utf8');
}

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
