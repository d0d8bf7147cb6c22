import { describe, expect, it } from 'vitest';
import { alarmSpecSchema, type AlarmSpec } from '../monitor/alarm-spec.js';
import { ValidationError } from '../shared/errors.js';
import type { StrategyConfig } from './environment-config.js';
import {
  CODEDEPLOY_CONFIGS,
  DEFAULT_BAKE_MS,
  DEFAULT_CANARY_INTERVAL_MS,
  DEFAULT_CRASH_LOOP_RESTARTS,
  DEFAULT_CRASH_LOOP_WINDOW_MS,
  DEFAULT_LINEAR_INTERVAL_MS,
  ENVIRONMENT_KEYS,
  strategyTypeOf,
} from './environment-schema.js';
import { parsePhoenixConfig, type PhoenixConfig } from './phoenix-config.js';

/** A file whose environment dev has a test listener (line 5) and `lines` from line 6 on. */
function file(...lines: string[]): string {
  return [
    'service: shop',
    'release: {start: x}',
    'environments:',
    '  - name: dev',
    '    listeners: { production: 8080, test: 8081 }',
    ...lines,
    '',
  ].join('\n');
}

/** The same without a test listener: `lines` from line 5 on. */
function fileWithoutTest(...lines: string[]): string {
  return [
    'service: shop',
    'release: {start: x}',
    'environments:',
    '  - name: dev',
    ...lines,
    '',
  ].join('\n');
}

function parse(text: string): PhoenixConfig {
  return parsePhoenixConfig(text, 'phoenix.yml');
}

function issuesOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ValidationError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected phoenix.yml to be refused');
}

const MINUTE = 60_000;

/** Rows of [file, issue], each named after the lines it adds to the file. */
function refusals(rows: [string, string][]): [string, string, string][] {
  return rows.map(([text, expected]) => {
    const label = text.split('\n').slice(5).join(' ').replace(/\s+/g, ' ').trim();
    return [label, text, expected];
  });
}

/** Every CodeDeploy name Phoenix maps, with the strategy it stands for. */
const CODEDEPLOY_NAMES: [string, StrategyConfig][] = [
  ['CodeDeployDefault.ECSAllAtOnce', { kind: 'all-at-once', bakeMs: 0, testListener: true }],
  ['CodeDeployDefault.ECSCanary10Percent5Minutes', canary(5)],
  ['CodeDeployDefault.ECSCanary10Percent15Minutes', canary(15)],
  ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', linear(1)],
  ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', linear(3)],
  ['CodeDeployDefault.LambdaAllAtOnce', { kind: 'all-at-once', bakeMs: 0, testListener: true }],
  ['CodeDeployDefault.LambdaCanary10Percent5Minutes', canary(5)],
  ['CodeDeployDefault.LambdaCanary10Percent10Minutes', canary(10)],
  ['CodeDeployDefault.LambdaCanary10Percent15Minutes', canary(15)],
  ['CodeDeployDefault.LambdaCanary10Percent30Minutes', canary(30)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', linear(1)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', linear(2)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', linear(3)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', linear(10)],
];

describe('strategy', () => {
  it.each<[string, string, StrategyConfig]>([
    ['no strategy', file(), { kind: 'all-at-once', bakeMs: 0, testListener: true }],
    [
      'all-at-once by name',
      file('    strategy: all-at-once'),
      { kind: 'all-at-once', bakeMs: 0, testListener: true },
    ],
    [
      'all-at-once with a bake',
      file('    strategy: { type: all-at-once, bake: 2m }'),
      { kind: 'all-at-once', bakeMs: 2 * MINUTE, testListener: true },
    ],
    [
      'all-at-once told not to route test traffic',
      file('    strategy: { type: all-at-once, test-traffic: false }'),
      { kind: 'all-at-once', bakeMs: 0, testListener: false },
    ],
    [
      'all-at-once without a test listener',
      fileWithoutTest('    listeners: { production: 8080 }', '    strategy: all-at-once'),
      { kind: 'all-at-once', bakeMs: 0, testListener: false },
    ],
    [
      'blue-green with a test listener routes test traffic',
      file('    strategy: blue-green'),
      { kind: 'blue-green', bakeMs: DEFAULT_BAKE_MS, testListener: true, manualPromote: false },
    ],
    [
      'blue-green without a test listener',
      fileWithoutTest('    listeners: { production: 8080 }', '    strategy: blue-green'),
      { kind: 'blue-green', bakeMs: DEFAULT_BAKE_MS, testListener: false, manualPromote: false },
    ],
    [
      'blue-green, every key',
      file('    strategy: { type: blue-green, bake: 0s, test-traffic: false, promote: manual }'),
      { kind: 'blue-green', bakeMs: 0, testListener: false, manualPromote: true },
    ],
    [
      'canary by name: 10% for 5 minutes',
      file('    strategy: canary'),
      {
        kind: 'canary',
        percent: 10,
        intervalMs: DEFAULT_CANARY_INTERVAL_MS,
        bakeMs: DEFAULT_BAKE_MS,
        testListener: true,
        manualPromote: false,
      },
    ],
    [
      'canary, every key',
      file(
        '    strategy: { type: canary, percent: 25, interval: 30s, bake: 1m, test-traffic: false, promote: manual }',
      ),
      {
        kind: 'canary',
        percent: 25,
        intervalMs: 30_000,
        bakeMs: MINUTE,
        testListener: false,
        manualPromote: true,
      },
    ],
    [
      'canary at the edges: 99% for 48h, promote auto',
      fileWithoutTest('    strategy: { type: canary, percent: 99, interval: 48h, promote: auto }'),
      {
        kind: 'canary',
        percent: 99,
        intervalMs: 48 * 60 * MINUTE,
        bakeMs: DEFAULT_BAKE_MS,
        testListener: false,
        manualPromote: false,
      },
    ],
    [
      'linear by name: 10% a minute',
      file('    strategy: linear'),
      {
        kind: 'linear',
        percent: 10,
        intervalMs: DEFAULT_LINEAR_INTERVAL_MS,
        bakeMs: DEFAULT_BAKE_MS,
        testListener: true,
      },
    ],
    [
      'linear, every key',
      file(
        '    strategy: { type: linear, percent: 20, interval: 10s, bake: 0, test-traffic: true }',
      ),
      { kind: 'linear', percent: 20, intervalMs: 10_000, bakeMs: 0, testListener: true },
    ],
    [
      'linear at the edges: 50% every second',
      file('    strategy: { type: linear, percent: 50, interval: 1s }'),
      {
        kind: 'linear',
        percent: 50,
        intervalMs: 1000,
        bakeMs: DEFAULT_BAKE_MS,
        testListener: true,
      },
    ],
  ])('%s', (_name, text, expected) => {
    const config = parse(text);

    expect(config.environments[0]?.strategy).toEqual(expected);
  });

  it.each(CODEDEPLOY_NAMES)('the CodeDeploy name %s', (name, expected) => {
    const config = parse(file(`    strategy: ${name}`));

    expect(config.environments[0]?.strategy).toEqual(expected);
  });

  it('knows exactly the CodeDeploy names tested above', () => {
    expect([...CODEDEPLOY_CONFIGS.keys()]).toEqual(CODEDEPLOY_NAMES.map(([name]) => name));
  });

  it('takes a CodeDeploy name in a mapping, with the keys it leaves open', () => {
    const config = parse(
      file(
        '    strategy: { type: CodeDeployDefault.ECSCanary10Percent15Minutes, bake: 2m, test-traffic: false, promote: manual }',
      ),
    );

    expect(config.environments[0]?.strategy).toEqual({
      ...canary(15),
      bakeMs: 2 * MINUTE,
      testListener: false,
      manualPromote: true,
    });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'knows no strategy named %s (names are not looked up as properties)',
    (name) => {
      expect(strategyTypeOf(name)).toEqual({
        problem: `"${name}" is not a strategy: expected all-at-once, blue-green, canary, linear or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes`,
      });
    },
  );

  const IN_PLACE =
    'is an EC2/on-premises configuration: it deploys in place, to batches of instances, while Phoenix moves traffic from one release to another; use';
  const ECS_NAMES =
    'CodeDeployDefault.ECSAllAtOnce, CodeDeployDefault.ECSCanary10Percent5Minutes, CodeDeployDefault.ECSCanary10Percent15Minutes, CodeDeployDefault.ECSLinear10PercentEvery1Minutes, CodeDeployDefault.ECSLinear10PercentEvery3Minutes';

  it.each(
    refusals([
      // names
      [
        file('    strategy: bluegreen'),
        'phoenix.yml:6:15: environments[0].strategy: "bluegreen" is not a strategy: expected all-at-once, blue-green, canary, linear or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes',
      ],
      [
        file('    strategy: constructor'),
        'phoenix.yml:6:15: environments[0].strategy: "constructor" is not a strategy: expected all-at-once, blue-green, canary, linear or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes',
      ],
      [
        file('    strategy: { type: toString }'),
        'phoenix.yml:6:23: environments[0].strategy.type: "toString" is not a strategy: expected all-at-once, blue-green, canary, linear or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes',
      ],
      [
        file('    strategy: CodeDeployDefault.AllAtOnce'),
        `phoenix.yml:6:15: environments[0].strategy: CodeDeployDefault.AllAtOnce ${IN_PLACE} all-at-once (CodeDeployDefault.ECSAllAtOnce)`,
      ],
      [
        file('    strategy: CodeDeployDefault.HalfAtATime'),
        `phoenix.yml:6:15: environments[0].strategy: CodeDeployDefault.HalfAtATime ${IN_PLACE} { type: linear, percent: 50 }`,
      ],
      [
        file('    strategy: { type: CodeDeployDefault.OneAtATime }'),
        `phoenix.yml:6:23: environments[0].strategy.type: CodeDeployDefault.OneAtATime ${IN_PLACE} linear (10% a minute) or canary`,
      ],
      [
        file('    strategy: CodeDeployDefault.ECSCanary10Percent10Minutes'),
        `phoenix.yml:6:15: environments[0].strategy: CodeDeployDefault.ECSCanary10Percent10Minutes is not a predefined CodeDeploy configuration for ECS or Lambda: use one such as ${ECS_NAMES}, or write the shift, such as { type: canary, percent: 10, interval: 5m }`,
      ],
      [
        file('    strategy: 3'),
        'phoenix.yml:6:15: environments[0].strategy: expected a strategy name or a mapping such as { type: blue-green }',
      ],
      [
        file('    strategy: { type: 3 }'),
        'phoenix.yml:6:23: environments[0].strategy.type: expected a strategy such as all-at-once, blue-green, canary, linear or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes',
      ],
      [
        file('    strategy: { bake: 5m }'),
        'phoenix.yml:6:15: environments[0].strategy.type: type is required: all-at-once, blue-green, canary, linear or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes',
      ],
      [
        file('    strategy: { type: canary, percnt: 5 }'),
        'phoenix.yml:6:31: environments[0].strategy.percnt: unknown key "percnt" (did you mean "percent"?)',
      ],
      // keys outside the strategies they apply to
      [
        file('    strategy: { type: all-at-once, percent: 10 }'),
        'phoenix.yml:6:45: environments[0].strategy.percent: applies to canary and linear only',
      ],
      [
        file('    strategy: { type: blue-green, interval: 1m }'),
        'phoenix.yml:6:45: environments[0].strategy.interval: applies to canary and linear only',
      ],
      [
        file('    strategy: { type: linear, promote: manual }'),
        'phoenix.yml:6:40: environments[0].strategy.promote: applies to blue-green and canary only',
      ],
      [
        file('    strategy: { type: all-at-once, promote: auto }'),
        'phoenix.yml:6:45: environments[0].strategy.promote: applies to blue-green and canary only',
      ],
      [
        file('    strategy: { type: CodeDeployDefault.ECSAllAtOnce, interval: 1m }'),
        'phoenix.yml:6:65: environments[0].strategy.interval: applies to canary and linear only',
      ],
      [
        file(
          '    strategy: { type: CodeDeployDefault.LambdaLinear10PercentEvery1Minute, promote: manual }',
        ),
        'phoenix.yml:6:85: environments[0].strategy.promote: applies to blue-green and canary only',
      ],
      // what a CodeDeploy name fixes
      [
        file('    strategy: { type: CodeDeployDefault.ECSCanary10Percent5Minutes, percent: 20 }'),
        'phoenix.yml:6:78: environments[0].strategy.percent: CodeDeployDefault.ECSCanary10Percent5Minutes fixes percent at 10%: leave percent out, or write type: canary to choose it',
      ],
      [
        file(
          '    strategy: { type: CodeDeployDefault.ECSLinear10PercentEvery3Minutes, interval: 1m }',
        ),
        'phoenix.yml:6:84: environments[0].strategy.interval: CodeDeployDefault.ECSLinear10PercentEvery3Minutes fixes interval at 3m: leave interval out, or write type: linear to choose it',
      ],
      // percent
      [
        file('    strategy: { type: canary, percent: 0 }'),
        'phoenix.yml:6:40: environments[0].strategy.percent: percent must be 1 to 99 for canary: the share the new release gets first',
      ],
      [
        file('    strategy: { type: canary, percent: 100 }'),
        'phoenix.yml:6:40: environments[0].strategy.percent: percent must be 1 to 99 for canary: the share the new release gets first',
      ],
      [
        file('    strategy: { type: linear, percent: 51 }'),
        'phoenix.yml:6:40: environments[0].strategy.percent: percent must be 1 to 50 for linear: the share added every interval',
      ],
      [
        file('    strategy: { type: canary, percent: 12.5 }'),
        'phoenix.yml:6:40: environments[0].strategy.percent: expected a whole number of percent, such as 10',
      ],
      [
        file("    strategy: { type: canary, percent: '10%' }"),
        'phoenix.yml:6:40: environments[0].strategy.percent: expected a whole number of percent, such as 10',
      ],
      // interval, bake, test-traffic, promote
      [
        file('    strategy: { type: canary, interval: 500ms }'),
        'phoenix.yml:6:41: environments[0].strategy.interval: must be at least 1s',
      ],
      [
        file('    strategy: { type: linear, interval: 49h }'),
        'phoenix.yml:6:41: environments[0].strategy.interval: must be at most 48h',
      ],
      [
        file('    strategy: { type: linear, interval: 30 }'),
        'phoenix.yml:6:41: environments[0].strategy.interval: 30 has no unit: write 30s or 30m',
      ],
      [
        file('    strategy: { type: blue-green, bake: 5 }'),
        'phoenix.yml:6:41: environments[0].strategy.bake: 5 has no unit: write 5s or 5m',
      ],
      [
        file('    strategy: { type: canary, bake: 3d }'),
        'phoenix.yml:6:37: environments[0].strategy.bake: must be at most 48h',
      ],
      [
        file('    strategy: { type: canary, promote: later }'),
        'phoenix.yml:6:40: environments[0].strategy.promote: expected auto (production moves to 100% on its own) or manual (a person promotes it)',
      ],
      [
        fileWithoutTest(
          '    listeners: { production: 8080 }',
          '    strategy: { type: linear, test-traffic: true }',
        ),
        'phoenix.yml:6:45: environments[0].strategy.test-traffic: needs a test listener: add listeners.test (a port), or leave test-traffic out',
      ],
    ]),
  )('refuses %s', (_label, text, expected) => {
    const issues = issuesOf(text);

    expect(issues).toContain(expected);
  });

  it('reports every misplaced key of one strategy at once', () => {
    const issues = issuesOf(
      file('    strategy: { type: all-at-once, percent: 10, interval: 1m, promote: manual }'),
    );

    expect(issues).toEqual([
      'phoenix.yml:6:45: environments[0].strategy.percent: applies to canary and linear only',
      'phoenix.yml:6:59: environments[0].strategy.interval: applies to canary and linear only',
      'phoenix.yml:6:72: environments[0].strategy.promote: applies to blue-green and canary only',
    ]);
  });
});

function canary(minutes: number): StrategyConfig {
  return {
    kind: 'canary',
    percent: 10,
    intervalMs: minutes * MINUTE,
    bakeMs: DEFAULT_BAKE_MS,
    testListener: true,
    manualPromote: false,
  };
}

function linear(minutes: number): StrategyConfig {
  return {
    kind: 'linear',
    percent: 10,
    intervalMs: minutes * MINUTE,
    bakeMs: DEFAULT_BAKE_MS,
    testListener: true,
  };
}

describe('alarms, crash-loop and retry-canary-errors', () => {
  it('defaults to no alarms, 3 restarts in 30s, and no retries', () => {
    const environment = parse(file('    alarms:')).environments[0];

    expect(environment).toMatchObject({
      alarms: [],
      crashLoop: { restarts: DEFAULT_CRASH_LOOP_RESTARTS, windowMs: DEFAULT_CRASH_LOOP_WINDOW_MS },
      retryCanaryErrors: false,
    });
  });

  it('reads alarms as declared, normalised, and the self-healing settings', () => {
    const config = parse(
      file(
        '    strategy: canary',
        '    alarms:',
        "      - { name: errors, metric: error-rate, comparison: '>', threshold: 5, period: 1s, evaluation-periods: 2 }",
        '      - { name: slow, metric: latency, statistic: P95, comparison: GreaterThanThreshold, threshold: 800 }',
        '    crash-loop: { restarts: 5, window: 1m }',
        '    retry-canary-errors: true',
      ),
    );

    expect(config.environments[0]).toMatchObject({
      alarms: [
        {
          name: 'errors',
          metric: 'error-rate',
          statistic: undefined,
          comparison: '>',
          threshold: 5,
          periodMs: 1000,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: 'missing',
          minRequests: 10,
        },
        { name: 'slow', metric: 'latency', statistic: 'p95', comparison: '>', threshold: 800 },
      ] satisfies Partial<AlarmSpec>[],
      crashLoop: { restarts: 5, windowMs: MINUTE },
      retryCanaryErrors: true,
    });
    expect(config.warnings).toEqual([]);
  });

  it.each(['all-at-once', 'blue-green'])(
    'warns that retry-canary-errors does nothing with %s',
    (strategy) => {
      const config = parse(file(`    strategy: ${strategy}`, '    retry-canary-errors: true'));

      expect(config.warnings.map((w) => `${w.location.line}: ${w.key}: ${w.message}`)).toEqual([
        `7: environments[0].retry-canary-errors: has no effect with strategy ${strategy}: it applies while a canary or linear shift is judged`,
      ]);
    },
  );

  it.each(
    refusals([
      [
        file(
          '    alarms:',
          '      - { name: errors, metric: errors, comparison: ">", threshold: 5 }',
        ),
        'phoenix.yml:7:33: environments[0].alarms[0].metric: "errors" is not a metric: expected requests, errors-5xx, upstream-errors, error-rate, upstream-error-rate, latency',
      ],
      [
        file(
          '    alarms:',
          '      - { name: errors, metric: error-rate, comparison: ">", threshold: 5 }',
          '      - { name: errors, metric: latency, comparison: ">", threshold: 900 }',
        ),
        'phoenix.yml:8:17: environments[0].alarms[1].name: duplicate alarm name "errors" (also alarms[0])',
      ],
      [
        file(
          '    alarms:',
          '      - { name: errors, metric: error-rate, comparison: ">", threshold: 5, periods: 2 }',
        ),
        'phoenix.yml:7:76: environments[0].alarms[0].periods: unknown key "periods" (did you mean "period"?)',
      ],
      [
        file('    alarms: { name: errors }'),
        'phoenix.yml:6:13: environments[0].alarms: expected a list of alarms (- name: errors)',
      ],
      [
        file('    crash-loop: { restarts: 0 }'),
        'phoenix.yml:6:29: environments[0].crash-loop.restarts: restarts must be 1 to 100',
      ],
      [
        file('    crash-loop: { restarts: 2.5 }'),
        'phoenix.yml:6:29: environments[0].crash-loop.restarts: expected a whole number from 1 to 100',
      ],
      [
        file('    crash-loop: { window: 500ms }'),
        'phoenix.yml:6:27: environments[0].crash-loop.window: must be at least 1s',
      ],
      [
        file('    crash-loop: { window: 2h }'),
        'phoenix.yml:6:27: environments[0].crash-loop.window: must be at most 1h',
      ],
      [
        file('    crash-loop: { restart: 3 }'),
        'phoenix.yml:6:19: environments[0].crash-loop.restart: unknown key "restart" (did you mean "restarts"?)',
      ],
      [
        file('    crash-loop: 3'),
        'phoenix.yml:6:17: environments[0].crash-loop: expected a mapping such as { restarts: 3, window: 30s }',
      ],
      [
        file('    retry-canary-errors: yes'),
        'phoenix.yml:6:26: environments[0].retry-canary-errors: expected true or false',
      ],
      [
        file('    retry-canary-error: true'),
        'phoenix.yml:6:5: environments[0].retry-canary-error: unknown key "retry-canary-error" (did you mean "retry-canary-errors"?)',
      ],
    ]),
  )('refuses %s', (_label, text, expected) => {
    const issues = issuesOf(text);

    expect(issues).toContain(expected);
  });
});

describe('ENVIRONMENT_KEYS', () => {
  it('holds every key an alarm takes, for "did you mean" hints', () => {
    const alarmKeys = Object.keys(alarmSpecSchema.innerType().innerType().shape);

    expect(alarmKeys.filter((key) => !ENVIRONMENT_KEYS.some((known) => known === key))).toEqual([]);
  });
});

describe('hook-commands', () => {
  it('maps the Lambda functions of ECS hooks to commands, with their timeouts', () => {
    const config = parse(
      file(
        '    hook-commands:',
        '      shop-smoke-tests: npm run smoke -- "$PHOENIX_TEST_URL"',
        '      shop-migrate: { command: npm run migrate, timeout: 10m }',
      ),
    );

    expect(config.environments[0]?.hookCommands).toEqual({
      'shop-smoke-tests': { command: 'npm run smoke -- "$PHOENIX_TEST_URL"' },
      'shop-migrate': { command: 'npm run migrate', timeoutMs: 10 * MINUTE },
    });
    expect(config.warnings).toEqual([]);
  });

  it('is empty when the environment names none', () => {
    expect(parse(file()).environments[0]?.hookCommands).toEqual({});
  });

  it.each(
    refusals([
      [
        file('    hook-commands: { smoke: "  " }'),
        'phoenix.yml:6:29: environments[0].hook-commands.smoke: expected a command, not a blank',
      ],
      [
        file('    hook-commands: { smoke: { command: x, timeout: 2h } }'),
        'phoenix.yml:6:52: environments[0].hook-commands.smoke.timeout: must be at most 1h',
      ],
      [
        file('    hook-commands: { smoke: { comand: x } }'),
        'phoenix.yml:6:29: environments[0].hook-commands.smoke.command: command is required: { command, timeout }',
      ],
      [
        file('    hook-commands: [npm run smoke]'),
        'phoenix.yml:6:20: environments[0].hook-commands: expected a mapping of Lambda function names to commands',
      ],
    ]),
  )('refuses %s', (_label, text, expected) => {
    expect(issuesOf(text)).toContain(expected);
  });
});
