import { readFile } from 'node:fs/promises';
import { basename, join, posix, resolve } from 'node:path';
import { ValidationError } from '../shared/errors.js';
import { pathExists } from '../shared/path-exists.js';
import { PHOENIX_CONFIG_FILE } from './phoenix-config.js';
import { DEFAULT_BUILDSPEC, SERVICE_NAME_PATTERN } from './phoenix-schema.js';

/**
 * `phoenix init`: a commented starter phoenix.yml for the repository in `directory` and,
 * when it has none, a buildspec.yml built from what the folder shows (a Node project's
 * package.json scripts and lockfile). Nothing is written here; files that exist come back
 * with `skipped` set, and the caller decides.
 */

export interface InitOptions {
  directory: string;
  /** Default: the folder's name, made into a valid service name. */
  serviceName?: string;
}

export interface InitFile {
  /** Absolute path of the file to write. */
  path: string;
  content: string;
  /** Why the file should not be written (it exists). */
  skipped?: string;
}

/** What the starter files are built from. */
interface NodeProject {
  scripts: ReadonlySet<string>;
  lockfile?: string;
  hasDevDependencies: boolean;
  /** Test report written by the test script, relative to the project. */
  testReport?: string;
  /** Where `npm run build` writes, for a library's artifact. */
  outDir: string;
}

export async function initFiles(options: InitOptions): Promise<InitFile[]> {
  const directory = resolve(options.directory);
  const service = options.serviceName ?? serviceNameFrom(basename(directory));
  if (!SERVICE_NAME_PATTERN.test(service)) {
    throw new ValidationError([
      {
        location: { file: '--service', line: 1, column: 1 },
        key: 'service',
        message: `"${service}" is not a service name: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters`,
      },
    ]);
  }
  const project = await readNodeProject(directory);
  const files = [
    { name: PHOENIX_CONFIG_FILE, content: phoenixYml(service, project), kept: 'already exists' },
    {
      name: DEFAULT_BUILDSPEC,
      content: buildspecYml(project),
      kept: `already exists; ${PHOENIX_CONFIG_FILE} uses it`,
    },
  ];
  return Promise.all(
    files.map(async ({ name, content, kept }) => {
      const path = join(directory, name);
      return (await pathExists(path)) ? { path, content, skipped: kept } : { path, content };
    }),
  );
}

/** A folder name as a service name: `My_Shop.API` becomes `my-shop-api`. */
export function serviceNameFrom(folder: string): string {
  const name = folder
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return name === '' ? 'service' : name;
}

async function readNodeProject(directory: string): Promise<NodeProject | undefined> {
  const path = join(directory, 'package.json');
  if (!(await pathExists(path))) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(
      [
        {
          location: { file: 'package.json', line: 1, column: 1 },
          key: '',
          message: `cannot read package.json: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
      { cause: error },
    );
  }
  const scripts = record(manifest, 'scripts');
  const lockfiles = ['package-lock.json', 'npm-shrinkwrap.json'];
  const present = await Promise.all(lockfiles.map((name) => pathExists(join(directory, name))));
  return {
    scripts: new Set(Object.keys(scripts)),
    lockfile: lockfiles.find((_, index) => present[index]),
    hasDevDependencies: Object.keys(record(manifest, 'devDependencies')).length > 0,
    testReport: testReportOf(scripts['test'], record(manifest, 'devDependencies')),
    outDir: (await tsconfigOutDir(directory)) ?? 'dist',
  };
}

function record(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || !(key in value)) return {};
  const field: unknown = (value as Record<string, unknown>)[key];
  return typeof field === 'object' && field !== null ? (field as Record<string, unknown>) : {};
}

/** A plain YAML scalar when that reads back as the same string, else a quoted one. */
function yamlText(text: string): string {
  const plain =
    /^[A-Za-z_][\w./-]*$/.test(text) && !/^(true|false|null|yes|no|on|off)$/i.test(text);
  return plain ? text : JSON.stringify(text);
}

/** A JUnit file the test script names (`--test-reporter-destination=reports/junit.xml`). */
function testReportOf(
  script: unknown,
  devDependencies: Record<string, unknown>,
): string | undefined {
  if (typeof script === 'string') {
    const named = /(?:^|[\s=])([\w./-]+\.xml)(?=\s|$|["'])/.exec(script)?.[1];
    if (named !== undefined && !named.startsWith('/') && !named.includes('..'))
      return posix.normalize(named);
  }
  return 'jest-junit' in devDependencies ? 'junit.xml' : undefined;
}

async function tsconfigOutDir(directory: string): Promise<string | undefined> {
  try {
    const tsconfig: unknown = JSON.parse(await readFile(join(directory, 'tsconfig.json'), 'utf8'));
    const outDir = record(tsconfig, 'compilerOptions')['outDir'];
    if (typeof outDir !== 'string') return undefined;
    const normal = posix.normalize(outDir).replace(/\/+$/, '');
    return normal === '.' || normal.startsWith('..') || normal.startsWith('/') ? undefined : normal;
  } catch {
    // No tsconfig, or one with comments: fall back to the common dist/.
    return undefined;
  }
}

function phoenixYml(service: string, project: NodeProject | undefined): string {
  const start = project?.scripts.has('start') === true;
  return [
    '# phoenix.yml: how Phoenix builds, releases and deploys this service.',
    '# Every key, with its default: docs/phoenix-yml.md in the Phoenix repository.',
    '# Check this file and the buildspec without running anything: phoenix validate',
    '',
    '# Used in URLs and folder names: lowercase letters, digits and hyphens.',
    `service: ${service}`,
    '',
    '# Which pushes start a run. `*` stays within one folder, `**` crosses folders,',
    '# ignore lists win. Tags run only when listed.',
    'trigger:',
    "  branches: ['**'] # every branch",
    "  # branches-ignore: ['wip/**']",
    "  # tags: ['v*']",
    "  # paths-ignore: ['docs/**', '**/*.md']",
    '',
    '# superseded: a newer run replaces one waiting between stages; queued: one run at a',
    '# time, in order; parallel: runs do not wait for each other.',
    'execution-mode: superseded',
    '',
    'build:',
    `  buildspec: ${DEFAULT_BUILDSPEC} # AWS CodeBuild format, relative to this file`,
    '  timeout: 60m',
    '  # Retried when Phoenix failed the build (killed, timed out), never for failing tests;',
    '  # retry-on: any retries failing commands too.',
    '  retries: 1',
    '  retry-on: platform',
    '  sandbox: false # true: commands run under bubblewrap, only the build folder writable',
    '',
    ...(start
      ? releaseSection()
      : releaseSection().map((line) => (line === '' ? '' : `# ${line}`))),
    '',
    '# Environments, in deployment order. A run deploys its release to the first one whose',
    '# branches match, behind `phoenix router` on the listener ports (1024-65535).',
    '# environments:',
    '#   - name: dev',
    '#     listeners: { production: 18080, test: 18081 }',
    '#     strategy: all-at-once # or blue-green, or { type: blue-green, bake: 5m }',
    '#     variables: { LOG_LEVEL: debug }',
    '#   - name: prod',
    '#     branches: [main] # only runs of main deploy here',
    '#     listeners: { production: 8080, test: 8081 }',
    '#     strategy: blue-green',
    '',
  ].join('\n');
}

function releaseSection(): string[] {
  return [
    '# How one instance of a release starts, and how Phoenix knows it is healthy.',
    'release:',
    '  start: npm start',
    '  port-env: PORT # the instance listens on the port given in this variable',
    '  instances: 1',
    '  health-check:',
    '    path: /health # must answer with a status the matcher accepts once ready',
    '    interval: 5s',
    '    timeout: 2s',
    '    healthy-threshold: 2',
    '    unhealthy-threshold: 3',
    '    matcher: 200-299',
    '    grace-period: 0s',
  ];
}

function buildspecYml(project: NodeProject | undefined): string {
  if (project === undefined) return genericBuildspec();
  const has = (script: string): boolean => project.scripts.has(script);
  const reportDir = project.testReport === undefined ? '.' : posix.dirname(project.testReport);
  const buildCommands = [
    ...(has('test') && reportDir !== '.' ? [`mkdir -p ${reportDir}`] : []),
    ...(has('test') ? ['npm test'] : []),
    ...(has('build') ? ['npm run build'] : []),
  ];
  const lines = [
    '# Written by phoenix init from package.json; Phoenix runs it as AWS CodeBuild would.',
    'version: 0.2',
    '',
    'phases:',
    '  install:',
    '    commands:',
    '      - node --version',
    `      - ${project.lockfile === undefined ? 'npm install' : 'npm ci'} --no-audit --no-fund`,
    ...(has('lint') ? ['  pre_build:', '    commands:', '      - npm run lint'] : []),
    '  build:',
    '    commands:',
    ...(buildCommands.length > 0
      ? buildCommands.map((command) => `      - ${command}`)
      : ['      - echo "package.json has no test or build script: add your build commands here"']),
    ...(has('start') && project.hasDevDependencies
      ? [
          '  post_build:',
          '    commands:',
          '      # The release runs `npm start` from these files: keep only what it needs.',
          '      - npm prune --omit=dev',
        ]
      : []),
    ...reportSection(project, reportDir),
    ...artifactSection(project),
    ...(project.lockfile === undefined
      ? []
      : [
          '',
          'cache:',
          `  key: npm-$(codebuild-hash-files ${project.lockfile})`,
          '  fallback-keys:',
          '    - npm-',
          '  paths:',
          "    - '~/.npm/**/*'",
        ]),
    '',
  ];
  return lines.join('\n');
}

function reportSection(project: NodeProject, reportDir: string): string[] {
  if (project.testReport === undefined || !project.scripts.has('test')) return [];
  return [
    '',
    'reports:',
    '  tests:',
    '    files:',
    `      - ${yamlText(posix.basename(project.testReport))}`,
    ...(reportDir === '.' ? [] : [`    base-directory: ${yamlText(reportDir)}`]),
    '    file-format: JUNITXML',
  ];
}

function artifactSection(project: NodeProject): string[] {
  if (project.scripts.has('start')) {
    return [
      '',
      '# The release: the built project, started with `npm start`.',
      'artifacts:',
      '  files:',
      "    - '**/*'",
      '  exclude-paths:',
      "    - '.git/**/*'",
    ];
  }
  if (project.scripts.has('build')) {
    return [
      '',
      'artifacts:',
      `  base-directory: ${yamlText(project.outDir)}`,
      '  files:',
      "    - '**/*'",
    ];
  }
  return [];
}

function genericBuildspec(): string {
  return [
    '# Written by phoenix init; Phoenix runs it as AWS CodeBuild would.',
    '# Reference: https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html',
    'version: 0.2',
    '',
    'phases:',
    '  build:',
    '    commands:',
    '      - echo "add your build and test commands to buildspec.yml"',
    '',
    '# artifacts:',
    '#   files:',
    "#     - '**/*'",
    '',
  ].join('\n');
}
