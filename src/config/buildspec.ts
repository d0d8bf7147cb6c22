import type { SourceLocation, ValidationIssue } from '../shared/errors.js';
import { ValidationError } from '../shared/errors.js';
import type { REPORT_FORMATS } from './buildspec-schema.js';
import {
  buildspecSchema,
  KNOWN_KEYS,
  type RawArtifacts,
  type RawBatch,
  type RawBuildspec,
  type RawPhase,
} from './buildspec-schema.js';
import { readConfigFile } from './config-file.js';
import { parseOnFailure, type OnFailure } from './on-failure.js';
import { keyName, YamlSource, type KeyPath } from './yaml-source.js';

export type { KeyPath };

export const PHASE_NAMES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Something the user wrote, with where they wrote it. */
export interface Located<T> {
  value: T;
  location: SourceLocation;
  key: string;
}

export interface BuildCommand {
  text: string;
  location: SourceLocation;
  key: string;
}

export interface BuildPhase {
  name: PhaseName;
  commands: BuildCommand[];
  finally: BuildCommand[];
  onFailure?: Located<OnFailure>;
  runAs?: Located<string>;
  runtimeVersions: Record<string, string>;
}

export interface ArtifactSpec {
  /** `primary` for the main artifact, else the secondary artifact's identifier. */
  id: string;
  files: string[];
  name?: string;
  discardPaths: boolean;
  baseDirectory?: string;
  excludePaths: string[];
  enableSymlinks: boolean;
  key: string;
  /** Where the section is in the file, for errors about its fields. */
  path: KeyPath;
  location: SourceLocation;
}

export type CacheAction = 'restore' | 'save' | 'restore-and-save';

export interface CacheSpec {
  key?: string;
  fallbackKeys: string[];
  action: CacheAction;
  paths: string[];
  location: SourceLocation;
}

export interface ReportSpec {
  name: string;
  files: string[];
  baseDirectory?: string;
  discardPaths: boolean;
  format: ReportFormat;
  path: KeyPath;
  location: SourceLocation;
}

export interface BuildEnvSpec {
  shell?: Located<string>;
  variables: Record<string, string>;
  parameterStore: Record<string, Located<string>>;
  secretsManager: Record<string, Located<SecretReference>>;
  exportedVariables: string[];
  gitCredentialHelper: boolean;
}

/** `secret-id:json-key:version-stage:version-id`, as CodeBuild's secrets-manager syntax. */
export interface SecretReference {
  secretId: string;
  jsonKey?: string;
  versionStage?: string;
  versionId?: string;
}

export interface Buildspec {
  file: string;
  version: '0.1' | '0.2';
  runAs?: Located<string>;
  env: BuildEnvSpec;
  phases: BuildPhase[];
  artifacts: ArtifactSpec[];
  cache?: CacheSpec;
  reports: ReportSpec[];
  batch?: RawBatch;
  /** Settings Phoenix reads but cannot honour on one machine; printed, never silent. */
  warnings: ValidationIssue[];
  /** Locates any key of the original file, for errors found later (paths, users, secrets). */
  source: YamlSource;
}

export async function loadBuildspec(path: string, displayName = path): Promise<Buildspec> {
  return parseBuildspec(await readConfigFile(path, displayName, 'buildspec'), displayName);
}

/** Parses and validates a buildspec; every problem in the file is reported at once. */
export function parseBuildspec(text: string, file: string): Buildspec {
  const source = YamlSource.parse(text, file);
  const js = source.toJS();
  if (js === null || typeof js !== 'object' || Array.isArray(js)) {
    throw new ValidationError([
      source.issue([], 'a buildspec must be a YAML mapping with a version and phases'),
    ]);
  }
  const parsed = buildspecSchema.safeParse(js);
  if (!parsed.success) throw new ValidationError(source.zodIssues(parsed.error.issues, KNOWN_KEYS));
  const builder = new BuildspecBuilder(source);
  const spec = builder.build(parsed.data);
  if (builder.issues.length > 0) throw new ValidationError(builder.issues);
  return spec;
}

class BuildspecBuilder {
  readonly issues: ValidationIssue[] = [];
  private readonly warnings: ValidationIssue[] = [];

  constructor(private readonly source: YamlSource) {}

  build(raw: RawBuildspec): Buildspec {
    const version = String(raw.version) === '0.1' ? '0.1' : '0.2';
    if (version === '0.1') {
      this.warn(
        ['version'],
        'version 0.1 runs every command in its own shell; 0.2 keeps one shell session',
      );
    }
    return {
      file: this.source.file,
      version,
      runAs: this.located(['run-as'], raw['run-as']),
      env: this.env(raw),
      phases: this.phases(raw),
      artifacts: this.artifacts(raw.artifacts),
      cache: this.cache(raw),
      reports: this.reports(raw),
      batch: this.batch(raw.batch),
      warnings: this.warnings,
      source: this.source,
    };
  }

  private env(raw: RawBuildspec): BuildEnvSpec {
    const env = raw.env ?? {};
    const variables: Record<string, string> = {};
    for (const [name, value] of Object.entries(env.variables ?? {})) {
      if (name.startsWith('CODEBUILD_')) {
        this.fail(
          ['env', 'variables', name],
          'the CODEBUILD_ prefix is reserved for variables the build engine sets',
        );
      }
      variables[name] = String(value);
    }
    for (const name of env['exported-variables'] ?? []) {
      if (name.startsWith('AWS_')) {
        this.fail(
          ['env', 'exported-variables'],
          `${name}: variables starting with AWS_ cannot be exported`,
        );
      }
    }
    const parameterStore: Record<string, Located<string>> = {};
    for (const [name, value] of Object.entries(env['parameter-store'] ?? {})) {
      parameterStore[name] = this.at(['env', 'parameter-store', name], value);
    }
    const secretsManager: Record<string, Located<SecretReference>> = {};
    for (const [name, value] of Object.entries(env['secrets-manager'] ?? {})) {
      const reference = parseSecretReference(value);
      if (reference === undefined) {
        this.fail(
          ['env', 'secrets-manager', name],
          'expected secret-id[:json-key[:version-stage[:version-id]]]',
        );
        continue;
      }
      secretsManager[name] = this.at(['env', 'secrets-manager', name], reference);
    }
    const gitCredentialHelper = isYes(env['git-credential-helper']);
    if (gitCredentialHelper) {
      this.warn(
        ['env', 'git-credential-helper'],
        "Phoenix has no CodeBuild source credentials to hand to git; git uses the build HOME's configuration",
      );
    }
    if (raw.proxy !== undefined)
      this.warn(
        ['proxy'],
        'proxy settings do not apply: Phoenix builds run without a proxy server',
      );
    return {
      shell: this.located(['env', 'shell'], env.shell),
      variables,
      parameterStore,
      secretsManager,
      exportedVariables: [...(env['exported-variables'] ?? [])],
      gitCredentialHelper,
    };
  }

  private phases(raw: RawBuildspec): BuildPhase[] {
    const phases: BuildPhase[] = [];
    for (const name of PHASE_NAMES) {
      const phase = raw.phases?.[name];
      if (phase === undefined) continue;
      phases.push(this.phase(name, phase ?? {}));
    }
    return phases;
  }

  private phase(name: PhaseName, raw: RawPhase): BuildPhase {
    const base: KeyPath = ['phases', name];
    const runtimeVersions = Object.fromEntries(
      Object.entries(raw['runtime-versions'] ?? {}).map(([runtime, version]) => [
        runtime,
        String(version),
      ]),
    );
    if (raw['runtime-versions'] !== undefined) {
      if (name !== 'install')
        this.fail(
          [...base, 'runtime-versions'],
          'runtime-versions is only allowed in the install phase',
        );
      const listed = Object.entries(runtimeVersions)
        .map(([runtime, version]) => `${runtime} ${version}`)
        .join(', ');
      this.warn(
        [...base, 'runtime-versions'],
        `not installed by Phoenix (${listed}): the host's toolchain is used`,
      );
    }
    let onFailure: Located<OnFailure> | undefined;
    const onFailureText = raw['on-failure'];
    if (onFailureText !== undefined) {
      const result = parseOnFailure(onFailureText);
      if (typeof result === 'string') this.fail([...base, 'on-failure'], result);
      else onFailure = this.at([...base, 'on-failure'], result);
    }
    return {
      name,
      commands: this.commands([...base, 'commands'], raw.commands),
      finally: this.commands([...base, 'finally'], raw.finally),
      onFailure,
      runAs: this.located([...base, 'run-as'], raw['run-as']),
      runtimeVersions,
    };
  }

  private commands(path: KeyPath, commands: string[] | null | undefined): BuildCommand[] {
    return (commands ?? []).map((text, index) => ({
      text,
      location: this.source.locate([...path, index]),
      key: keyName([...path, index]),
    }));
  }

  private artifacts(raw: RawArtifacts | undefined): ArtifactSpec[] {
    if (raw === undefined) return [];
    const result: ArtifactSpec[] = [];
    const { 'secondary-artifacts': secondary, ...primary } = raw;
    if (primary.files === undefined) {
      this.fail(
        ['artifacts'],
        'artifacts.files is required (CodeBuild requires it even when only secondary artifacts are used)',
      );
    } else {
      result.push(this.artifact('primary', ['artifacts'], primary));
    }
    for (const [id, spec] of Object.entries(secondary ?? {})) {
      if (spec.files === undefined) {
        this.fail(['artifacts', 'secondary-artifacts', id], 'files is required');
        continue;
      }
      result.push(this.artifact(id, ['artifacts', 'secondary-artifacts', id], spec));
    }
    return result;
  }

  private artifact(
    id: string,
    path: KeyPath,
    raw: Omit<RawArtifacts, 'secondary-artifacts'>,
  ): ArtifactSpec {
    if (raw['s3-prefix'] !== undefined) {
      this.warn(
        [...path, 's3-prefix'],
        "artifacts are stored in Phoenix's artifact store, not S3; s3-prefix has no effect",
      );
    }
    return {
      id,
      files: raw.files ?? [],
      name: raw.name === undefined ? undefined : String(raw.name),
      discardPaths: isYes(raw['discard-paths']),
      baseDirectory: raw['base-directory'],
      excludePaths: raw['exclude-paths'] ?? [],
      enableSymlinks: isYes(raw['enable-symlinks']),
      key: keyName(path),
      path,
      location: this.source.locate(path),
    };
  }

  private cache(raw: RawBuildspec): CacheSpec | undefined {
    const cache = raw.cache;
    if (cache === undefined) return undefined;
    if (cache.paths === undefined || cache.paths === null || cache.paths.length === 0) {
      this.warn(['cache', 'paths'], 'cache lists no paths: nothing is cached');
      return undefined;
    }
    const fallbackKeys = cache['fallback-keys'] ?? [];
    if (fallbackKeys.length > 5)
      this.fail(['cache', 'fallback-keys'], 'at most five fallback keys are supported');
    if (fallbackKeys.length > 0 && cache.key === undefined) {
      this.warn(
        ['cache', 'fallback-keys'],
        'fallback-keys are ignored without a key (as in CodeBuild)',
      );
    }
    return {
      key: cache.key === undefined ? undefined : String(cache.key),
      fallbackKeys: cache.key === undefined ? [] : fallbackKeys,
      action: cache.action ?? 'restore-and-save',
      paths: cache.paths,
      location: this.source.locate(['cache']),
    };
  }

  private reports(raw: RawBuildspec): ReportSpec[] {
    return Object.entries(raw.reports ?? {}).map(([name, report]) => ({
      name,
      files: report.files,
      baseDirectory: report['base-directory'],
      discardPaths: isYes(report['discard-paths']),
      format: report['file-format'] ?? 'JUNITXML',
      path: ['reports', name],
      location: this.source.locate(['reports', name]),
    }));
  }

  private batch(raw: RawBatch | undefined): RawBatch | undefined {
    if (raw === undefined) return undefined;
    const kinds = (['build-list', 'build-graph', 'build-matrix', 'build-fanout'] as const).filter(
      (kind) => raw[kind] !== undefined,
    );
    if (kinds.length > 1)
      this.fail(
        ['batch'],
        `only one of build-list, build-graph, build-matrix, build-fanout may be set (found ${kinds.join(', ')})`,
      );
    const tasks = raw['build-list'] ?? raw['build-graph'] ?? [];
    const kind = raw['build-list'] !== undefined ? 'build-list' : 'build-graph';
    const seen = new Set<string>();
    tasks.forEach((task, index) => {
      if (seen.has(task.identifier))
        this.fail(
          ['batch', kind, index, 'identifier'],
          `duplicate identifier "${task.identifier}"`,
        );
      seen.add(task.identifier);
    });
    (raw['build-graph'] ?? []).forEach((task, index) => {
      for (const dependency of task['depend-on'] ?? []) {
        if (!seen.has(dependency))
          this.fail(
            ['batch', 'build-graph', index, 'depend-on'],
            `unknown identifier "${dependency}"`,
          );
      }
    });
    return raw;
  }

  private located<T>(path: KeyPath, value: T | undefined): Located<T> | undefined {
    return value === undefined ? undefined : this.at(path, value);
  }

  private at<T>(path: KeyPath, value: T): Located<T> {
    return { value, location: this.source.locate(path), key: keyName(path) };
  }

  private fail(path: KeyPath, message: string): void {
    this.issues.push(this.source.issue(path, message));
  }

  private warn(path: KeyPath, message: string): void {
    this.warnings.push(this.source.issue(path, message));
  }
}

export function isYes(value: boolean | string | undefined): boolean {
  if (typeof value === 'boolean') return value;
  return value !== undefined && ['yes', 'true'].includes(value.toLowerCase());
}

export function parseSecretReference(text: string): SecretReference | undefined {
  // An ARN contains colons of its own: arn:aws:secretsmanager:region:account:secret:name-suffix
  const arn = /^(arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:[^:]+)(?::(.*))?$/.exec(text);
  const [secretId, rest] = arn
    ? [arn[1] ?? '', arn[2]]
    : [
        text.split(':')[0] ?? '',
        text.includes(':') ? text.slice(text.indexOf(':') + 1) : undefined,
      ];
  if (secretId === '') return undefined;
  const [jsonKey, versionStage, versionId, extra] = rest === undefined ? [] : rest.split(':');
  if (extra !== undefined) return undefined;
  if (versionStage && versionId) return undefined;
  return {
    secretId,
    jsonKey: jsonKey || undefined,
    versionStage: versionStage || undefined,
    versionId: versionId || undefined,
  };
}
