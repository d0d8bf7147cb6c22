import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { ValidationError } from '../shared/errors.js';
import { parseBuildspec } from './buildspec.js';
import { initFiles, serviceNameFrom, type InitFile } from './init-template.js';
import { parsePhoenixConfig } from './phoenix-config.js';

function write(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

function packageJson(fields: Record<string, unknown>): string {
  return JSON.stringify({ name: 'app', version: '1.0.0', ...fields }, null, 2);
}

function file(files: InitFile[], name: string): InitFile {
  const found = files.find((f) => f.path.endsWith(`/${name}`));
  if (found === undefined) throw new Error(`${name} was not produced`);
  return found;
}

function commands(files: InitFile[]): Record<string, string[]> {
  const spec = parseBuildspec(file(files, 'buildspec.yml').content, 'buildspec.yml');
  return Object.fromEntries(spec.phases.map((p) => [p.name, p.commands.map((c) => c.text)]));
}

describe('initFiles', () => {
  let dir: ReturnType<typeof tempDir>;
  let project: string;

  beforeEach(() => {
    dir = tempDir();
    project = join(dir.path, 'My_Shop.API');
    mkdirSync(project);
  });

  afterEach(() => dir.remove());

  it('writes a release and a full buildspec for a Node service with a lockfile', async () => {
    write(project, {
      'package.json': packageJson({
        scripts: {
          start: 'node src/server.js',
          lint: 'eslint .',
          test: 'node --test --test-reporter=junit --test-reporter-destination=reports/junit.xml',
          build: 'tsc',
        },
        devDependencies: { eslint: '9.0.0' },
      }),
      'package-lock.json': '{}',
    });

    const files = await initFiles({ directory: project });

    expect(files.map((f) => f.skipped)).toEqual([undefined, undefined]);
    const config = parsePhoenixConfig(file(files, 'phoenix.yml').content, 'phoenix.yml');
    expect(config.service).toBe('my-shop-api');
    expect(config.release?.start).toBe('npm start');
    expect(config.environments).toEqual([]);
    expect(commands(files)).toEqual({
      install: ['node --version', 'npm ci --no-audit --no-fund'],
      pre_build: ['npm run lint'],
      build: ['mkdir -p reports', 'npm test', 'npm run build'],
      post_build: ['npm prune --omit=dev'],
    });
    const spec = parseBuildspec(file(files, 'buildspec.yml').content, 'buildspec.yml');
    expect(spec.reports).toMatchObject([
      { name: 'tests', files: ['junit.xml'], baseDirectory: 'reports', format: 'JUNITXML' },
    ]);
    expect(spec.artifacts).toMatchObject([{ files: ['**/*'], excludePaths: ['.git/**/*'] }]);
    expect(spec.cache).toMatchObject({ key: 'npm-$(codebuild-hash-files package-lock.json)' });
    expect(spec.warnings).toEqual([]);
  });

  it('suggests environments that are valid once uncommented', async () => {
    write(project, { 'package.json': packageJson({ scripts: { start: 'node server.js' } }) });
    const files = await initFiles({ directory: project });
    const text = file(files, 'phoenix.yml').content;
    const from = text.indexOf('# environments:');

    const config = parsePhoenixConfig(
      text.slice(0, from) + text.slice(from).replace(/^# /gm, ''),
      'phoenix.yml',
    );

    expect(config.warnings).toEqual([]);
    expect(config.environments.map((e) => [e.name, e.listeners, e.strategy.kind])).toEqual([
      ['dev', { production: 18_080, test: 18_081 }, 'all-at-once'],
      ['prod', { production: 8080, test: 8081 }, 'blue-green'],
    ]);
  });

  it('uses npm install without a lockfile and leaves out what the scripts do not have', async () => {
    write(project, { 'package.json': packageJson({ scripts: { test: 'vitest run' } }) });

    const files = await initFiles({ directory: project, serviceName: 'cart' });

    const config = parsePhoenixConfig(file(files, 'phoenix.yml').content, 'phoenix.yml');
    expect(config.service).toBe('cart');
    expect(config.release).toBeUndefined();
    expect(commands(files)).toEqual({
      install: ['node --version', 'npm install --no-audit --no-fund'],
      build: ['npm test'],
    });
    const spec = parseBuildspec(file(files, 'buildspec.yml').content, 'buildspec.yml');
    expect(spec.artifacts).toEqual([]);
    expect(spec.cache).toBeUndefined();
    expect(spec.reports).toEqual([]);
  });

  it("packages a library's build output from tsconfig's outDir", async () => {
    write(project, {
      'package.json': packageJson({
        scripts: { build: 'tsc', test: 'jest' },
        devDependencies: { 'jest-junit': '16.0.0' },
      }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { outDir: './lib/' } }),
    });

    const files = await initFiles({ directory: project });

    const spec = parseBuildspec(file(files, 'buildspec.yml').content, 'buildspec.yml');
    expect(spec.artifacts).toMatchObject([{ baseDirectory: 'lib', files: ['**/*'] }]);
    expect(spec.reports).toMatchObject([{ files: ['junit.xml'], baseDirectory: undefined }]);
    expect(commands(files)['build']).toEqual(['npm test', 'npm run build']);
  });

  it('writes a placeholder buildspec for a folder that is not a Node project', async () => {
    const files = await initFiles({ directory: project });

    expect(commands(files)).toEqual({
      build: ['echo "add your build and test commands to buildspec.yml"'],
    });
    expect(parsePhoenixConfig(file(files, 'phoenix.yml').content, 'p.yml').release).toBeUndefined();
  });

  it('never overwrites: existing files come back skipped', async () => {
    write(project, { 'phoenix.yml': 'service: mine\n', 'buildspec.yml': 'version: 0.2\n' });

    const files = await initFiles({ directory: project });

    expect(files.map((f) => f.skipped)).toEqual([
      'already exists',
      'already exists; phoenix.yml uses it',
    ]);
  });

  it('refuses a service name that cannot be used in URLs', async () => {
    const error = await initFiles({ directory: project, serviceName: 'My Shop' }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(
      /^--service:1:1: service: "My Shop" is not a service name/,
    );
  });

  it('says so when package.json is not JSON', async () => {
    write(project, { 'package.json': '{ "name": ' });

    await expect(initFiles({ directory: project })).rejects.toThrow(/cannot read package.json/);
  });
});

describe('serviceNameFrom', () => {
  it.each([
    ['shop', 'shop'],
    ['My_Shop.API', 'my-shop-api'],
    ['2048-game', 'game'],
    ['--Café--', 'cafe'],
    ['日本', 'service'],
    [`a${'-b'.repeat(40)}`, `a${'-b'.repeat(31)}`],
  ])('%s → %s', (folder, expected) => {
    const name = serviceNameFrom(folder);

    expect(name).toBe(expected);
    expect(parsePhoenixConfig(`service: ${name}\n`, 'p.yml').service).toBe(name);
  });
});
