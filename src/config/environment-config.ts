import type { AlarmSpec } from '../monitor/alarm-spec.js';
import type { SourceLocation, ValidationIssue } from '../shared/errors.js';
import type { FunctionCommand } from './appspec.js';
import type { ApprovalConfig } from './approval-schema.js';
import {
  DEFAULT_ALL_AT_ONCE_BAKE_MS,
  DEFAULT_BAKE_MS,
  DEFAULT_CANARY_INTERVAL_MS,
  DEFAULT_CANARY_PERCENT,
  DEFAULT_CRASH_LOOP_RESTARTS,
  DEFAULT_CRASH_LOOP_WINDOW_MS,
  DEFAULT_LINEAR_INTERVAL_MS,
  DEFAULT_LINEAR_PERCENT,
  DEFAULT_STRATEGY,
  type RawEnvironment,
  type VariableValue,
  type RawStrategy,
} from './environment-schema.js';
import { keyName, type YamlSource } from './yaml-source.js';

export {
  DEFAULT_ALL_AT_ONCE_BAKE_MS,
  DEFAULT_BAKE_MS,
  DEFAULT_CANARY_INTERVAL_MS,
  DEFAULT_CANARY_PERCENT,
  DEFAULT_CRASH_LOOP_RESTARTS,
  DEFAULT_CRASH_LOOP_WINDOW_MS,
  DEFAULT_LINEAR_INTERVAL_MS,
  DEFAULT_LINEAR_PERCENT,
} from './environment-schema.js';

/**
 * How production moves to a new release; the same shapes as the deployment's own strategy
 * (deploy/deployment.ts). Every kind ends with `bakeMs` at 100%: the previous release stays
 * up, warm, while the new one is watched, so that a rollback is one routing change.
 */
export type StrategyConfig =
  | {
      kind: 'all-at-once';
      bakeMs: number;
      /** Route the test listener to the new release (and run its hooks) before production. */
      testListener: boolean;
    }
  | {
      kind: 'blue-green';
      bakeMs: number;
      /** Route the test listener to the new release (and run its hooks) before production. */
      testListener: boolean;
      /** Hold before production moves until a person promotes the deployment. */
      manualPromote: boolean;
    }
  | {
      kind: 'canary';
      /** Share of production (1..99) the new release gets first, for `intervalMs`. */
      percent: number;
      intervalMs: number;
      bakeMs: number;
      testListener: boolean;
      /** Hold before production moves to 100% until a person promotes the deployment. */
      manualPromote: boolean;
    }
  | {
      kind: 'linear';
      /** Share of production (1..50) added every `intervalMs`; the last step tops up to 100. */
      percent: number;
      intervalMs: number;
      bakeMs: number;
      testListener: boolean;
    };

/** An instance restarted `restarts` times within `windowMs` fails the deployment. */
export interface CrashLoopConfig {
  restarts: number;
  windowMs: number;
}

/** The router's listeners for an environment: where its traffic comes in. */
export interface ListenersConfig {
  production: number;
  /** Validation traffic to the new release before production moves; none when absent. */
  test?: number;
}

export interface EnvironmentConfig {
  name: string;
  /** Branches that deploy here; undefined: every branch that triggered a run. */
  branches?: string[];
  /** Instances of the release here; release.instances unless set. */
  instances: number;
  /** Required to deploy; an environment without them is reported (a warning, then the deploy stage fails). */
  listeners?: ListenersConfig;
  strategy: StrategyConfig;
  /** Alarms judged on the new release's live traffic during a deployment and its bake. */
  alarms: AlarmSpec[];
  crashLoop: CrashLoopConfig;
  /** While a canary or linear shift is judged, a GET/HEAD that got a 5xx from the new release is retried once on the previous one. */
  retryCanaryErrors: boolean;
  /** A gate before a run deploys here; none when the environment needs no approval. */
  approval?: ApprovalConfig;
  /** Deploying or rolling back by hand needs the approver or admin role (as GitLab's protected environments). */
  protected: boolean;
  /** Given to the instances (and hooks) as environment variables. */
  variables: Record<string, string>;
  /** Variables whose values are Phoenix secrets (variable → secret name), resolved at start. */
  secretVariables: Record<string, string>;
  /** Commands for the Lambda functions an ECS appspec's hooks name; they win over PhoenixCommands. */
  hookCommands: Record<string, FunctionCommand>;
  key: string;
  location: SourceLocation;
}

/** The model of environment `index`, every default filled in; warnings are appended. */
export function environmentModel(
  source: YamlSource,
  raw: RawEnvironment,
  context: { index: number; releaseInstances: number; warnings: ValidationIssue[] },
): EnvironmentConfig {
  const path = ['environments', context.index];
  const listeners =
    raw.listeners?.production === undefined
      ? undefined
      : {
          production: raw.listeners.production,
          ...(raw.listeners.test === undefined ? {} : { test: raw.listeners.test }),
        };
  if (listeners === undefined) {
    context.warnings.push(
      source.issue(
        path,
        `${raw.name} has no listeners, so it cannot be deployed: add listeners: { production: PORT }`,
      ),
    );
  }
  const strategy = strategyModel(raw.strategy, listeners);
  const retryCanaryErrors = raw['retry-canary-errors'] ?? false;
  if (retryCanaryErrors && strategy.kind !== 'canary' && strategy.kind !== 'linear') {
    context.warnings.push(
      source.issue(
        [...path, 'retry-canary-errors'],
        `has no effect with strategy ${strategy.kind}: it applies while a canary or linear shift is judged`,
      ),
    );
  }
  return {
    name: raw.name,
    branches: raw.branches ?? undefined,
    instances: raw.instances ?? context.releaseInstances,
    ...(listeners === undefined ? {} : { listeners }),
    strategy,
    alarms: raw.alarms ?? [],
    crashLoop: {
      restarts: raw['crash-loop']?.restarts ?? DEFAULT_CRASH_LOOP_RESTARTS,
      windowMs: raw['crash-loop']?.window ?? DEFAULT_CRASH_LOOP_WINDOW_MS,
    },
    retryCanaryErrors,
    ...(raw.approval === undefined ? {} : { approval: raw.approval }),
    protected: raw.protected ?? false,
    variables: plainVariables(raw.variables ?? {}),
    secretVariables: secretVariables(raw.variables ?? {}),
    hookCommands: hookCommandsModel(raw['hook-commands'] ?? {}),
    key: keyName(path),
    location: source.locate(path),
  };
}

/**
 * Every kind routes test traffic first when the environment has a test listener, unless told
 * not to: CodeDeploy's ECSAllAtOnce is a blue/green deployment too, with its test listener.
 */
function strategyModel(
  raw: RawStrategy | undefined,
  listeners: ListenersConfig | undefined,
): StrategyConfig {
  const type = raw?.type ?? DEFAULT_STRATEGY;
  const bakeMs = raw?.bake ?? DEFAULT_BAKE_MS;
  const testListener = raw?.['test-traffic'] ?? listeners?.test !== undefined;
  const manualPromote = raw?.promote === 'manual';
  switch (type) {
    case 'all-at-once':
      return { kind: type, bakeMs: raw?.bake ?? DEFAULT_ALL_AT_ONCE_BAKE_MS, testListener };
    case 'blue-green':
      return { kind: type, bakeMs, testListener, manualPromote };
    case 'canary':
      return {
        kind: type,
        percent: raw?.percent ?? DEFAULT_CANARY_PERCENT,
        intervalMs: raw?.interval ?? DEFAULT_CANARY_INTERVAL_MS,
        bakeMs,
        testListener,
        manualPromote,
      };
    case 'linear':
      return {
        kind: type,
        percent: raw?.percent ?? DEFAULT_LINEAR_PERCENT,
        intervalMs: raw?.interval ?? DEFAULT_LINEAR_INTERVAL_MS,
        bakeMs,
        testListener,
      };
  }
}

function plainVariables(raw: Record<string, VariableValue>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).flatMap(([name, value]) =>
      typeof value === 'string' ? [[name, value]] : [],
    ),
  );
}

/** Variable name → secret name, for `{ secret: NAME }` values. */
function secretVariables(raw: Record<string, VariableValue>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).flatMap(([name, value]) =>
      typeof value === 'string' ? [] : [[name, value.secret]],
    ),
  );
}

function hookCommandsModel(
  raw: NonNullable<RawEnvironment['hook-commands']>,
): Record<string, FunctionCommand> {
  const commands: Record<string, FunctionCommand> = Object.create(null) as Record<
    string,
    FunctionCommand
  >;
  for (const [name, value] of Object.entries(raw)) {
    commands[name] =
      typeof value === 'string'
        ? { command: value }
        : {
            command: value.command,
            ...(value.timeout === undefined ? {} : { timeoutMs: value.timeout }),
          };
  }
  return commands;
}
