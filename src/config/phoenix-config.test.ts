import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { ValidationError } from '../shared/errors.js';
import { loadPhoenixConfig, parsePhoenixConfig, statusMatches } from './phoenix-config.js';
import {
  DEFAULT_BUILD_TIMEOUT_MS,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  KNOWN_KEYS,
} from './phoenix-schema.js';
import { DEFAULT_PERIOD_MS } from '../monitor/alarm-spec.js';
import { environmentsFor } from './trigger-match.js';

function issuesOf(text: string): string[] {
  try {
    parsePhoenixConfig(text, 'phoenix.yml');
  } catch (error) {
    if (error instanceof ValidationError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected phoenix.yml to be refused');
}

/** The start of a file whose environment dev takes one more key, on line 5. */
const ENVIRONMENT = 'service: shop\nrelease: {start: x}\nenvironments:\n  - name: dev\n';

const COMPLETE = `service: shop
trigger:
  branches: [main, 'release/**']
  branches-ignore: ['wip/**']
  tags: ['v*']
  tags-ignore: ['v*-rc*']
  paths: ['src/**']
  paths-ignore: ['docs/**', '**/*.md']
execution-mode: queued
build:
  buildspec: ci/buildspec.yml
  timeout: 30m
  retries: 2
  retry-on: any
  sandbox: true
release:
  start: node server.js
  port-env: HTTP_PORT
  instances: 3
  health-check:
    path: /ready
    interval: 10s
    timeout: 1500ms
    healthy-threshold: 1
    unhealthy-threshold: 5
    matcher: 200,204
    grace-period: 30s
environments:
  - name: dev
    listeners: { production: 18080, test: 18081 }
    variables: { NODE_ENV: development, DEBUG: true }
  - name: prod
    branches: [main]
    instances: 4
    listeners: { production: 8080 }
    strategy: { type: blue-green, bake: 10m }
  - name: eu
    listeners: { production: 9090, test: 9091 }
    strategy: { type: canary, percent: 20, interval: 30s, bake: 1m, test-traffic: false, promote: manual }
    alarms:
      - { name: errors, metric: error-rate, comparison: '>', threshold: 5, period: 1s, evaluation-periods: 2 }
    crash-loop: { restarts: 5, window: 1m }
    retry-canary-errors: true
    hook-commands: { eu-smoke: { command: npm run smoke, timeout: 5m } }
`;

describe('parsePhoenixConfig', () => {
  it('reads every key of a complete file', () => {
    const config = parsePhoenixConfig(COMPLETE, 'phoenix.yml');

    expect(config).toMatchObject({
      service: 'shop',
      trigger: {
        branches: ['main', 'release/**'],
        branchesIgnore: ['wip/**'],
        tags: ['v*'],
        tagsIgnore: ['v*-rc*'],
        paths: ['src/**'],
        pathsIgnore: ['docs/**', '**/*.md'],
      },
      executionMode: 'queued',
      build: {
        buildspec: 'ci/buildspec.yml',
        timeoutMs: 30 * 60_000,
        retries: 2,
        retryOn: 'any',
        sandbox: true,
      },
      release: {
        start: 'node server.js',
        portEnv: 'HTTP_PORT',
        instances: 3,
        healthCheck: {
          path: '/ready',
          intervalMs: 10_000,
          timeoutMs: 1500,
          healthyThreshold: 1,
          unhealthyThreshold: 5,
          matcher: { text: '200,204' },
          gracePeriodMs: 30_000,
        },
      },
    });
    expect(config.environments).toEqual([
      {
        name: 'dev',
        branches: undefined,
        instances: 3,
        listeners: { production: 18_080, test: 18_081 },
        strategy: { kind: 'all-at-once', bakeMs: 0, testListener: true },
        alarms: [],
        crashLoop: { restarts: 3, windowMs: 30_000 },
        retryCanaryErrors: false,
        protected: false,
        secretVariables: {},
        hookCommands: {},
        variables: { NODE_ENV: 'development', DEBUG: 'true' },
        key: 'environments[0]',
        location: expect.objectContaining({ line: 29 }),
      },
      {
        name: 'prod',
        branches: ['main'],
        instances: 4,
        listeners: { production: 8080 },
        strategy: {
          kind: 'blue-green',
          bakeMs: 10 * 60_000,
          testListener: false,
          manualPromote: false,
        },
        alarms: [],
        crashLoop: { restarts: 3, windowMs: 30_000 },
        retryCanaryErrors: false,
        protected: false,
        secretVariables: {},
        hookCommands: {},
        variables: {},
        key: 'environments[1]',
        location: expect.objectContaining({ line: 32 }),
      },
      {
        name: 'eu',
        branches: undefined,
        instances: 3,
        listeners: { production: 9090, test: 9091 },
        strategy: {
          kind: 'canary',
          percent: 20,
          intervalMs: 30_000,
          bakeMs: 60_000,
          testListener: false,
          manualPromote: true,
        },
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
        ],
        crashLoop: { restarts: 5, windowMs: 60_000 },
        retryCanaryErrors: true,
        protected: false,
        secretVariables: {},
        hookCommands: { 'eu-smoke': { command: 'npm run smoke', timeoutMs: 300_000 } },
        variables: {},
        key: 'environments[2]',
        location: expect.objectContaining({ line: 37 }),
      },
    ]);
    expect(config.warnings).toEqual([]);
  });

  it('applies the documented defaults to a minimal file', () => {
    const config = parsePhoenixConfig('service: shop\n', 'phoenix.yml');

    expect(config).toMatchObject({
      trigger: { branches: ['**'], branchesIgnore: [], tags: [], tagsIgnore: [], pathsIgnore: [] },
      executionMode: 'superseded',
      build: {
        buildspec: 'buildspec.yml',
        timeoutMs: DEFAULT_BUILD_TIMEOUT_MS,
        retries: 1,
        retryOn: 'platform',
        sandbox: false,
      },
      environments: [],
    });
    expect(config.trigger.paths).toBeUndefined();
    expect(config.release).toBeUndefined();
  });

  it('fills in the release health check defaults', () => {
    const config = parsePhoenixConfig('service: shop\nrelease:\n  start: npm start\n', 'p.yml');

    expect(config.release).toMatchObject({
      start: 'npm start',
      portEnv: 'PORT',
      instances: 1,
      healthCheck: {
        path: '/health',
        intervalMs: DEFAULT_HEALTH_INTERVAL_MS,
        timeoutMs: DEFAULT_HEALTH_TIMEOUT_MS,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        matcher: { text: '200-299' },
        gracePeriodMs: 0,
      },
    });
  });

  it('accepts a single pattern for a list and empty sections', () => {
    const config = parsePhoenixConfig(
      'service: shop\ntrigger:\n  branches: main\n  tags-ignore:\nbuild:\nenvironments:\n',
      'p.yml',
    );

    expect(config.trigger.branches).toEqual(['main']);
    expect(config.trigger.tagsIgnore).toEqual([]);
    expect(config.build.buildspec).toBe('buildspec.yml');
  });

  it.each([
    // service
    ['trigger: {}\n', /^phoenix.yml:1:1: service: service is required/],
    ['service: Shop\n', /^phoenix.yml:1:10: service: service names are lowercase letters/],
    ['service: 42\n', /^phoenix.yml:1:10: service: expected a service name/],
    [`service: a${'b'.repeat(63)}\n`, /service: service names are lowercase/],
    // structure
    ['- service: shop\n', /^phoenix.yml:1:1: phoenix.yml must be a YAML mapping/],
    ['', /phoenix.yml must be a YAML mapping/],
    ['service: shop\nservice: cart\n', /^phoenix.yml:2:1: service: duplicate key "service"$/],
    ['service: shop\nbuild: [a\n', /^phoenix.yml:\d+:\d+: invalid YAML/],
    [
      'service: shop\nenviroments: []\n',
      /^phoenix.yml:2:1: enviroments: unknown key "enviroments" \(did you mean "environments"\?\)$/,
    ],
    [
      'service: shop\ntrigger:\n  branch: [main]\n',
      /^phoenix.yml:3:3: trigger.branch: unknown key "branch" \(did you mean "branches"\?\)$/,
    ],
    // trigger
    [
      'service: shop\ntrigger:\n  branches: [refs/heads/main]\n',
      /^phoenix.yml:3:14: trigger.branches\[0\]: write the branch name without "refs\/heads\/"$/,
    ],
    [
      'service: shop\ntrigger:\n  tags: refs/tags/v1\n',
      /^phoenix.yml:3:9: trigger.tags: write the tag name without "refs\/tags\/"$/,
    ],
    [
      'service: shop\ntrigger:\n  branches: []\n',
      /trigger.branches: an empty list matches no branch: leave branches out/,
    ],
    [
      'service: shop\ntrigger:\n  branches: [main, ""]\n',
      /trigger.branches\[1\]: an empty pattern/,
    ],
    [
      'service: shop\ntrigger:\n  branches: [1.0]\n',
      /trigger.branches\[0\]: expected a branch pattern/,
    ],
    [
      'service: shop\ntrigger:\n  branches: {main: 1}\n',
      /trigger.branches: expected a branch pattern or a list/,
    ],
    [
      "service: shop\ntrigger:\n  branches: ['!main']\n",
      /trigger.branches: only "!" patterns match nothing/,
    ],
    [
      "service: shop\ntrigger:\n  branches-ignore: ['!main']\n",
      /trigger.branches-ignore\[0\]: "!" patterns belong in branches/,
    ],
    ["service: shop\ntrigger:\n  branches: [main, '!']\n", /a "!" pattern needs something/],
    [
      "service: shop\ntrigger:\n  paths: ['/src/**']\n",
      /trigger.paths\[0\]: paths are relative to the repository root: write "src\/\*\*"/,
    ],
    ["service: shop\ntrigger:\n  paths-ignore: ['./docs/**']\n", /write "docs\/\*\*"/],
    ['service: shop\ntrigger:\n  paths: []\n', /an empty list matches no path/],
    // execution mode
    [
      'service: shop\nexecution-mode: serial\n',
      /^phoenix.yml:2:17: execution-mode: expected one of superseded, queued, parallel$/,
    ],
    // build
    [
      'service: shop\nbuild:\n  timeout: soon\n',
      /^phoenix.yml:3:12: build.timeout: "soon" is not a duration such as 30s, 5m or 500ms$/,
    ],
    ['service: shop\nbuild:\n  timeout: 30\n', /build.timeout: 30 has no unit: write 30s or 30m/],
    ['service: shop\nbuild:\n  timeout: 0s\n', /build.timeout: must be more than 0ms/],
    ['service: shop\nbuild:\n  timeout: 37h\n', /build.timeout: must be at most 36h/],
    ['service: shop\nbuild:\n  timeout: [1m]\n', /build.timeout: expected a duration/],
    ['service: shop\nbuild:\n  retries: 6\n', /build.retries: retries must be 0 to 5/],
    ['service: shop\nbuild:\n  retries: -1\n', /build.retries: retries must be 0 to 5/],
    [
      'service: shop\nbuild:\n  retries: 1.5\n',
      /build.retries: expected a whole number from 0 to 5/,
    ],
    ['service: shop\nbuild:\n  retries: once\n', /build.retries: expected a whole number/],
    ['service: shop\nbuild:\n  retry-on: tests\n', /build.retry-on: expected platform .* or any/],
    ['service: shop\nbuild:\n  sandbox: maybe\n', /build.sandbox: expected true or false/],
    [
      'service: shop\nbuild:\n  buildspec: ../other/buildspec.yml\n',
      /build.buildspec: the buildspec must be a path inside the repository/,
    ],
    ['service: shop\nbuild:\n  buildspec: /etc/passwd\n', /build.buildspec: the buildspec must be/],
    ['service: shop\nbuild:\n  buildspec: ""\n', /build.buildspec: expected a file path/],
    [
      'service: shop\nbuild:\n  timout: 5m\n',
      /build.timout: unknown key "timout" \(did you mean "timeout"\?\)/,
    ],
    // release
    [
      'service: shop\nrelease:\n  port-env: PORT\n',
      /^phoenix.yml:3:3: release.start: start is required/,
    ],
    [
      'service: shop\nrelease:\n',
      /^phoenix.yml:2:9: release: expected a mapping with at least start/,
    ],
    ['service: shop\nrelease:\n  start: "  "\n', /release.start: expected the command/],
    [
      'service: shop\nrelease:\n  start: x\n  port-env: http-port\n',
      /release.port-env: expected an environment variable name/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  instances: 0\n',
      /release.instances: instances must be 1 to 32/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  instances: 33\n',
      /release.instances: instances must be 1 to 32/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    path: health\n',
      /release.health-check.path: expected a URL path starting with \//,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    interval: 100ms\n',
      /release.health-check.interval: must be at least 500ms/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    interval: 5s\n    timeout: 5s\n',
      /^phoenix.yml:6:14: release.health-check.timeout: the timeout \(5s\) must be shorter than the interval \(5s\)/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    interval: 1s\n',
      /^phoenix.yml:5:15: release.health-check.interval: the timeout \(2s\) must be shorter than the interval \(1s\)/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    timeout: 0ms\n',
      /release.health-check.timeout: must be more than 0ms/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    healthy-threshold: 11\n',
      /release.health-check.healthy-threshold: healthy-threshold must be 1 to 10/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    unhealthy-threshold: 0\n',
      /release.health-check.unhealthy-threshold: unhealthy-threshold must be 1 to 10/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    matcher: 2xx\n',
      /release.health-check.matcher: "2xx" is not a status matcher/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    matcher: 299-200\n',
      /release.health-check.matcher: 299-200: the range is reversed/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    matcher: 200,700\n',
      /release.health-check.matcher: 700: HTTP status codes are 100 to 599/,
    ],
    [
      'service: shop\nrelease:\n  start: x\n  health-check:\n    grace-period: later\n',
      /release.health-check.grace-period: "later" is not a duration/,
    ],
    // environments
    [
      'service: shop\nrelease: {start: x}\nenvironments:\n  - name: dev\n  - name: dev\n',
      /^phoenix.yml:5:11: environments\[1\].name: duplicate environment name "dev" \(also environments\[0\]\)$/,
    ],
    [
      'service: shop\nrelease: {start: x}\nenvironments:\n  - name: Prod\n',
      /^phoenix.yml:4:11: environments\[0\].name: environment names are lowercase/,
    ],
    [
      'service: shop\nrelease: {start: x}\nenvironments:\n  - branches: [main]\n',
      /environments\[0\].name: name is required/,
    ],
    [
      'service: shop\nrelease: {start: x}\nenvironments:\n  dev: {}\n',
      /^phoenix.yml:4:3: environments: expected a list of environments in deployment order/,
    ],
    [
      'service: shop\nrelease: {start: x}\nenvironments:\n  - dev\n',
      /environments\[0\]: expected a mapping such as \{ name: dev \}/,
    ],
    [
      'service: shop\nrelease: {start: x}\nenvironments:\n  - name: dev\n    branch: [main]\n',
      /environments\[0\].branch: unknown key "branch" \(did you mean "branches"\?\)/,
    ],
    [
      'service: shop\nenvironments:\n  - name: dev\n',
      /^phoenix.yml:3:3: environments: environments deploy a release: add release.start/,
    ],
    // environments: listeners, strategy, instances, variables
    [
      `${ENVIRONMENT}    listeners: { production: 80 }\n`,
      /^phoenix.yml:5:30: environments\[0\].listeners.production: production must be 1024 to 65535$/,
    ],
    [
      `${ENVIRONMENT}    listeners: { test: 8081 }\n`,
      /environments\[0\].listeners.production: production is required: the port production traffic comes in on$/,
    ],
    [
      `${ENVIRONMENT}    listeners: { production: 8080, tset: 8081 }\n`,
      /environments\[0\].listeners.tset: unknown key "tset" \(did you mean "test"\?\)$/,
    ],
    [
      `${ENVIRONMENT}    listeners: { production: 8080 }\n  - name: prod\n    listeners: { production: 9090, test: 8080 }\n`,
      /^phoenix.yml:7:42: environments\[1\].listeners.test: port 8080 is also environments\[0\].listeners.production: every listener needs a port of its own$/,
    ],
    [
      `${ENVIRONMENT}    listeners: { production: 8080, test: 8080 }\n`,
      /environments\[0\].listeners.test: port 8080 is also environments\[0\].listeners.production/,
    ],
    // strategy, alarms and self-healing in detail: environment-schema.test.ts
    [
      `${ENVIRONMENT}    strategy: { type: blue-green, bak: 5m }\n`,
      /environments\[0\].strategy.bak: unknown key "bak" \(did you mean "bake"\?\)$/,
    ],
    [
      `${ENVIRONMENT}    strategy: { type: blue-green, test-traffic: true }\n`,
      /environments\[0\].strategy.test-traffic: needs a test listener: add listeners.test/,
    ],
    [`${ENVIRONMENT}    instances: 0\n`, /environments\[0\].instances: instances must be 1 to 32$/],
    [
      `${ENVIRONMENT}    variables: { PHOENIX_RELEASE: x }\n`,
      /environments\[0\].variables.PHOENIX_RELEASE: PHOENIX_ variables are set by Phoenix for each instance$/,
    ],
    [
      `${ENVIRONMENT}    variables: { bad-name: x }\n`,
      /environments\[0\].variables.bad-name: expected a variable name such as NODE_ENV$/,
    ],
    [
      `${ENVIRONMENT}    variables: { NESTED: { a: 1 } }\n`,
      /environments\[0\].variables.NESTED: expected a string, a number, true\/false, or \{ secret: NAME \}$/,
    ],
    [
      `${ENVIRONMENT}    variables: { TOKEN: { secret: '9 lives' } }\n`,
      /environments\[0\].variables.TOKEN.secret: expected a secret name such as db-password$/,
    ],
    [
      `${ENVIRONMENT}    variables: { PORT: '1' }\n`,
      /^phoenix.yml:5:24: environments\[0\].variables.PORT: PORT is set by Phoenix for each instance \(release.port-env\)/,
    ],
  ])('refuses bad input with file, line, column and key: %#', (text, expected) => {
    const issues = issuesOf(text);

    expect(issues, issues.join('\n')).toSatisfy((all: string[]) =>
      all.some((issue) => expected.test(issue)),
    );
  });

  it('reports every problem in the file at once, across sections', () => {
    const issues = issuesOf(
      [
        'service: Shop',
        'trigger:',
        '  branches: [refs/heads/main]',
        'build:',
        '  timeout: soon',
        'release:',
        '  start: npm start',
        '  health-check:',
        '    interval: 1s',
        '    timeout: 3s',
        'environments:',
        '  - name: dev',
        '  - name: dev',
      ].join('\n'),
    );

    expect(issues.map((issue) => issue.split(': ')[0])).toEqual([
      'phoenix.yml:1:10',
      'phoenix.yml:3:14',
      'phoenix.yml:5:12',
      'phoenix.yml:10:14',
      'phoenix.yml:13:11',
    ]);
  });

  it('warns about settings that have no effect as written', () => {
    const config = parsePhoenixConfig(
      "service: shop\ntrigger:\n  tags-ignore: ['v*-rc']\nbuild:\n  retries: 0\n  retry-on: any\n",
      'phoenix.yml',
    );

    expect(config.warnings.map((w) => `${w.location.line}: ${w.key}: ${w.message}`)).toEqual([
      '3: trigger.tags-ignore: has no effect: tags run only when listed in trigger.tags',
      '6: build.retry-on: has no effect with retries: 0',
    ]);
  });
});

describe('statusMatches', () => {
  it.each([
    ['200', 200, true],
    ['200', 201, false],
    ['200,204', 204, true],
    ['200-299', 299, true],
    ['200-299', 301, false],
    ['200-299, 304', 304, true],
  ])('%s accepts %i: %s', (matcher, status, expected) => {
    const config = parsePhoenixConfig(
      `service: s\nrelease:\n  start: x\n  health-check:\n    matcher: "${matcher}"\n`,
      'p.yml',
    );

    expect(
      statusMatches(config.release?.healthCheck.matcher ?? { text: '', ranges: [] }, status),
    ).toBe(expected);
  });
});

describe('loadPhoenixConfig', () => {
  let dir: ReturnType<typeof tempDir>;

  beforeEach(() => {
    dir = tempDir();
  });

  afterEach(() => dir.remove());

  it('reads a file and names it by its display name in errors', async () => {
    writeFileSync(join(dir.path, 'phoenix.yml'), 'service: shop\nbuild:\n  retries: 9\n');

    const error = await loadPhoenixConfig(join(dir.path, 'phoenix.yml'), 'phoenix.yml').catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'phoenix.yml:3:12: build.retries: retries must be 0 to 5',
    );
  });

  it('says when the file is missing', async () => {
    const error = await loadPhoenixConfig(join(dir.path, 'phoenix.yml'), 'phoenix.yml').catch(
      (e: unknown) => e,
    );

    expect((error as ValidationError).message).toBe(
      'phoenix.yml:1:1: cannot read phoenix.yml: file not found (phoenix init writes a starter)',
    );
  });

  it('loads a valid file', async () => {
    writeFileSync(join(dir.path, 'phoenix.yml'), COMPLETE);

    const config = await loadPhoenixConfig(join(dir.path, 'phoenix.yml'));

    expect(config.service).toBe('shop');
    expect(config.file).toBe(join(dir.path, 'phoenix.yml'));
  });
});

describe('docs/phoenix-yml.md', () => {
  const docs = readFileSync(join(import.meta.dirname, '../../docs/phoenix-yml.md'), 'utf8');
  const example = /## A complete example\n\n```yaml\n([\s\S]*?)```/.exec(docs)?.[1] ?? '';

  it('holds a complete example that parses, and deploys as it says', () => {
    const config = parsePhoenixConfig(example, 'docs/phoenix-yml.md');

    expect(config.warnings).toEqual([]);
    expect(config.trigger.branches).toContain('!release/**-alpha');
    expect(environmentsFor(config, 'main')).toEqual(['dev', 'staging', 'prod']);
    expect(environmentsFor(config, 'release/1.2')).toEqual(['dev', 'staging']);
    expect(environmentsFor(config, 'feature/x')).toEqual(['dev']);
    expect(config.environments.map((e) => [e.name, e.instances, e.strategy])).toEqual([
      ['dev', 2, { kind: 'all-at-once', bakeMs: 0, testListener: true }],
      [
        'staging',
        2,
        {
          kind: 'canary',
          percent: 10,
          intervalMs: 30_000,
          bakeMs: 60_000,
          testListener: true,
          manualPromote: false,
        },
      ],
      [
        'prod',
        4,
        { kind: 'blue-green', bakeMs: 10 * 60_000, testListener: true, manualPromote: true },
      ],
    ]);
    expect(config.environments[1]).toMatchObject({
      alarms: [
        { name: 'errors', periodMs: DEFAULT_PERIOD_MS, evaluationPeriods: 2 },
        { name: 'slow', statistic: 'p99', datapointsToAlarm: 2, treatMissingData: 'notBreaching' },
      ],
      crashLoop: { restarts: 3, windowMs: 30_000 },
      retryCanaryErrors: true,
    });
  });

  it('documents every key the schema knows', () => {
    const missing = KNOWN_KEYS.filter((key) => !docs.includes(`\`${key}\``));

    expect(missing).toEqual([]);
  });
});

describe("README.md's phoenix.yml", () => {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const example = /## phoenix\.yml\n[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

  it('is a complete example that parses without a warning, and deploys as it says', () => {
    const config = parsePhoenixConfig(example, 'README.md');

    expect(config.warnings).toEqual([]);
    expect(environmentsFor(config, 'main')).toEqual(['dev', 'staging', 'prod']);
    expect(environmentsFor(config, 'release/2.0')).toEqual(['dev']);
    expect(config.environments.map((e) => [e.name, e.strategy.kind, e.protected])).toEqual([
      ['dev', 'all-at-once', false],
      ['staging', 'canary', false],
      ['prod', 'blue-green', true],
    ]);
    expect(config.environments[2]?.secretVariables).toEqual({
      DATABASE_URL: 'SHOP_DATABASE_URL',
    });
    expect(config.notifications).toHaveLength(1);
  });
});
