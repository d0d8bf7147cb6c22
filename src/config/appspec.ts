import { ValidationError, type SourceLocation, type ValidationIssue } from '../shared/errors.js';
import {
  canonicalKeys,
  closest,
  isRecord,
  ownValue,
  rawPath,
  valueOf,
  zodIssues,
} from './appspec-keys.js';
import {
  COMPUTE_PLATFORMS,
  DEFAULT_FILE_EXISTS_BEHAVIOR,
  DEFAULT_HOOK_TIMEOUT_MS,
  EC2_KEYS,
  ec2Schema,
  LAMBDA_FUNCTION_TYPE,
  LEGACY_EVENT_NAMES,
  MAX_EVENT_DURATION_MS,
  PLATFORM_EVENTS,
  PLATFORM_NAMES,
  RESERVED_EVENTS,
  SERVICE_HINT_KEYS,
  serviceSchema,
  type ComputePlatform,
  type FILE_EXISTS_BEHAVIORS,
  type LifecycleEvent,
  type RawCommand,
  type RawEc2Appspec,
  type RawServiceAppspec,
} from './appspec-schema.js';
import type { Located } from './buildspec.js';
import { readConfigFile } from './config-file.js';
import { keyName, YamlSource, type KeyPath } from './yaml-source.js';

export type { ComputePlatform, LifecycleEvent, Located };

/** The file names Phoenix looks for at the root of a release, in this order. */
export const APPSPEC_FILE_NAMES = ['appspec.yml', 'appspec.yaml', 'appspec.json'] as const;

interface StepBase {
  event: LifecycleEvent;
  timeoutMs: number;
  /** The step's entry, e.g. `hooks.BeforeInstall[0]` or `Hooks[1].AfterAllowTestTraffic`. */
  key: string;
  location: SourceLocation;
}

/** EC2 style: a script of the revision. */
export interface ScriptStep extends StepBase {
  kind: 'script';
  /** Relative to the revision root, as written (a leading `/` means the root too). */
  script: string;
  runas?: Located<string>;
}

/** ECS and Lambda style: a Lambda function, which Phoenix replaces by a command. */
export interface FunctionStep extends StepBase {
  kind: 'function';
  functionName: string;
  /** From the appspec's PhoenixCommands; phoenix.yml may map the name too (see checkAppspec). */
  command?: Located<string>;
}

export type HookStep = ScriptStep | FunctionStep;

export interface FileMapping {
  source: string;
  destination: string;
  key: string;
  path: KeyPath;
  location: SourceLocation;
}

export interface PermissionSpec {
  object: Located<string>;
  pattern: string;
  except: string[];
  owner?: Located<string>;
  group?: Located<string>;
  mode?: string;
  acls?: Located<string[]>;
  selinux?: Located<{ user?: string; type?: string; range?: string }>;
  types: ('file' | 'directory')[];
  key: string;
}

export interface EcsTarget {
  resource: string;
  taskDefinition: string;
  container: string;
  port: number;
  platformVersion?: string;
  key: string;
  location: SourceLocation;
}

export interface LambdaTarget {
  resource: string;
  name: string;
  alias: string;
  currentVersion: string;
  targetVersion: string;
  /** The resource's `Type`, where Phoenix says it cannot deploy Lambda functions. */
  type: Located<string>;
}

export type FileExistsBehavior = (typeof FILE_EXISTS_BEHAVIORS)[number];

/** What to run for a Lambda function named by an ECS or Lambda hook. */
export interface FunctionCommand {
  command: string;
  timeoutMs?: number;
}

export interface Appspec {
  file: string;
  platform: ComputePlatform;
  version: '0.0';
  os?: Located<'linux' | 'windows'>;
  files: FileMapping[];
  fileExistsBehavior: FileExistsBehavior;
  permissions: PermissionSpec[];
  /** Steps per event, in the order the file lists them; events without steps are absent. */
  hooks: Partial<Record<LifecycleEvent, HookStep[]>>;
  ecs?: EcsTarget;
  lambda?: LambdaTarget;
  /** Settings Phoenix reads but does not use; printed, never silent. */
  warnings: ValidationIssue[];
  /** Locates any key of the original file, for errors found later. */
  source: YamlSource;
}

export async function loadAppspec(path: string, displayName = path): Promise<Appspec> {
  return parseAppspec(await readConfigFile(path, displayName, 'appspec'), displayName);
}

/**
 * Parses an AppSpec file (YAML, or JSON, which the YAML parser reads as well) for any of the
 * three compute platforms; every problem in the file is reported at once.
 */
export function parseAppspec(text: string, file: string): Appspec {
  const source = parseSource(text, file);
  const js = source.toJS();
  if (!isRecord(js)) {
    throw new ValidationError([
      source.issue([], 'an appspec must be a mapping with version: 0.0 and its sections'),
    ]);
  }
  const platform = detectPlatform(js);
  return platform === 'ec2' ? parseEc2(js, source) : parseService(js, source, platform);
}

function parseSource(text: string, file: string): YamlSource {
  try {
    return YamlSource.parse(text, file);
  } catch (error) {
    const directives = templateDirectives(text, file);
    if (error instanceof ValidationError && directives.length > 0) {
      throw new ValidationError(directives, { cause: error });
    }
    throw error;
  }
}

/** Terraform's `%{ if }` directives make a file neither YAML nor JSON until it is rendered. */
function templateDirectives(text: string, file: string): ValidationIssue[] {
  return [...text.matchAll(/%\{[^}\n]*\}/g)].map((match) => {
    const before = text.slice(0, match.index);
    const line = before.split('\n').length;
    const column = match.index - before.lastIndexOf('\n');
    return {
      location: { file, line, column },
      key: '',
      message: `Terraform template directive "${match[0]}": render the template before Phoenix reads it`,
    };
  });
}

/**
 * ECS and Lambda appspecs name `Resources`. A list of hooks marks one too, unless the file
 * has sections only EC2/On-Premises appspecs have (then its hooks are merely malformed).
 */
function detectPlatform(js: Record<string, unknown>): ComputePlatform {
  const resources = valueOf(js, 'Resources');
  const ec2Only = ['os', 'files', 'permissions', 'file_exists_behavior'].some((key) => key in js);
  const listedHooks = Array.isArray(valueOf(js, 'Hooks')) || 'Hooks' in js;
  if (resources === undefined && (ec2Only || !listedHooks)) return 'ec2';
  const types = (Array.isArray(resources) ? resources : [])
    .flatMap((item) => (isRecord(item) ? Object.values(item) : []))
    .map((resource) => (isRecord(resource) ? valueOf(resource, 'Type') : undefined));
  return types.includes(LAMBDA_FUNCTION_TYPE) &&
    types.every((type) => type === LAMBDA_FUNCTION_TYPE)
    ? 'lambda'
    : 'ecs';
}

function parseEc2(js: Record<string, unknown>, source: YamlSource): Appspec {
  const parsed = ec2Schema(eventProblem).safeParse(js);
  if (!parsed.success) throw new ValidationError(zodIssues(source, parsed.error.issues, EC2_KEYS));
  return new Ec2Builder(source).build(parsed.data);
}

function parseService(
  js: Record<string, unknown>,
  source: YamlSource,
  platform: 'ecs' | 'lambda',
): Appspec {
  const renamed = canonicalKeys(js, source);
  const translate = (path: KeyPath): KeyPath => rawPath(js, path);
  const parsed = serviceSchema(platform, eventProblem).safeParse(renamed.value);
  const issues = [
    ...renamed.issues,
    ...(parsed.success ? [] : zodIssues(source, parsed.error.issues, SERVICE_HINT_KEYS, translate)),
  ];
  if (!parsed.success || issues.length > 0) throw new ValidationError(issues);
  const builder = new ServiceBuilder(source, translate, platform);
  const spec = builder.build(parsed.data);
  if (builder.issues.length > 0) throw new ValidationError(builder.issues);
  return spec;
}

function eventProblem(name: string, platform: ComputePlatform): string | undefined {
  const events = PLATFORM_EVENTS[platform];
  if ((events as readonly string[]).includes(name)) return undefined;
  const list = `${PLATFORM_NAMES[platform]} events: ${events.join(', ')}`;
  const reserved = ownValue(RESERVED_EVENTS, name);
  if (reserved !== undefined)
    return `${name} is CodeDeploy's own step (${reserved}) and runs no hooks; ${list}`;
  const legacy = ownValue(LEGACY_EVENT_NAMES, name);
  if (legacy !== undefined && events.includes(legacy))
    return `${name} is the old name of ${legacy}: write ${legacy}`;
  const elsewhere = COMPUTE_PLATFORMS.filter((other) =>
    (PLATFORM_EVENTS[other] as readonly string[]).includes(name),
  );
  if (elsewhere.length > 0) {
    const owners = elsewhere.map((other) => PLATFORM_NAMES[other]).join(' and ');
    return `${name} is not a lifecycle event of ${PLATFORM_NAMES[platform]} appspecs (only of ${owners}); ${list}`;
  }
  const near = closest(name, events);
  const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
  return `unknown lifecycle event "${name}"${hint}; ${list}`;
}

class Ec2Builder {
  private readonly warnings: ValidationIssue[] = [];

  constructor(private readonly source: YamlSource) {}

  build(raw: RawEc2Appspec): Appspec {
    return {
      file: this.source.file,
      platform: 'ec2',
      version: '0.0',
      os: this.at(['os'], raw.os),
      files: (raw.files ?? []).map((file, index) => ({
        source: file.source,
        destination: file.destination,
        key: keyName(['files', index]),
        path: ['files', index],
        location: this.source.locate(['files', index]),
      })),
      fileExistsBehavior: raw.file_exists_behavior ?? DEFAULT_FILE_EXISTS_BEHAVIOR,
      permissions: this.permissions(raw),
      hooks: this.hooks(raw),
      warnings: this.warnings,
      source: this.source,
    };
  }

  private permissions(raw: RawEc2Appspec): PermissionSpec[] {
    return (raw.permissions ?? []).map((permission, index) => {
      const path = ['permissions', index];
      const optional = <T>(key: string, value: T | undefined): Located<T> | undefined =>
        value === undefined ? undefined : this.at([...path, key], value);
      return {
        object: this.at([...path, 'object'], permission.object),
        pattern: permission.pattern ?? '**',
        except: permission.except ?? [],
        owner: optional('owner', permission.owner),
        group: optional('group', permission.group),
        mode: permission.mode,
        acls: optional('acls', permission.acls),
        selinux: optional('context', permission.context),
        types: permission.type ?? ['file', 'directory'],
        key: keyName(path),
      };
    });
  }

  private hooks(raw: RawEc2Appspec): Partial<Record<LifecycleEvent, HookStep[]>> {
    const hooks: Partial<Record<LifecycleEvent, HookStep[]>> = {};
    for (const [name, scripts] of Object.entries(raw.hooks ?? {})) {
      const event = name as LifecycleEvent;
      const steps = scripts.map((script, index): ScriptStep => {
        const path = ['hooks', name, index];
        return {
          kind: 'script',
          event,
          script: script.location.trim(),
          timeoutMs: script.timeout === undefined ? DEFAULT_HOOK_TIMEOUT_MS : script.timeout * 1000,
          runas:
            script.runas === undefined
              ? undefined
              : this.at([...path, 'runas'], script.runas.trim()),
          key: keyName(path),
          location: this.source.locate([...path, 'location']),
        };
      });
      if (steps.length === 0) continue;
      hooks[event] = steps;
      // Scripts without a timeout are bounded by the event's hour anyway; only written
      // timeouts can promise more than the event has.
      const written = scripts.reduce((sum, script) => sum + (script.timeout ?? 0), 0);
      if (written * 1000 > MAX_EVENT_DURATION_MS) {
        this.warnings.push(
          this.source.issue(
            ['hooks', name],
            `its timeouts add up to ${written} s, but all scripts of one event get at most 3600 s together, as in CodeDeploy`,
          ),
        );
      }
    }
    return hooks;
  }

  private at<T>(path: KeyPath, value: T): Located<T>;
  private at<T>(path: KeyPath, value: T | undefined): Located<T> | undefined;
  private at<T>(path: KeyPath, value: T | undefined): Located<T> | undefined {
    if (value === undefined) return undefined;
    return { value, location: this.source.locate(path), key: keyName(path) };
  }
}

class ServiceBuilder {
  readonly issues: ValidationIssue[] = [];
  private readonly warnings: ValidationIssue[] = [];

  constructor(
    private readonly source: YamlSource,
    private readonly translate: (path: KeyPath) => KeyPath,
    private readonly platform: 'ecs' | 'lambda',
  ) {}

  build(raw: RawServiceAppspec): Appspec {
    const spec: Appspec = {
      file: this.source.file,
      platform: this.platform,
      version: '0.0',
      files: [],
      fileExistsBehavior: DEFAULT_FILE_EXISTS_BEHAVIOR,
      permissions: [],
      hooks: {},
      warnings: this.warnings,
      source: this.source,
    };
    this.resources(raw, spec);
    spec.hooks = this.hooks(raw);
    return spec;
  }

  private resources(raw: RawServiceAppspec, spec: Appspec): void {
    const entries = raw.Resources.flatMap((item, index) =>
      Object.entries(item).map(([name, resource]) => ({ name, resource, index })),
    );
    if (entries.length > 1) {
      this.fail(
        ['Resources'],
        `names ${entries.length} resources: an appspec deploys one ECS service or one Lambda function`,
      );
    }
    const [first] = entries;
    if (first === undefined) return;
    const path = ['Resources', first.index, first.name];
    const { resource } = first;
    if (resource.Type === LAMBDA_FUNCTION_TYPE) {
      const properties = resource.Properties;
      spec.lambda = {
        resource: first.name,
        name: properties.Name,
        alias: properties.Alias,
        currentVersion: properties.CurrentVersion,
        targetVersion: properties.TargetVersion,
        type: this.at([...path, 'Type'], resource.Type),
      };
      return;
    }
    const properties = resource.Properties;
    const props = [...path, 'Properties'];
    spec.ecs = {
      resource: first.name,
      taskDefinition: properties.TaskDefinition,
      container: properties.LoadBalancerInfo.ContainerName,
      port: properties.LoadBalancerInfo.ContainerPort,
      platformVersion: properties.PlatformVersion,
      key: keyName(this.translate(path)),
      location: this.locate(path),
    };
    this.warn(
      [...props, 'TaskDefinition'],
      'not used: Phoenix starts the release with its start command (phoenix.yml release.start), not an ECS task definition',
    );
    this.warn(
      [...props, 'LoadBalancerInfo'],
      'not used: the router sends traffic to the port each instance is given (phoenix.yml release.port-env), not to a container port',
    );
    for (const key of [
      'PlatformVersion',
      'NetworkConfiguration',
      'CapacityProviderStrategy',
    ] as const) {
      if (properties[key] !== undefined)
        this.warn(
          [...props, key],
          'not used: Fargate and VPC settings do not apply to a release running on this machine',
        );
    }
  }

  private hooks(raw: RawServiceAppspec): Partial<Record<LifecycleEvent, HookStep[]>> {
    const commands = this.commands(raw);
    const used = new Set<string>();
    const seen = new Map<string, string>();
    const hooks: Partial<Record<LifecycleEvent, HookStep[]>> = {};
    (raw.Hooks ?? []).forEach((item, index) => {
      if (Object.keys(item).length === 0)
        this.fail(['Hooks', index], 'empty entry: expected EventName: FunctionName');
      for (const [name, functionName] of Object.entries(item)) {
        const event = name as LifecycleEvent;
        const path = ['Hooks', index, name];
        const earlier = seen.get(name);
        if (earlier !== undefined) {
          this.fail(
            path,
            `${name} is listed twice (also ${earlier}): CodeDeploy runs one function per lifecycle event`,
          );
          continue;
        }
        seen.set(name, keyName(this.translate(path)));
        used.add(functionName);
        const command = commands.get(functionName);
        hooks[event] = [
          {
            kind: 'function',
            event,
            functionName,
            command: command?.command,
            timeoutMs: command?.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
            key: keyName(this.translate(path)),
            location: this.locate(path),
          },
        ];
      }
    });
    for (const name of commands.keys()) {
      if (!used.has(name))
        this.warn(
          ['PhoenixCommands', name],
          `no hook names the function "${name}": this command never runs`,
        );
    }
    return hooks;
  }

  private commands(
    raw: RawServiceAppspec,
  ): Map<string, { command: Located<string>; timeoutMs?: number }> {
    const commands = new Map<string, { command: Located<string>; timeoutMs?: number }>();
    for (const [name, value] of Object.entries(raw.PhoenixCommands ?? {})) {
      const { command, timeout } = commandParts(value);
      const path =
        typeof value === 'string'
          ? ['PhoenixCommands', name]
          : ['PhoenixCommands', name, 'command'];
      commands.set(name, {
        command: this.at(path, command),
        timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      });
    }
    return commands;
  }

  private at<T>(path: KeyPath, value: T): Located<T> {
    return { value, location: this.locate(path), key: keyName(this.translate(path)) };
  }

  private locate(path: KeyPath): SourceLocation {
    return this.source.locate(this.translate(path));
  }

  private fail(path: KeyPath, message: string): void {
    this.issues.push(this.source.issue(this.translate(path), message));
  }

  private warn(path: KeyPath, message: string): void {
    this.warnings.push(this.source.issue(this.translate(path), message));
  }
}

function commandParts(value: RawCommand): { command: string; timeout?: number } {
  return typeof value === 'string' ? { command: value } : value;
}
