import { z } from 'zod';
import { duration, ENV_VARIABLE_PATTERN, integer, patterns } from './schema-parts.js';

/**
 * The shape of phoenix.yml's `environments`: where a release goes, in order, and how —
 * listener ports, instances, strategy, variables. The defaults are named here once.
 */

export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

/** Listener ports: above the privileged range, so that `phoenix router` needs no root. */
export const MIN_LISTENER_PORT = 1024;
export const MAX_LISTENER_PORT = 65_535;
/** Most instances of a release in one environment (release.instances and an environment's). */
export const MAX_INSTANCES = 32;

export const STRATEGY_TYPES = ['all-at-once', 'blue-green'] as const;
export type StrategyType = (typeof STRATEGY_TYPES)[number];
/** An environment without `strategy` gets each new release all at once. */
export const DEFAULT_STRATEGY = 'all-at-once' satisfies StrategyType;
/** How long blue stays up, idle, after production moved to green (blue/green's bake). */
export const DEFAULT_BAKE_MS = 5 * 60_000;
/** CodeDeploy's longest wait before the original task set is terminated: two days. */
export const MAX_BAKE_MS = 48 * 3_600_000;

/** CodeDeploy deployment configurations Phoenix honours today, by their names. */
export const CODEDEPLOY_CONFIGS: Readonly<Record<string, StrategyType>> = {
  'CodeDeployDefault.ECSAllAtOnce': 'all-at-once',
};
const LATER_TYPES: readonly string[] = ['canary', 'linear'];
const CODEDEPLOY_PREFIX = 'CodeDeployDefault.';

/** The strategy a name stands for, or why Phoenix refuses it. */
export function strategyTypeOf(name: string): StrategyType | { problem: string } {
  const known = STRATEGY_TYPES.find((type) => type === name) ?? CODEDEPLOY_CONFIGS[name];
  if (known !== undefined) return known;
  const accepted = `${STRATEGY_TYPES.join(', ')} or ${Object.keys(CODEDEPLOY_CONFIGS).join(', ')}`;
  if (LATER_TYPES.includes(name) || name.startsWith(CODEDEPLOY_PREFIX)) {
    return { problem: `${name} arrives with canary and linear shifting; use ${accepted}` };
  }
  return { problem: `"${name}" is not a strategy: expected ${accepted}` };
}

const strategyType = z
  .string({
    required_error: `type is required: ${STRATEGY_TYPES.join(' or ')}`,
    invalid_type_error: `expected a strategy such as ${STRATEGY_TYPES.join(' or ')}`,
  })
  .transform((name, ctx): StrategyType => {
    const type = strategyTypeOf(name);
    if (typeof type === 'string') return type;
    ctx.addIssue({ code: 'custom', message: type.problem });
    return z.NEVER;
  });

const strategyObject = z
  .object(
    {
      type: strategyType,
      bake: duration({ min: 0, max: MAX_BAKE_MS }).optional(),
      'test-traffic': z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    },
    { invalid_type_error: 'expected a strategy name or a mapping such as { type: blue-green }' },
  )
  .strict()
  .superRefine((strategy, ctx) => {
    if (strategy.type === 'blue-green') return;
    for (const key of ['bake', 'test-traffic'] as const) {
      if (strategy[key] === undefined) continue;
      ctx.addIssue({ code: 'custom', path: [key], message: 'applies to blue-green only' });
    }
  });

export type RawStrategy = z.infer<typeof strategyObject>;

/**
 * `strategy: blue-green` (a name, read as `{ type: blue-green }`) or
 * `strategy: { type: blue-green, bake: 5m }`. Not a zod union: a bad name or a bad key is
 * then reported as itself, at its own key, rather than as "invalid input".
 */
const strategySchema = z.unknown().transform((value, ctx): RawStrategy => {
  const named = typeof value === 'string';
  const parsed = strategyObject.safeParse(named ? { type: value } : value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue(named ? { ...issue, path: [] } : issue);
  return z.NEVER;
});

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

const variableValue = z
  .union([z.string(), z.number(), z.boolean()], {
    errorMap: () => ({ message: 'expected a string, a number or true/false' }),
  })
  .transform(String);

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
      variables: variablesSchema.nullish(),
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
  'bake',
  'test-traffic',
  'variables',
] as const;
