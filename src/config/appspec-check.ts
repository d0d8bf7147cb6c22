import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { UnsupportedError, type ValidationIssue } from '../shared/errors.js';
import { ownValue } from './appspec-keys.js';
import { DEFAULT_HOOK_TIMEOUT_MS } from './appspec-schema.js';
import type { Appspec, FunctionCommand, FunctionStep, Located, ScriptStep } from './appspec.js';
import type { KeyPath } from './yaml-source.js';

/** What Phoenix needs to know about the machine and the deployment to honour an appspec. */
export interface AppspecContext {
  /**
   * The unpacked release: the revision root that scripts are relative to, and the only folder
   * `files` and `permissions` may touch.
   */
  releaseDir: string;
  /** False when only the appspec is at hand (the corpus): scripts and sources go unchecked. */
  revisionPresent: boolean;
  currentUid: number;
  lookupUser: (name: string) => Promise<LocalUser | undefined>;
  lookupGroup: (name: string) => Promise<number | undefined>;
  /** Commands for Lambda function names from phoenix.yml; they win over PhoenixCommands. */
  functionCommands?: Readonly<Record<string, FunctionCommand>>;
}

export interface LocalUser {
  user: string;
  uid: number;
  gid: number;
}

/**
 * What Phoenix cannot honour on this machine, found before any hook runs: each issue names
 * the appspec's file, line, column and key. The parser already refused what is wrong in the
 * file itself; these checks need the machine, the release folder or the deployment.
 */
export async function checkAppspec(
  spec: Appspec,
  context: AppspecContext,
): Promise<ValidationIssue[]> {
  if (spec.lambda !== undefined) {
    return [
      refusal(
        spec.lambda.type,
        'Phoenix deploys releases as processes behind its router; it cannot shift traffic between Lambda function versions',
      ),
    ];
  }
  if (spec.os?.value === 'windows') {
    return [
      refusal(
        spec.os,
        'Phoenix runs releases on Linux: os: windows (and its paths and .bat scripts) cannot be honoured',
      ),
    ];
  }
  const checker = new MachineCheck(spec, context);
  await checker.files();
  await checker.permissions();
  await checker.hooks();
  return checker.issues;
}

class MachineCheck {
  readonly issues: ValidationIssue[] = [];
  private readonly users = new Map<string, Promise<LocalUser | undefined>>();

  constructor(
    private readonly spec: Appspec,
    private readonly context: AppspecContext,
  ) {}

  async files(): Promise<void> {
    for (const file of this.spec.files) {
      const source = revisionPath(file.source);
      if (source === undefined) {
        this.refuse(file.source, file.path, 'source', 'leaves the revision');
      } else if (
        this.context.revisionPresent &&
        !(await exists(join(this.context.releaseDir, source)))
      ) {
        this.refuse(file.source, file.path, 'source', 'not found in the release');
      }
      if (installPath(file.destination, this.context.releaseDir) === undefined) {
        this.refuse(
          file.destination,
          file.path,
          'destination',
          'outside the release folder: Phoenix runs each release from its own folder and writes nowhere else; leave files out (the revision is already there) or give a path inside the release',
        );
      }
    }
  }

  async permissions(): Promise<void> {
    for (const permission of this.spec.permissions) {
      if (installPath(permission.object.value, this.context.releaseDir) === undefined) {
        this.issues.push(
          refusal(
            permission.object,
            `${permission.object.value}: outside the release folder, which is all Phoenix changes`,
          ),
        );
      }
      if (permission.acls !== undefined)
        this.issues.push(
          refusal(permission.acls, 'Phoenix does not set ACLs; use mode, owner and group'),
        );
      if (permission.selinux !== undefined)
        this.issues.push(refusal(permission.selinux, 'Phoenix does not set SELinux labels'));
      if (permission.owner !== undefined) await this.user(permission.owner, 'owning files as');
      if (permission.group !== undefined) await this.group(permission.group);
    }
  }

  async hooks(): Promise<void> {
    for (const steps of Object.values(this.spec.hooks)) {
      for (const step of steps) {
        if (step.kind === 'script') await this.script(step);
        else this.function(step);
      }
    }
  }

  private async script(step: ScriptStep): Promise<void> {
    const path = revisionPath(step.script);
    if (path === undefined) {
      this.issues.push({
        location: step.location,
        key: `${step.key}.location`,
        message: `${step.script}: leaves the revision`,
      });
    } else if (
      this.context.revisionPresent &&
      !(await isFile(join(this.context.releaseDir, path)))
    ) {
      this.issues.push({
        location: step.location,
        key: `${step.key}.location`,
        message: `${step.script}: no such script in the release (locations are relative to its root)`,
      });
    }
    if (step.runas !== undefined) await this.user(step.runas, 'running hooks as');
  }

  private function(step: FunctionStep): void {
    if (
      ownValue(this.context.functionCommands ?? {}, step.functionName) !== undefined ||
      step.command !== undefined
    )
      return;
    this.issues.push({
      location: step.location,
      key: step.key,
      message: unmappedFunction(step.functionName),
    });
  }

  private async user(wanted: Located<string>, doing: string): Promise<void> {
    const lookup = this.users.get(wanted.value) ?? this.context.lookupUser(wanted.value);
    this.users.set(wanted.value, lookup);
    const user = await lookup;
    if (user === undefined) {
      this.issues.push(refusal(wanted, `no user "${wanted.value}" on this machine`));
    } else if (user.uid !== this.context.currentUid && this.context.currentUid !== 0) {
      this.issues.push(
        refusal(
          wanted,
          `${doing} "${wanted.value}" needs Phoenix to run as root (it runs as uid ${this.context.currentUid})`,
        ),
      );
    }
  }

  private async group(wanted: Located<string>): Promise<void> {
    if ((await this.context.lookupGroup(wanted.value)) === undefined) {
      this.issues.push(refusal(wanted, `no group "${wanted.value}" on this machine`));
    } else if (this.context.currentUid !== 0) {
      this.issues.push(
        refusal(
          wanted,
          `changing the group of files needs Phoenix to run as root (it runs as uid ${this.context.currentUid})`,
        ),
      );
    }
  }

  private refuse(value: string, path: KeyPath, field: string, reason: string): void {
    this.issues.push(this.spec.source.issue([...path, field], `${value}: ${reason}`));
  }
}

function unmappedFunction(name: string): string {
  return `Phoenix cannot call the Lambda function "${name}": map it to a command in the appspec's PhoenixCommands or in phoenix.yml`;
}

/**
 * The command Phoenix runs for an ECS or Lambda hook: phoenix.yml's mapping, else the
 * appspec's. A function nobody mapped is refused here, at run time, with its location.
 */
export function resolveFunctionCommand(
  step: FunctionStep,
  functionCommands: Readonly<Record<string, FunctionCommand>> = {},
): { command: string; timeoutMs: number } {
  const configured = ownValue(functionCommands, step.functionName);
  if (configured !== undefined)
    return {
      command: configured.command,
      timeoutMs: configured.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    };
  if (step.command !== undefined) return { command: step.command.value, timeoutMs: step.timeoutMs };
  throw new UnsupportedError([
    { location: step.location, key: step.key, message: unmappedFunction(step.functionName) },
  ]);
}

function refusal(located: Located<unknown>, message: string): ValidationIssue {
  return { location: located.location, key: located.key, message };
}

/**
 * A path of the revision as CodeDeploy reads it (a leading `/` is its root); undefined when it
 * leaves the revision.
 */
export function revisionPath(text: string): string | undefined {
  const normal = posix.normalize(text.trim().replace(/^\/+/, '') || '.');
  return normal === '..' || normal.startsWith('../') ? undefined : normal;
}

/** A place in the release folder, absolute or relative to it; undefined when outside it. */
export function installPath(text: string, releaseDir: string): string | undefined {
  const trimmed = text.trim();
  if (!posix.isAbsolute(trimmed)) {
    const normal = posix.normalize(trimmed);
    return normal === '..' || normal.startsWith('../') ? undefined : normal;
  }
  const relative = posix.relative(posix.normalize(releaseDir), posix.normalize(trimmed));
  if (relative === '') return '.';
  return relative === '..' || relative.startsWith('../') || posix.isAbsolute(relative)
    ? undefined
    : relative;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}
