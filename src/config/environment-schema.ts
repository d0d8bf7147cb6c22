import { z } from 'zod';
import { SECRET_NAME_PATTERN } from '../secrets/secret-name.js';
import { APPROVAL_KEYS, approvalSchema } from './approval-schema.js';
import { alarmsSchema } from '../monitor/alarm-spec.js';
import { describeMs, duration, ENV_VARIABLE_PATTERN, integer, patterns } from './schema-parts.js';

/**
 * The shape of phoenix.yml's `environments`: where a release goes, in order, and how —
 * listener ports, instances, strategy, alarms, self-healing, variables. The defaults are
 * named here once.
 */

export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/** Listener ports: above the privileged range, so that `phoenix router` needs no root. */
export const MIN_LISTENER_PORT = 1024;
export const MAX_LISTENER_PORT = 65_535;
/** Most instances of a release in one environment (release.instances and an environment's). */
export const MAX_INSTANCES = 32;

export const STRATEGY_TYPES = ['all-at-once', 'blue-green', 'canary', 'linear'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];
/** An environment without `strategy` gets each new release all at once. */
export const DEFAULT_STRATEGY = 'all-at-once' satisfies StrategyType;
/**
 * The bake of blue/green, canary and linear: how long the previous release stays up, warm,
 * once production is entirely on the new one, while the new one is watched.
 */
export const DEFAULT_BAKE_MS = 5 * 60_000;
/** All at once keeps the previous release warm only when asked to. */
export const DEFAULT_ALL_AT_ONCE_BAKE_MS = 0;
/** CodeDeploy's longest wait before the original task set is terminated: two days. */
export const MAX_BAKE_MS = 48 * 3_600_000;

/** As CodeDeploy's ECSCanary10Percent5Minutes. */
export const DEFAULT_CANARY_PERCENT = 10;
export const DEFAULT_CANARY_INTERVAL_MS = 5 * 60_000;
/** As CodeDeploy's ECSLinear10PercentEvery1Minutes. */
export const DEFAULT_LINEAR_PERCENT = 10;
export const DEFAULT_LINEAR_INTERVAL_MS = 60_000;
/** A canary's first share leaves at least 1% on the previous release. */
export const MAX_CANARY_PERCENT = 99;
/** A bigger linear step would be a canary: one step, then the top-up to 100. */
export const MAX_LINEAR_PERCENT = 50;
/** Time between shifts: long enough for the alarms' periods, at most CodeDeploy's two days. */
export const MIN_SHIFT_INTERVAL_MS = 1000;
export const MAX_SHIFT_INTERVAL_MS = 48 * 3_600_000;

export const PROMOTE_MODES = ['auto', 'manual'] as const;
export type PromoteMode = (typeof PROMOTE_MODES)[number];
/** Production moves to 100% without waiting for a person. */
export const DEFAULT_PROMOTE = 'auto' satisfies PromoteMode;

/** Three restarts of one instance within 30 s fail the deployment: it cannot stay up. */
export const DEFAULT_CRASH_LOOP_RESTARTS = 3;
export const DEFAULT_CRASH_LOOP_WINDOW_MS = 30_000;
export const MAX_CRASH_LOOP_RESTARTS = 100;
export const MIN_CRASH_LOOP_WINDOW_MS = 1000;
export const MAX_CRASH_LOOP_WINDOW_MS = 3_600_000;

/** What a strategy name stands for. A CodeDeploy canary or linear name also fixes its shift. */
export interface NamedStrategy {
  type: StrategyType;
  percent?: number;
  intervalMs?: number;
  /** The CodeDeploy configuration the strategy was named by. */
  codeDeploy?: string;
}

function shift(type: 'canary' | 'linear', percent: number, minutes: number): NamedStrategy {
  return { type, percent, intervalMs: minutes * 60_000 };
}

/** CodeDeploy's predefined ECS and Lambda configurations: they shift traffic, as Phoenix does. */
export const CODEDEPLOY_CONFIGS: ReadonlyMap<string, NamedStrategy> = new Map([
  ['CodeDeployDefault.ECSAllAtOnce', { type: 'all-at-once' }],
  ['CodeDeployDefault.ECSCanary10Percent5Minutes', shift('canary', 10, 5)],
  ['CodeDeployDefault.ECSCanary10Percent15Minutes', shift('canary', 10, 15)],
  ['CodeDeployDefault.ECSLinear10PercentEvery1Minutes', shift('linear', 10, 1)],
  ['CodeDeployDefault.ECSLinear10PercentEvery3Minutes', shift('linear', 10, 3)],
  ['CodeDeployDefault.LambdaAllAtOnce', { type: 'all-at-once' }],
  ['CodeDeployDefault.LambdaCanary10Percent5Minutes', shift('canary', 10, 5)],
  ['CodeDeployDefault.LambdaCanary10Percent10Minutes', shift('canary', 10, 10)],
  ['CodeDeployDefault.LambdaCanary10Percent15Minutes', shift('canary', 10, 15)],
  ['CodeDeployDefault.LambdaCanary10Percent30Minutes', shift('canary', 10, 30)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery1Minute', shift('linear', 10, 1)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery2Minutes', shift('linear', 10, 2)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery3Minutes', shift('linear', 10, 3)],
  ['CodeDeployDefault.LambdaLinear10PercentEvery10Minutes', shift('linear', 10, 10)],
]);

/**
 * CodeDeploy's EC2/on-premises configurations, each with what to write instead: they
 * deploy in place, to one batch of instances after another, where Phoenix starts the new
 * release beside the previous one and moves traffic between them.
 */
export const CODEDEPLOY_IN_PLACE_CONFIGS: ReadonlyMap<string, string> = new Map([
  ['CodeDeployDefault.AllAtOnce', 'all-at-once (CodeDeployDefault.ECSAllAtOnce)'],
  ['CodeDeployDefault.HalfAtATime', '{ type: linear, percent: 50 }'],
  ['CodeDeployDefault.OneAtATime', 'linear (10% a minute) or canary'],
]);

const CODEDEPLOY_PREFIX = 'CodeDeployDefault.';
const STRATEGY_HINT = `${STRATEGY_TYPES.join(', ')} or a CodeDeploy name such as CodeDeployDefault.ECSCanary10Percent5Minutes`;

/**
 * The strategy a name stands for, or why Phoenix refuses it. Names are looked up in a list
 * and a Map, never as an object's properties: `constructor` names no strategy.
 */
export function strategyTypeOf(name: string): NamedStrategy | { problem: string } {
  const type = STRATEGY_TYPES.find((known) => known === name);
  if (type !== undefined) return { type };
  const codeDeploy = CODEDEPLOY_CONFIGS.get(name);
  if (codeDeploy !== undefined) return { ...codeDeploy, codeDeploy: name };
  const instead = CODEDEPLOY_IN_PLACE_CONFIGS.get(name);
  if (instead !== undefined) {
    return {
      problem: `${name} is an EC2/on-premises configuration: it deploys in place, to batches of instances, while Phoenix moves traffic from one release to another; use ${instead}`,
    };
  }
  if (name.startsWith(CODEDEPLOY_PREFIX)) {
    const ecs = [...CODEDEPLOY_CONFIGS.keys()].filter((known) => known.includes('.ECS'));
    return {
      problem: `${name} is not a predefined CodeDeploy configuration for ECS or Lambda: use one such as ${ecs.join(', ')}, or write the shift, such as { type: canary, percent: 10, interval: 5m }`,
    };
  }
  return { problem: `"${name}" is not a strategy: expected ${STRATEGY_HINT}` };
}

const WHOLE_PERCENT = 'expected a whole number of percent, such as 10';

const strategyFields = z
  .object(
    {
      type: z.string({
        required_error: `type is required: ${STRATEGY_HINT}`,
        invalid_type_error: `expected a strategy such as ${STRATEGY_HINT}`,
      }),
      percent: z.number({ invalid_type_error: WHOLE_PERCENT }).int(WHOLE_PERCENT).optional(),
      interval: duration({ min: MIN_SHIFT_INTERVAL_MS, max: MAX_SHIFT_INTERVAL_MS }).optional(),
      bake: duration({ min: 0, max: MAX_BAKE_MS }).optional(),
      'test-traffic': z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
      promote: z
        .enum(PROMOTE_MODES, {
          errorMap: () => ({
            message:
              'expected auto (production moves to 100% on its own) or manual (a person promotes it)',
          }),
        })
        .optional(),
    },
    { invalid_type_error: 'expected a strategy name or a mapping such as { type: blue-green }' },
  )
  .strict();

type StrategyFields = z.infer<typeof strategyFields>;
type AddIssue = (key: keyof StrategyFields, message: string) => void;

/** The strategies each key applies to; elsewhere it is refused at its own key. */
const KEY_SCOPES: readonly [keyof StrategyFields, readonly StrategyType[], string][] = [
  ['percent', ['canary', 'linear'], 'applies to canary and linear only'],
  ['interval', ['canary', 'linear'], 'applies to canary and linear only'],
  ['promote', ['blue-green', 'canary'], 'applies to blue-green and canary only'],
];

const PERCENT_RANGES: Readonly<Record<'canary' | 'linear', { max: number; meaning: string }>> = {
  canary: { max: MAX_CANARY_PERCENT, meaning: 'the share the new release gets first' },
  linear: { max: MAX_LINEAR_PERCENT, meaning: 'the share added every interval' },
};

/** Checks that depend on the strategy's type; each problem is reported at the key to change. */
function checkStrategy(fields: StrategyFields, addIssue: AddIssue): void {
  const named = strategyTypeOf(fields.type);
  if ('problem' in named) {
    addIssue('type', named.problem);
    return;
  }
  for (const [key, types, message] of KEY_SCOPES) {
    if (fields[key] !== undefined && !types.includes(named.type)) addIssue(key, message);
  }
  if (named.codeDeploy === undefined) checkPercent(named.type, fields.percent, addIssue);
  else checkFixedShift(named, fields, addIssue);
}

function checkPercent(type: StrategyType, percent: number | undefined, addIssue: AddIssue): void {
  if ((type !== 'canary' && type !== 'linear') || percent === undefined) return;
  const { max, meaning } = PERCENT_RANGES[type];
  // A fraction was refused as such; saying "1 to 50" about it as well would be noise.
  if (Number.isInteger(percent) && (percent < 1 || percent > max)) {
    addIssue('percent', `percent must be 1 to ${max} for ${type}: ${meaning}`);
  }
}

/** A CodeDeploy canary or linear name fixes percent and interval: they cannot be written too. */
function checkFixedShift(named: NamedStrategy, fields: StrategyFields, addIssue: AddIssue): void {
  if (named.percent === undefined || named.intervalMs === undefined) return;
  const fixed = { percent: `${named.percent}%`, interval: describeMs(named.intervalMs) };
  for (const key of ['percent', 'interval'] as const) {
    if (fields[key] === undefined) continue;
    addIssue(
      key,
      `${named.codeDeploy} fixes ${key} at ${fixed[key]}: leave ${key} out, or write type: ${named.type} to choose it`,
    );
  }
}

/** A strategy as written, its name resolved: a CodeDeploy name's shift fills percent and interval. */
export interface RawStrategy {
  type: StrategyType;
  percent?: number;
  /** Milliseconds between shifts. */
  interval?: number;
  bake?: number;
  'test-traffic'?: boolean;
  promote?: PromoteMode;
}

const strategyObject = strategyFields
  .superRefine((fields, ctx) =>
    checkStrategy(fields, (key, message) => ctx.addIssue({ code: 'custom', path: [key], message })),
  )
  .transform((fields, ctx): RawStrategy => {
    const named = strategyTypeOf(fields.type);
    // Never true here: checkStrategy refused the name, and zod transforms only valid values.
    if ('problem' in named) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: named.problem });
      return z.NEVER;
    }
    return {
      ...fields,
      type: named.type,
      percent: named.percent ?? fields.percent,
      interval: named.intervalMs ?? fields.interval,
    };
  });

/**
 * `strategy: canary` (a name, read as `{ type: canary }`) or
 * `strategy: { type: canary, percent: 20, interval: 1m }`. Not a zod union: a bad name or a
 * bad key is then reported as itself, at its own key, rather than as "invalid input".
 */
const strategySchema = z.unknown().transform((value, ctx): RawStrategy => {
  const named = typeof value === 'string';
  const parsed = strategyObject.safeParse(named ? { type: value } : value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue(named ? { ...issue, path: [] } : issue);
  return z.NEVER;
});

const crashLoopSchema = z
  .object(
    {
      restarts: integer('restarts', 1, MAX_CRASH_LOOP_RESTARTS).optional(),
      window: duration({ min: MIN_CRASH_LOOP_WINDOW_MS, max: MAX_CRASH_LOOP_WINDOW_MS }).optional(),
    },
    { invalid_type_error: 'expected a mapping such as { restarts: 3, window: 30s }' },
  )
  .strict();

const listenerPort = (name: string) => integer(name, MIN_LISTENER_PORT, MAX_LISTENER_PORT);

const listenersSchema = z
  .object(
    {
      production: listenerPort('production').optional(),
      test: listenerPort('test').optional(),
    },
    { invalid_type_error: 'expected ports such as { production: 8080, test: 8081 }' },
  )
  .strict()
  .superRefine((listeners, ctx) => {
    if (listeners.production !== undefined) return;
    ctx.addIssue({
      code: 'custom',
      path: ['production'],
      message: 'production is required: the port production traffic comes in on',
    });
  });

/** A variable's value, or `{ secret: NAME }`: one of Phoenix's secrets, resolved at start. */
export type VariableValue = string | { secret: string };

const VALUE_EXPECTED = 'expected a string, a number, true/false, or { secret: NAME }';

const variableValue = z.unknown().transform((value, ctx): VariableValue => {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
  const secret = keys.length === 1 ? (value as { secret?: unknown }).secret : undefined;
  if (typeof secret !== 'string') {
    ctx.addIssue({ code: 'custom', message: VALUE_EXPECTED });
    return z.NEVER;
  }
  if (!SECRET_NAME_PATTERN.test(secret)) {
    ctx.addIssue({
      code: 'custom',
      path: ['secret'],
      message: 'expected a secret name such as db-password',
    });
    return z.NEVER;
  }
  return { secret };
});

const variablesSchema = z.record(
  z
    .string()
    .regex(ENV_VARIABLE_PATTERN, 'expected a variable name such as NODE_ENV')
    .refine((name) => !name.startsWith('PHOENIX_'), {
      message: 'PHOENIX_ variables are set by Phoenix for each instance',
    }),
  variableValue,
  { invalid_type_error: 'expected a mapping of variable names to values' },
);

/** Longest a hook command may run: CodeDeploy waits an hour for a validation function. */
export const MAX_HOOK_COMMAND_MS = 3_600_000;

const hookCommandText = z
  .string({
    required_error: 'command is required: { command, timeout }',
    invalid_type_error: 'expected a command',
  })
  .trim()
  .min(1, 'expected a command, not a blank');

/**
 * Commands for the Lambda functions an ECS appspec's Hooks name, per environment, so that an
 * appspec CodeDeploy reads too needs no PhoenixCommands; they win over PhoenixCommands.
 */
const hookCommandsSchema = z.record(
  z.string().min(1, 'expected a function name'),
  z.union(
    [
      hookCommandText,
      z
        .object({
          command: hookCommandText,
          timeout: duration({ min: 1000, max: MAX_HOOK_COMMAND_MS }).optional(),
        })
        .strict(),
    ],
    {
      errorMap: (issue, ctx) =>
        issue.code === 'invalid_union'
          ? { message: 'expected a command, or { command, timeout }' }
          : { message: ctx.defaultError },
    },
  ),
  { invalid_type_error: 'expected a mapping of Lambda function names to commands' },
);

const environmentSchema = z
  .object(
    {
      name: z
        .string({
          required_error: 'name is required',
          invalid_type_error: 'expected an environment name such as dev',
        })
        .regex(
          ENVIRONMENT_NAME_PATTERN,
          'environment names are lowercase letters, digits and hyphens, start with a letter and have at most 31 characters',
        ),
      branches: patterns('branch', { include: true }).nullish(),
      instances: integer('instances', 1, MAX_INSTANCES).optional(),
      listeners: listenersSchema.optional(),
      strategy: strategySchema.optional(),
      alarms: alarmsSchema.nullish(),
      'crash-loop': crashLoopSchema.optional(),
      'retry-canary-errors': z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
      approval: approvalSchema.optional(),
      protected: z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
      variables: variablesSchema.nullish(),
      'hook-commands': hookCommandsSchema.nullish(),
    },
    { invalid_type_error: 'expected a mapping such as { name: dev }' },
  )
  .strict()
  .superRefine((environment, ctx) => {
    const strategy = environment.strategy;
    if (strategy?.['test-traffic'] !== true || environment.listeners?.test !== undefined) return;
    ctx.addIssue({
      code: 'custom',
      path: ['strategy', 'test-traffic'],
      message: 'needs a test listener: add listeners.test (a port), or leave test-traffic out',
    });
  });

export type RawEnvironment = z.infer<typeof environmentSchema>;

export const environmentsSchema = z
  .array(environmentSchema, {
    invalid_type_error: 'expected a list of environments in deployment order (- name: dev)',
  })
  .superRefine((environments, ctx) => {
    const names = new Map<string, number>();
    const ports = new Map<number, string>();
    environments.forEach((environment, index) => {
      const first = names.get(environment.name);
      if (first === undefined) names.set(environment.name, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate environment name "${environment.name}" (also environments[${first}])`,
        });
      for (const listener of ['production', 'test'] as const) {
        const port = environment.listeners?.[listener];
        if (port === undefined) continue;
        const key = `environments[${index}].listeners.${listener}`;
        const taken = ports.get(port);
        if (taken === undefined) ports.set(port, key);
        else
          ctx.addIssue({
            code: 'custom',
            path: [index, 'listeners', listener],
            message: `port ${port} is also ${taken}: every listener needs a port of its own`,
          });
      }
    });
  });

/** The keys of an environment, for "did you mean" hints and the reference's completeness. */
export const ENVIRONMENT_KEYS = [
  'name',
  'branches',
  'instances',
  'listeners',
  'production',
  'test',
  'strategy',
  'type',
  'percent',
  'interval',
  'bake',
  'test-traffic',
  'promote',
  'alarms',
  'metric',
  'statistic',
  'comparison',
  'threshold',
  'period',
  'evaluation-periods',
  'datapoints-to-alarm',
  'treat-missing-data',
  'min-requests',
  'crash-loop',
  'restarts',
  'window',
  'retry-canary-errors',
  'hook-commands',
  'command',
  'timeout',
  ...APPROVAL_KEYS,
  'protected',
  'variables',
] as const;
