import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, ValidationError } from '../shared/errors.js';
import { loadAppspec, parseAppspec } from './appspec.js';

const REPOSITORY = join(import.meta.dirname, '..', '..');
const CORPUS = join(REPOSITORY, '..', 'shared', 'corpus', 'appspec');

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function issuesOf(text: string, file = 'appspec.yml'): string[] {
  try {
    parseAppspec(text, file);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map(formatIssue);
    throw error;
  }
  throw new Error('expected the appspec to be refused');
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

describe('parseAppspec: EC2/On-Premises', () => {
  it('reads files, permissions and hooks with their positions and CodeDeploy defaults', () => {
    const spec = parseAppspec(
      yaml(
        ...EC2,
        'files:',
        '  - source: /',
        '    destination: current',
        'file_exists_behavior: OVERWRITE',
        'permissions:',
        '  - object: bin',
        '    mode: 755',
        '    type: [file]',
        'hooks:',
        '  BeforeInstall:',
        '    - location: scripts/prepare.sh',
        '      timeout: 300',
        '    - location: /scripts/migrate.sh',
        '      runas: app',
        '  ValidateService:',
        '    - location: scripts/check.sh',
        '      timeout: "120"',
      ),
      'appspec.yml',
    );

    expect(spec).toMatchObject({
      platform: 'ec2',
      version: '0.0',
      os: { value: 'linux', key: 'os', location: { line: 2, column: 5 } },
      fileExistsBehavior: 'OVERWRITE',
      files: [{ source: '/', destination: 'current', key: 'files[0]' }],
      permissions: [{ object: { value: 'bin' }, mode: '755', pattern: '**', types: ['file'] }],
      warnings: [],
    });
    expect(spec.hooks.BeforeInstall).toEqual([
      expect.objectContaining({
        kind: 'script',
        script: 'scripts/prepare.sh',
        timeoutMs: 300_000,
        key: 'hooks.BeforeInstall[0]',
        location: { file: 'appspec.yml', line: 13, column: 17 },
      }),
      expect.objectContaining({
        script: '/scripts/migrate.sh',
        timeoutMs: 3_600_000,
        runas: expect.objectContaining({ value: 'app', key: 'hooks.BeforeInstall[1].runas' }),
      }),
    ]);
    expect(spec.hooks.ValidateService?.[0]?.timeoutMs).toBe(120_000);
  });

  it('accepts empty sections as CodeDeploy does, and defaults file_exists_behavior to DISALLOW', () => {
    const spec = parseAppspec(yaml(...EC2, 'files:', 'permissions:', 'hooks:'), 'appspec.yml');

    expect(spec.files).toEqual([]);
    expect(spec.hooks).toEqual({});
    expect(spec.fileExistsBehavior).toBe('DISALLOW');
  });

  it('warns when the timeouts of one event add up to more than the hour CodeDeploy gives it', () => {
    const spec = parseAppspec(
      yaml(
        ...EC2,
        'hooks:',
        '  AfterInstall:',
        '    - location: a.sh',
        '      timeout: 3000',
        '    - location: b.sh',
        '      timeout: 900',
      ),
      'appspec.yml',
    );

    expect(spec.warnings.map(formatIssue)).toEqual([
      'appspec.yml:5:5: hooks.AfterInstall: its timeouts add up to 3900 s, but all scripts of one event get at most 3600 s together, as in CodeDeploy',
    ]);
  });

  it.each([
    ['a syntax error', 'version: 0.0\nos: [linux\n', /^appspec\.yml:\d+:\d+: invalid YAML/],
    ['a list', '- version\n', /^appspec\.yml:1:1: an appspec must be a mapping/],
    ['version', 'version: 1.0\nos: linux\n', /^appspec\.yml:1:10: version: expected version: 0\.0/],
    [
      'missing os',
      'version: 0.0\n',
      /^appspec\.yml:1:1: os: os is required in an EC2\/On-Premises appspec/,
    ],
    ['os', 'version: 0.0\nos: macos\n', /^appspec\.yml:2:5: os: expected linux or windows$/],
    [
      'a misspelt section',
      yaml(...EC2, 'hook:', '  BeforeInstall: []'),
      /^appspec\.yml:3:1: hook: unknown key "hook" \(did you mean "hooks"\?\)$/,
    ],
    [
      'files',
      yaml(...EC2, 'files: /'),
      /^appspec\.yml:3:8: files: expected a list of \{ source, destination \}$/,
    ],
    [
      'files[].source',
      yaml(...EC2, 'files:', '  - destination: app'),
      /^appspec\.yml:4:5: files\[0\]\.source: source \(.*\) is required$/,
    ],
    [
      'files[].destination',
      yaml(...EC2, 'files:', '  - source: /', '    destination: " "'),
      /^appspec\.yml:5:18: files\[0\]\.destination: destination \(where the files go\) is blank$/,
    ],
    [
      'files[].overwrite',
      yaml(...EC2, 'files:', '  - source: /', '    destination: app', '    overwrite: true'),
      /^appspec\.yml:6:5: files\[0\]\.overwrite: unknown key "overwrite": CodeDeploy ignores it; file_exists_behavior/,
    ],
    [
      'file_exists_behavior',
      yaml(...EC2, 'file_exists_behavior: REPLACE'),
      /file_exists_behavior: expected one of DISALLOW, OVERWRITE, RETAIN$/,
    ],
    [
      'permissions',
      yaml(...EC2, 'permissions: {}'),
      /permissions: expected a list of permissions$/,
    ],
    [
      'permissions[].object',
      yaml(...EC2, 'permissions:', '  - mode: 644'),
      /^appspec\.yml:4:5: permissions\[0\]\.object: object \(.*\) is required$/,
    ],
    [
      'permissions[].mode',
      yaml(...EC2, 'permissions:', '  - object: app', '    mode: 999'),
      /^appspec\.yml:5:11: permissions\[0\]\.mode: "999" is not an octal mode/,
    ],
    [
      'permissions[].type',
      yaml(...EC2, 'permissions:', '  - object: app', '    type: [link]'),
      /permissions\[0\]\.type\[0\]: expected file or directory$/,
    ],
    [
      'permissions[].context',
      yaml(...EC2, 'permissions:', '  - object: app', '    context:', '      role: r'),
      /permissions\[0\]\.context\.role: unknown key "role"/,
    ],
    [
      'permissions[].owner',
      yaml(...EC2, 'permissions:', '  - object: app', '    owner: ""'),
      /permissions\[0\]\.owner: a user name is blank$/,
    ],
    [
      'hooks',
      yaml(...EC2, 'hooks: [a.sh]'),
      /^appspec\.yml:3:8: hooks: expected a mapping of lifecycle events/,
    ],
    [
      'an unknown event',
      yaml(...EC2, 'hooks:', '  AfterInstal:', '    - location: a.sh'),
      /^appspec\.yml:4:3: hooks\.AfterInstal: unknown lifecycle event "AfterInstal" \(did you mean "AfterInstall"\?\); EC2\/On-Premises events: BeforeBlockTraffic, /,
    ],
    [
      'a reserved event',
      yaml(...EC2, 'hooks:', '  Install:', '    - location: a.sh'),
      /hooks\.Install: Install is CodeDeploy's own step \(installing the revision .*\) and runs no hooks/,
    ],
    [
      'an event of another platform',
      yaml(...EC2, 'hooks:', '  AfterAllowTestTraffic:', '    - location: a.sh'),
      /hooks\.AfterAllowTestTraffic: AfterAllowTestTraffic is not a lifecycle event of EC2\/On-Premises appspecs \(only of Amazon ECS\)/,
    ],
    [
      "an old agent's event name",
      yaml(...EC2, 'hooks:', '  BeforeELBRemove:', '    - location: a.sh'),
      /hooks\.BeforeELBRemove: BeforeELBRemove is the old name of BeforeBlockTraffic/,
    ],
    [
      'scripts that are not a list',
      yaml(...EC2, 'hooks:', '  AfterInstall:'),
      /^appspec\.yml:4:16: hooks\.AfterInstall: expected a list of scripts/,
    ],
    [
      'a script without location',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - timeout: 30'),
      /hooks\.AfterInstall\[0\]\.location: location \(.*\) is required$/,
    ],
    [
      'a script written as a string',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - a.sh'),
      /hooks\.AfterInstall\[0\]: expected a script such as \{ location: scripts\/start\.sh/,
    ],
    [
      'timeout 0',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - location: a.sh', '      timeout: 0'),
      /^appspec\.yml:6:16: hooks\.AfterInstall\[0\]\.timeout: expected whole seconds from 1 to 3600 .*got 0$/,
    ],
    [
      'timeout over an hour',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - location: a.sh', '      timeout: 3601'),
      /timeout: expected whole seconds from 1 to 3600 .*got 3601$/,
    ],
    [
      'a timeout with a unit',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - location: a.sh', '      timeout: 5m'),
      /timeout: expected whole seconds from 1 to 3600 .*got "5m"$/,
    ],
    [
      'runas',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - location: a.sh', '      runas: 1000'),
      /hooks\.AfterInstall\[0\]\.runas: expected a user name$/,
    ],
    [
      'sudo',
      yaml(...EC2, 'hooks:', '  AfterInstall:', '    - location: a.sh', '      sudo: true'),
      /hooks\.AfterInstall\[0\]\.sudo: unknown key "sudo": not part of the AppSpec reference; use runas$/,
    ],
    [
      'a files entry',
      yaml(...EC2, 'files:', '  - app/'),
      /files\[0\]: expected \{ source, destination \}$/,
    ],
    [
      'permissions[].except',
      yaml(...EC2, 'permissions:', '  - object: app', '    except: {a: 1}'),
      /^appspec\.yml:5:13: permissions\[0\]\.except: expected a string or a list of strings$/,
    ],
    [
      'permissions[].acls',
      yaml(...EC2, 'permissions:', '  - object: app', '    acls: u:bob:rw'),
      /^appspec\.yml:5:11: permissions\[0\]\.acls: expected a list of ACL entries such as u:bob:rw$/,
    ],
    [
      'permissions[].group',
      yaml(...EC2, 'permissions:', '  - object: app', '    group: " "'),
      /permissions\[0\]\.group: a group name is blank$/,
    ],
    [
      'an event named like an Object property',
      yaml(...EC2, 'hooks:', '  constructor:', '    - location: a.sh'),
      /^appspec\.yml:4:3: hooks\.constructor: unknown lifecycle event "constructor"; EC2/,
    ],
    [
      'a key named like an Object property',
      yaml(...EC2, 'toString: 1'),
      /^appspec\.yml:3:1: toString: unknown key "toString"$/,
    ],
    ['a duplicate key', yaml(...EC2, 'os: linux'), /^appspec\.yml:3:1: os: duplicate key "os"$/],
  ])('refuses %s with file, line, column and key', (_name, text, expected) => {
    const issues = issuesOf(text);

    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('reports every problem of a file at once', () => {
    const issues = issuesOf(
      yaml(
        'version: 0.0',
        'os: solaris',
        'hooks:',
        '  Start:',
        '    - location: a.sh',
        '      timeout: -1',
      ),
    );

    expect(issues).toHaveLength(3);
  });
});

describe('parseAppspec: Amazon ECS and AWS Lambda', () => {
  it('reads the service, the hooks and PhoenixCommands, and warns about what Phoenix does not use', () => {
    const spec = parseAppspec(
      yaml(
        'version: 0.0',
        ...ECS_RESOURCES,
        '        PlatformVersion: LATEST',
        'Hooks:',
        '  - AfterAllowTestTraffic: shop-smoke-tests',
        '  - BeforeAllowTraffic: "arn:aws:lambda:eu-west-1:123456789012:function:shop-gate:live"',
        'PhoenixCommands:',
        '  shop-smoke-tests: npm run smoke -- "$PHOENIX_TEST_URL"',
        '  unused:',
        '    command: echo never',
        '    timeout: 60',
      ),
      'appspec.yaml',
    );

    expect(spec).toMatchObject({
      platform: 'ecs',
      ecs: { resource: 'TargetService', container: 'web', port: 8080, platformVersion: 'LATEST' },
      files: [],
    });
    expect(spec.hooks.AfterAllowTestTraffic).toEqual([
      expect.objectContaining({
        kind: 'function',
        functionName: 'shop-smoke-tests',
        command: expect.objectContaining({
          value: 'npm run smoke -- "$PHOENIX_TEST_URL"',
          key: 'PhoenixCommands.shop-smoke-tests',
        }),
        timeoutMs: 3_600_000,
        key: 'Hooks[0].AfterAllowTestTraffic',
        location: { file: 'appspec.yaml', line: 12, column: 28 },
      }),
    ]);
    expect(spec.hooks.BeforeAllowTraffic?.[0]).toMatchObject({ command: undefined });
    expect(spec.warnings.map((warning) => warning.key)).toEqual([
      'Resources[0].TargetService.Properties.TaskDefinition',
      'Resources[0].TargetService.Properties.LoadBalancerInfo',
      'Resources[0].TargetService.Properties.PlatformVersion',
      'PhoenixCommands.unused',
    ]);
  });

  it('reads JSON appspecs, whatever the capitalisation of their keys', () => {
    const spec = parseAppspec(
      JSON.stringify({
        version: 0.0,
        resources: [
          {
            api: {
              type: 'AWS::Lambda::Function',
              properties: { name: 'api', alias: 'live', currentversion: 1, targetversion: '2' },
            },
          },
        ],
        hooks: [{ BeforeAllowTraffic: 'api-check' }],
      }),
      'appspec.json',
    );

    expect(spec).toMatchObject({
      platform: 'lambda',
      lambda: {
        resource: 'api',
        name: 'api',
        alias: 'live',
        currentVersion: '1',
        targetVersion: '2',
      },
    });
    expect(spec.hooks.BeforeAllowTraffic?.[0]).toMatchObject({
      functionName: 'api-check',
      key: 'hooks[0].BeforeAllowTraffic',
      location: { line: 1, column: 182 },
    });
  });

  it('reads quoted ports, as CodeDeploy samples write them', () => {
    const text = yaml('version: 0.0', ...ECS_RESOURCES).replace('8080', '"8080"');

    expect(parseAppspec(text, 'appspec.yml').ecs?.port).toBe(8080);
  });

  function ecs(...rest: string[]): string {
    return yaml('version: 0.0', ...ECS_RESOURCES, ...rest);
  }

  it.each([
    [
      'a list of hooks without Resources',
      yaml('version: 0.0', 'Hooks:', '  - BeforeInstall: f'),
      /^appspec\.yml:1:1: Resources: Resources is required in an ECS or Lambda appspec/,
    ],
    [
      'empty Resources',
      yaml('version: 0.0', 'Resources: []'),
      /^appspec\.yml:2:12: Resources: Resources lists nothing/,
    ],
    [
      'a resource Type',
      ecs().replace('AWS::ECS::Service', 'AWS::EC2::Instance'),
      /^appspec\.yml:4:13: Resources\[0\]\.TargetService\.Type: expected Type: AWS::ECS::Service or AWS::Lambda::Function$/,
    ],
    [
      'TaskDefinition',
      ecs().replace(/TaskDefinition: .*/, 'TaskDefinition: ""'),
      /Properties\.TaskDefinition: TaskDefinition \(the task definition ARN\) is blank$/,
    ],
    [
      'ContainerName',
      ecs().replace('          ContainerName: web\n', ''),
      /Properties\.LoadBalancerInfo\.ContainerName: ContainerName is required$/,
    ],
    [
      'ContainerPort out of range',
      ecs().replace('8080', '70000'),
      /^appspec\.yml:9:26: Resources\[0\]\.TargetService\.Properties\.LoadBalancerInfo\.ContainerPort: expected a port number from 1 to 65535, got 70000$/,
    ],
    [
      'a ContainerPort placeholder',
      ecs().replace('8080', '<CONTAINER_PORT>'),
      /got "<CONTAINER_PORT>" \(a template placeholder: substitute it before deploying\)$/,
    ],
    [
      'AssignPublicIp',
      ecs(
        '        NetworkConfiguration:',
        '          AwsvpcConfiguration:',
        '            AssignPublicIp: YES',
      ),
      /AwsvpcConfiguration\.AssignPublicIp: expected ENABLED or DISABLED$/,
    ],
    [
      'an unknown property',
      ecs('        HealthCheckGracePeriodSeconds: 30'),
      /^appspec\.yml:10:9: Resources\[0\]\.TargetService\.Properties\.HealthCheckGracePeriodSeconds: unknown key/,
    ],
    [
      'two resources',
      ecs(
        '  - Other:',
        '      Type: AWS::ECS::Service',
        '      Properties:',
        '        TaskDefinition: t',
        '        LoadBalancerInfo: {ContainerName: a, ContainerPort: 1}',
      ),
      /^appspec\.yml:3:3: Resources: names 2 resources: an appspec deploys one ECS service or one Lambda function$/,
    ],
    [
      'a resource that is not a mapping',
      yaml('version: 0.0', 'Resources:', '  - TargetService'),
      /^appspec\.yml:3:5: Resources\[0\]: expected a named resource/,
    ],
    [
      'a resource without Type',
      yaml('version: 0.0', 'Resources:', '  - TargetService:', '      Properties: {}'),
      /Resources\[0\]\.TargetService\.Type: expected Type: AWS::ECS::Service or AWS::Lambda::Function$/,
    ],
    [
      'Properties',
      yaml('version: 0.0', 'Resources:', '  - TargetService:', '      Type: AWS::ECS::Service'),
      /Resources\[0\]\.TargetService\.Properties: Properties is required: TaskDefinition and LoadBalancerInfo$/,
    ],
    [
      'LoadBalancerInfo',
      ecs().replace(/ {8}LoadBalancerInfo:\n.*\n.*\n/, ''),
      /Properties\.LoadBalancerInfo: LoadBalancerInfo is required: ContainerName and ContainerPort$/,
    ],
    [
      'a CapacityProviderStrategy weight',
      ecs(
        '        CapacityProviderStrategy:',
        '          - CapacityProvider: FARGATE',
        '            Weight: -1',
      ),
      /CapacityProviderStrategy\[0\]\.Weight: expected a whole number, 0 or more$/,
    ],
    [
      'a NetworkConfiguration key',
      ecs('        NetworkConfiguration:', '          AwsVpcConfig: {}'),
      /^appspec\.yml:\d+:\d+: Resources\[0\]\.TargetService\.Properties\.NetworkConfiguration\.AwsVpcConfig: unknown key "AwsVpcConfig"$/,
    ],
    [
      'an empty Hooks entry',
      ecs('Hooks:', '  - {}'),
      /^appspec\.yml:11:5: Hooks\[0\]: empty entry: expected EventName: FunctionName$/,
    ],
    [
      'a blank Lambda alias',
      yaml(
        'version: 0.0',
        'Resources:',
        '  - f:',
        '      Type: AWS::Lambda::Function',
        '      Properties: {Name: f, Alias: "", CurrentVersion: 1, TargetVersion: 2}',
      ),
      /Resources\[0\]\.f\.Properties\.Alias: Alias is blank$/,
    ],
    ['os in an ECS appspec', ecs('os: linux'), /^appspec\.yml:10:1: os: unknown key "os"$/],
    [
      'Hooks',
      ecs('Hooks:', '  AfterInstall: f'),
      /^appspec\.yml:11:3: Hooks: expected a list such as - AfterAllowTestTraffic: FunctionName$/,
    ],
    [
      'an event ECS does not have',
      ecs('Hooks:', '  - ApplicationStart: f'),
      /^appspec\.yml:11:5: Hooks\[0\]\.ApplicationStart: ApplicationStart is not a lifecycle event of Amazon ECS appspecs \(only of EC2\/On-Premises\); Amazon ECS events: BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic$/,
    ],
    [
      'a misspelt event',
      ecs('Hooks:', '  - AfterAllowTestTrafic: f'),
      /Hooks\[0\]\.AfterAllowTestTrafic: unknown lifecycle event "AfterAllowTestTrafic" \(did you mean "AfterAllowTestTraffic"\?\)/,
    ],
    [
      'an event listed twice',
      ecs('Hooks:', '  - AfterInstall: f', '  - AfterInstall: g'),
      /^appspec\.yml:12:19: Hooks\[1\]\.AfterInstall: AfterInstall is listed twice \(also Hooks\[0\]\.AfterInstall\)/,
    ],
    [
      'a function name',
      ecs('Hooks:', '  - AfterInstall: "${APP}-check"'),
      /Hooks\[0\]\.AfterInstall: "\$\{APP\}-check" is not a Lambda function name or ARN \(a template placeholder/,
    ],
    [
      'a blank function name',
      ecs('Hooks:', '  - AfterInstall: " "'),
      /Hooks\[0\]\.AfterInstall: the Lambda function name is blank$/,
    ],
    [
      'PhoenixCommands',
      ecs('PhoenixCommands:', '  f: 42'),
      /^appspec\.yml:11:6: PhoenixCommands\.f: expected a command, or \{ command, timeout \}$/,
    ],
    [
      'a blank command',
      ecs('PhoenixCommands:', '  f:', '    command: ""'),
      /PhoenixCommands\.f\.command: command is blank$/,
    ],
    [
      'a command timeout',
      ecs('PhoenixCommands:', '  f:', '    command: make check', '    timeout: 7200'),
      /PhoenixCommands\.f\.timeout: expected whole seconds from 1 to 3600/,
    ],
    [
      'one key in two spellings',
      ecs('Hooks:', '  - AfterInstall: f', 'hooks:', '  - BeforeInstall: g'),
      /^appspec\.yml:12:1: hooks: "hooks" repeats "Hooks": keys of ECS and Lambda appspecs are read whatever their case$/,
    ],
    [
      'a Lambda property',
      yaml(
        'version: 0.0',
        'Resources:',
        '  - f:',
        '      Type: AWS::Lambda::Function',
        '      Properties:',
        '        Name: f',
        '        Alias: live',
        '        TargetVersion: 2',
      ),
      /Resources\[0\]\.f\.Properties\.CurrentVersion: expected a function version$/,
    ],
    [
      'an ECS-only event in a Lambda appspec',
      yaml(
        'version: 0.0',
        'Resources:',
        '  - f:',
        '      Type: AWS::Lambda::Function',
        '      Properties: {Name: f, Alias: live, CurrentVersion: 1, TargetVersion: 2}',
        'Hooks:',
        '  - AfterInstall: check',
      ),
      /Hooks\[0\]\.AfterInstall: AfterInstall is not a lifecycle event of AWS Lambda appspecs \(only of EC2\/On-Premises and Amazon ECS\); AWS Lambda events: BeforeAllowTraffic, AfterAllowTraffic$/,
    ],
    [
      'a Terraform template',
      '{\n  "Hooks": [\n    %{ if HOOKS }\n    {"AfterInstall": "f"}\n    %{ endif }\n  ]\n}\n',
      /^appspec\.yml:3:5: Terraform template directive "%\{ if HOOKS \}": render the template before Phoenix reads it$/,
    ],
  ])('refuses %s with file, line, column and key', (_name, text, expected) => {
    const issues = issuesOf(text);

    expect(issues).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});

describe('loadAppspec', () => {
  it('reads a file and names it as asked; a missing file is a located error', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'phoenix-appspec-'));
    try {
      await writeFile(join(folder, 'appspec.yml'), yaml(...EC2));

      const spec = await loadAppspec(join(folder, 'appspec.yml'), 'release/appspec.yml');

      expect(spec.file).toBe('release/appspec.yml');
      await expect(loadAppspec(join(folder, 'absent.yml'), 'absent.yml')).rejects.toThrow(
        /^absent\.yml:1:1: cannot read appspec: ENOENT$/,
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('the real-world corpus', () => {
  const files = readdirSync(CORPUS).sort();

  it('holds the 18 files SOURCES.md lists', () => {
    expect(files).toHaveLength(18);
  });

  it.each(files)('%s parses, or is refused precisely', (file) => {
    const text = readFileSync(join(CORPUS, file), 'utf8');

    let issues: readonly string[] = [];
    try {
      const spec = parseAppspec(text, file);
      expect(['ec2', 'ecs', 'lambda']).toContain(spec.platform);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      issues = (error as ValidationError).issues.map(formatIssue);
    }

    for (const issue of issues) expect(issue.startsWith(`${file}:`)).toBe(true);
    for (const issue of issues) expect(issue).toMatch(/^[^:]+:\d+:\d+: /);
  });

  it('reads the ECS hooks of the Terraform JSON template once it is rendered', async () => {
    const template = await readFile(
      join(CORPUS, 'toluna-terraform__terraform-aws-ecs-gitflow__templates_appspec.json.tpl'),
      'utf8',
    );
    const rendered = template
      .replace(/%\{[^}]*\}/g, '')
      .replace(/\$\{APP_NAME\}-\$\{ENV_TYPE\}/g, 'shop-prod')
      .replace(/<CONTAINER_PORT>/, '8080');

    const spec = parseAppspec(rendered, 'appspec.json');

    expect(spec.platform).toBe('ecs');
    expect(spec.ecs?.port).toBe(8080);
    expect(Object.keys(spec.hooks)).toEqual(['AfterAllowTestTraffic', 'BeforeAllowTraffic']);
    expect(spec.hooks.BeforeAllowTraffic?.[0]).toMatchObject({
      functionName: 'shop-prod-merge-waiter',
      location: { line: 25, column: 35 },
    });
  });
});
