import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatIssue, UnsupportedError } from '../shared/errors.js';
import {
  checkAppspec,
  installPath,
  resolveFunctionCommand,
  revisionPath,
  type AppspecContext,
  type LocalUser,
} from './appspec-check.js';
import { parseAppspec, type FunctionStep } from './appspec.js';

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const EC2 = ['version: 0.0', 'os: linux'];
const ECS_RESOURCES = [
  'Resources:',
  '  - TargetService:',
  '      Type: AWS::ECS::Service',
  '      Properties:',
  '        TaskDefinition: arn:aws:ecs:eu-west-1:123456789012:task-definition/shop:3',
  '        LoadBalancerInfo:',
  '          ContainerName: web',
  '          ContainerPort: 8080',
];

/** A described machine: Phoenix as `app` (uid 1000) or root, with users root and app. */
function machine(
  currentUid: number,
  overrides: Partial<AppspecContext> = {},
): Omit<AppspecContext, 'releaseDir'> {
  const users: Record<string, LocalUser> = {
    root: { user: 'root', uid: 0, gid: 0 },
    app: { user: 'app', uid: 1000, gid: 1000 },
  };
  return {
    revisionPresent: true,
    currentUid,
    lookupUser: async (name) => users[name],
    lookupGroup: async (name) => users[name]?.gid,
    ...overrides,
  };
}

describe('checkAppspec', () => {
  let release: string;

  beforeEach(async () => {
    release = await mkdtemp(join(tmpdir(), 'phoenix-appspec-'));
  });

  afterEach(async () => {
    await rm(release, { recursive: true, force: true });
  });

  async function put(path: string, content = '#!/bin/sh\nexit 0\n'): Promise<void> {
    await mkdir(dirname(join(release, path)), { recursive: true });
    await writeFile(join(release, path), content);
    await chmod(join(release, path), 0o755);
  }

  async function check(
    text: string,
    context: Omit<AppspecContext, 'releaseDir'>,
  ): Promise<string[]> {
    const spec = parseAppspec(text, 'appspec.yml');
    return (await checkAppspec(spec, { releaseDir: release, ...context })).map(formatIssue);
  }

  it('honours an EC2 appspec whose scripts, sources and destinations are in the release', async () => {
    await put('scripts/migrate.sh');
    await put('config/production.env', 'A=1\n');
    const text = yaml(
      ...EC2,
      'files:',
      '  - source: config/production.env',
      '    destination: .env',
      '  - source: /',
      `    destination: ${release}/current`,
      'permissions:',
      '  - object: current',
      '    owner: app',
      '    mode: 750',
      'hooks:',
      '  AfterInstall:',
      '    - location: /scripts/migrate.sh',
      '      runas: app',
    );

    expect(await check(text, machine(1000))).toEqual([]);
  });

  it('refuses, with their keys, what would reach outside the release or is not there', async () => {
    const text = yaml(
      ...EC2,
      'files:',
      '  - source: ../secrets',
      '    destination: /var/www/html',
      '  - source: missing/',
      '    destination: ../elsewhere',
      'permissions:',
      '  - object: /etc',
      '    acls: [u:bob:rw]',
      '    context: {type: httpd_sys_content_t}',
      'hooks:',
      '  BeforeInstall:',
      '    - location: scripts/absent.sh',
      '    - location: ../../bin/sh',
    );

    const issues = await check(text, machine(0));

    expect(issues).toEqual([
      'appspec.yml:4:13: files[0].source: ../secrets: leaves the revision',
      expect.stringMatching(
        /^appspec\.yml:5:18: files\[0\]\.destination: \/var\/www\/html: outside the release folder/,
      ),
      'appspec.yml:6:13: files[1].source: missing/: not found in the release',
      expect.stringMatching(
        /^appspec\.yml:7:18: files\[1\]\.destination: \.\.\/elsewhere: outside the release folder/,
      ),
      'appspec.yml:9:13: permissions[0].object: /etc: outside the release folder, which is all Phoenix changes',
      'appspec.yml:10:11: permissions[0].acls: Phoenix does not set ACLs; use mode, owner and group',
      'appspec.yml:11:14: permissions[0].context: Phoenix does not set SELinux labels',
      'appspec.yml:14:17: hooks.BeforeInstall[0].location: scripts/absent.sh: no such script in the release (locations are relative to its root)',
      'appspec.yml:15:17: hooks.BeforeInstall[1].location: ../../bin/sh: leaves the revision',
    ]);
  });

  it('lets root run hooks as another user, and refuses it without root or without the user', async () => {
    await put('start.sh');
    const text = yaml(
      ...EC2,
      'permissions:',
      '  - object: logs',
      '    owner: root',
      '    group: app',
      'hooks:',
      '  ApplicationStart:',
      '    - location: start.sh',
      '      runas: root',
      '    - location: start.sh',
      '      runas: ec2-user',
    );

    const asRoot = await check(text, machine(0));
    const asApp = await check(text, machine(1000));

    expect(asRoot).toEqual([
      'appspec.yml:12:14: hooks.ApplicationStart[1].runas: no user "ec2-user" on this machine',
    ]);
    expect(asApp).toEqual([
      'appspec.yml:5:12: permissions[0].owner: owning files as "root" needs Phoenix to run as root (it runs as uid 1000)',
      'appspec.yml:6:12: permissions[0].group: changing the group of files needs Phoenix to run as root (it runs as uid 1000)',
      'appspec.yml:10:14: hooks.ApplicationStart[0].runas: running hooks as "root" needs Phoenix to run as root (it runs as uid 1000)',
      'appspec.yml:12:14: hooks.ApplicationStart[1].runas: no user "ec2-user" on this machine',
    ]);
  });

  it('refuses os: windows alone, without judging Windows paths', async () => {
    const text = yaml(
      'version: 0.0',
      'os: windows',
      'files:',
      '  - source: \\',
      '    destination: C:\\inetpub\\wwwroot',
    );

    expect(await check(text, machine(0))).toEqual([
      'appspec.yml:2:5: os: Phoenix runs releases on Linux: os: windows (and its paths and .bat scripts) cannot be honoured',
    ]);
  });

  it('refuses a Lambda deployment at its Type', async () => {
    const text = yaml(
      'version: 0.0',
      'Resources:',
      '  - f:',
      '      Type: AWS::Lambda::Function',
      '      Properties: {Name: f, Alias: live, CurrentVersion: 1, TargetVersion: 2}',
    );

    expect(await check(text, machine(0))).toEqual([
      'appspec.yml:4:13: Resources[0].f.Type: Phoenix deploys releases as processes behind its router; it cannot shift traffic between Lambda function versions',
    ]);
  });

  it('honours ECS hooks mapped to commands by the appspec or by phoenix.yml, and refuses the others', async () => {
    const text = yaml(
      'version: 0.0',
      ...ECS_RESOURCES,
      'Hooks:',
      '  - BeforeInstall: prepare',
      '  - AfterAllowTestTraffic: smoke',
      '  - BeforeAllowTraffic: gate',
      'PhoenixCommands:',
      '  smoke: npm run smoke',
    );

    const bare = await check(text, machine(1000));
    const configured = await check(
      text,
      machine(1000, {
        functionCommands: { prepare: { command: 'make db' }, gate: { command: 'true' } },
      }),
    );

    expect(bare).toEqual([
      'appspec.yml:11:20: Hooks[0].BeforeInstall: Phoenix cannot call the Lambda function "prepare": map it to a command in the appspec\'s PhoenixCommands or in phoenix.yml',
      'appspec.yml:13:25: Hooks[2].BeforeAllowTraffic: Phoenix cannot call the Lambda function "gate": map it to a command in the appspec\'s PhoenixCommands or in phoenix.yml',
    ]);
    expect(configured).toEqual([]);
  });

  it('does not take a function named like an Object property for a mapped one', async () => {
    const text = yaml('version: 0.0', ...ECS_RESOURCES, 'Hooks:', '  - AfterInstall: constructor');

    const issues = await check(text, machine(0, { functionCommands: {} }));

    expect(issues).toEqual([
      expect.stringMatching(
        /^appspec\.yml:11:19: Hooks\[0\]\.AfterInstall: Phoenix cannot call the Lambda function "constructor"/,
      ),
    ]);
  });
});

describe('resolveFunctionCommand', () => {
  const spec = parseAppspec(
    yaml(
      'version: 0.0',
      ...ECS_RESOURCES,
      'Hooks:',
      '  - AfterInstall: migrate',
      '  - BeforeAllowTraffic: gate',
      'PhoenixCommands:',
      '  migrate: {command: npm run migrate, timeout: 600}',
    ),
    'appspec.yml',
  );
  const step = (event: 'AfterInstall' | 'BeforeAllowTraffic'): FunctionStep => {
    const found = spec.hooks[event]?.[0];
    if (found?.kind !== 'function') throw new Error('expected a function step');
    return found;
  };

  it("takes phoenix.yml's command over the appspec's, and the appspec's otherwise", () => {
    expect(resolveFunctionCommand(step('AfterInstall'))).toEqual({
      command: 'npm run migrate',
      timeoutMs: 600_000,
    });
    expect(
      resolveFunctionCommand(step('AfterInstall'), { migrate: { command: 'make migrate' } }),
    ).toEqual({
      command: 'make migrate',
      timeoutMs: 3_600_000,
    });
  });

  it('refuses an unmapped function at run time, naming where the appspec names it', () => {
    const attempt = (): unknown => resolveFunctionCommand(step('BeforeAllowTraffic'));

    expect(attempt).toThrow(UnsupportedError);
    expect(attempt).toThrow(
      /^appspec\.yml:12:25: Hooks\[1\]\.BeforeAllowTraffic: Phoenix cannot call the Lambda function "gate"/,
    );
  });
});

describe('paths', () => {
  it.each([
    ['/', '.'],
    ['scripts/start.sh', 'scripts/start.sh'],
    ['/scripts/./start.sh', 'scripts/start.sh'],
    ['a/../../b', undefined],
    ['..', undefined],
  ])('revisionPath(%j) is %j', (text, expected) => {
    expect(revisionPath(text)).toBe(expected);
  });

  it.each([
    ['current', 'current'],
    ['/srv/r1', '.'],
    ['/srv/r1/public/', 'public'],
    ['/srv/r10', undefined],
    ['/var/www', undefined],
    ['../x', undefined],
  ])('installPath(%j) in /srv/r1 is %j', (text, expected) => {
    expect(installPath(text, '/srv/r1')).toBe(expected);
  });
});
