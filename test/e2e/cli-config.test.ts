import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { git, tempDir } from '../support/git-fixture.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../../examples/shop', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `phoenix` in `cwd`, as a user would from their repository. */
function phoenix(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('phoenix init and phoenix validate (the compiled CLI)', () => {
  let dir: ReturnType<typeof tempDir>;
  let repo: string;

  beforeAll(() => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
  });

  beforeEach(() => {
    dir = tempDir();
    repo = join(dir.path, 'shop-api');
    mkdirSync(repo);
  });

  afterEach(() => dir.remove());

  it('init in a Node project writes files that validate and build', async () => {
    cpSync(SHOP, repo, { recursive: true });
    rmSync(join(repo, 'buildspec.yml'));

    const init = await phoenix(['init'], repo);
    const validate = await phoenix(['validate'], repo);
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'phoenix init');
    const build = await phoenix(['build', '--json'], repo, {
      PHOENIX_HOME: join(dir.path, 'home'),
    });

    expect(init).toMatchObject({ code: 0 });
    expect(init.stdout).toContain('wrote phoenix.yml\nwrote buildspec.yml\n');
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toBe(
      [
        'phoenix.yml: valid phoenix.yml; service shop-api, superseded runs, release: npm start, environments: none',
        'buildspec.yml: valid buildspec 0.2; phases: install (2 commands), pre_build (1 commands), build (3 commands)',
        'appspec.yml: valid appspec; 1 hook',
        '',
      ].join('\n'),
    );
    expect(validate.stderr).toBe('');
    expect(build.code, build.stderr).toBe(0);
    expect(JSON.parse(build.stdout)).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('init never overwrites; --force replaces phoenix.yml only', async () => {
    writeFileSync(join(repo, 'phoenix.yml'), 'service: mine\n');
    writeFileSync(join(repo, 'buildspec.yml'), 'version: 0.2\n');

    const again = await phoenix(['init', '--service', 'cart'], repo);
    const unchanged = readFileSync(join(repo, 'phoenix.yml'), 'utf8');
    const forced = await phoenix(['init', '--service', 'cart', '--force'], repo);

    expect(again.code).toBe(0);
    expect(again.stdout).toContain('skipped phoenix.yml: already exists (--force overwrites it)');
    expect(again.stdout).toContain('skipped buildspec.yml: already exists; phoenix.yml uses it');
    expect(unchanged).toBe('service: mine\n');
    expect(forced.stdout).toContain('wrote phoenix.yml');
    expect(readFileSync(join(repo, 'phoenix.yml'), 'utf8')).toContain('service: cart');
    expect(readFileSync(join(repo, 'buildspec.yml'), 'utf8')).toBe('version: 0.2\n');
  });

  it('init refuses a bad service name with exit 2', async () => {
    const result = await phoenix(['init', '--service', 'Shop API'], repo);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--service:1:1: service: "Shop API" is not a service name');
    expect(existsSync(join(repo, 'phoenix.yml'))).toBe(false);
  });

  it('a broken phoenix.yml exits 2 with every problem as file:line:col: key', async () => {
    writeFileSync(
      join(repo, 'phoenix.yml'),
      'service: Shop\nbuild:\n  timout: 5m\nrelease:\n  start: npm start\n  health-check:\n    interval: soon\n',
    );

    const result = await phoenix(['validate'], repo);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('phoenix.yml:1:10: service: service names are lowercase');
    expect(result.stderr).toContain(
      'phoenix.yml:3:3: build.timout: unknown key "timout" (did you mean "timeout"?)',
    );
    expect(result.stderr).toContain(
      'phoenix.yml:7:15: release.health-check.interval: "soon" is not a duration',
    );
  });

  it('checks the buildspec the config names, relative to the config, with --config', async () => {
    mkdirSync(join(repo, 'svc', 'ci'), { recursive: true });
    writeFileSync(
      join(repo, 'svc', 'phoenix.yml'),
      "service: shop\ntrigger:\n  tags-ignore: ['v0*']\nbuild:\n  buildspec: ci/build.yml\n",
    );
    writeFileSync(
      join(repo, 'svc', 'ci', 'build.yml'),
      'version: 0.2\nphases:\n  build:\n    comands: [make]\n',
    );

    const broken = await phoenix(['validate', '--config', 'svc/phoenix.yml'], repo);
    writeFileSync(
      join(repo, 'svc', 'ci', 'build.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: [make]\n',
    );
    const fixed = await phoenix(['validate', '--config', 'svc/phoenix.yml'], repo);

    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(
      'svc/ci/build.yml:4:5: phases.build.comands: unknown key "comands" (did you mean "commands"?)',
    );
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toBe(
      'warning: svc/phoenix.yml:3:16: trigger.tags-ignore: has no effect: tags run only when listed in trigger.tags\n',
    );
    expect(fixed.stdout).toContain('svc/ci/build.yml: valid buildspec 0.2');
  });

  it('checks an appspec beside phoenix.yml as each environment would deploy it', async () => {
    const ecs = (hooks: string): string =>
      [
        'version: 0.0',
        'Resources:',
        '  - TargetService:',
        '      Type: AWS::ECS::Service',
        '      Properties:',
        '        TaskDefinition: shop',
        '        LoadBalancerInfo: { ContainerName: web, ContainerPort: 8080 }',
        'Hooks:',
        hooks,
        '',
      ].join('\n');
    const config = (mapping: string): string =>
      [
        'service: shop',
        'build: { buildspec: buildspec.yml }',
        'release: { start: npm start }',
        'environments:',
        '  - name: dev',
        '    listeners: { production: 18080, test: 18081 }',
        mapping,
        '',
      ].join('\n');
    writeFileSync(
      join(repo, 'buildspec.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: [make]\n',
    );
    writeFileSync(join(repo, 'appspec.yml'), ecs('  - AfterAllowTestTraffic: shop-smoke'));
    writeFileSync(join(repo, 'phoenix.yml'), config(''));

    const unmapped = await phoenix(['validate'], repo);
    writeFileSync(
      join(repo, 'phoenix.yml'),
      config('    hook-commands: { shop-smoke: npm run smoke }'),
    );
    const mapped = await phoenix(['validate'], repo);
    writeFileSync(join(repo, 'appspec.yml'), ecs('  - AfterAllowTestTrafic: shop-smoke'));
    const misspelt = await phoenix(['validate'], repo);

    expect(unmapped.code).toBe(2);
    expect(unmapped.stderr).toContain(
      'appspec.yml:9:28: Hooks[0].AfterAllowTestTraffic: Phoenix cannot call the Lambda function "shop-smoke"',
    );
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(mapped.stdout).toContain('appspec.yml: valid appspec; 1 hook');
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toMatch(/appspec\.yml:9:\d+: Hooks\[0\]\.AfterAllowTestTrafic: /);
  });

  it('names the config key when the buildspec it refers to is missing', async () => {
    writeFileSync(
      join(repo, 'phoenix.yml'),
      'service: shop\nbuild:\n  buildspec: ci/missing.yml\n',
    );

    const result = await phoenix(['validate'], repo);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'phoenix.yml:3:14: build.buildspec: ci/missing.yml: file not found',
    );
  });

  it('without phoenix.yml, says so, or checks a lone buildspec.yml', async () => {
    const nothing = await phoenix(['validate'], repo);
    writeFileSync(
      join(repo, 'buildspec.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: [make]\n',
    );
    const lone = await phoenix(['validate'], repo);

    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('phoenix.yml:1:1: cannot read phoenix.yml: file not found');
    expect(lone.code).toBe(0);
    expect(lone.stderr).toContain('note: no phoenix.yml here; checking buildspec.yml alone');
    expect(lone.stdout).toContain('buildspec.yml: valid buildspec 0.2');
  });
});
