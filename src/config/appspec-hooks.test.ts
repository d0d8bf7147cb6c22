import { describe, expect, it } from 'vitest';
import {
  deploymentGroupId,
  hookEnvironment,
  hookPlan,
  HOOK_POINTS,
  lifecycleOrder,
} from './appspec-hooks.js';
import { EC2_EVENTS, ECS_EVENTS, LAMBDA_EVENTS, type ComputePlatform } from './appspec-schema.js';
import { parseAppspec } from './appspec.js';

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const ECS_RESOURCES = [
  'version: 0.0',
  'Resources:',
  '  - TargetService:',
  '      Type: AWS::ECS::Service',
  '      Properties:',
  '        TaskDefinition: shop:3',
  '        LoadBalancerInfo: {ContainerName: web, ContainerPort: 8080}',
];

/** An EC2 appspec with one script for each event it names. */
function ec2(...events: string[]): string {
  return yaml(
    'version: 0.0',
    'os: linux',
    'hooks:',
    ...events.flatMap((event) => [`  ${event}:`, `    - location: hooks/${event}.sh`]),
  );
}

const EC2_SEQUENCE = [
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'BeforeBlockTraffic',
  'AfterAllowTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
];

describe('lifecycleOrder', () => {
  it.each<[ComputePlatform, string[]]>([
    ['ec2', EC2_SEQUENCE],
    [
      'ecs',
      [
        'BeforeInstall',
        'AfterInstall',
        'AfterAllowTestTraffic',
        'BeforeAllowTraffic',
        'AfterAllowTraffic',
      ],
    ],
    ['lambda', ['BeforeAllowTraffic', 'AfterAllowTraffic']],
  ])('%s runs %j', (platform, expected) => {
    expect(lifecycleOrder(platform).map((slot) => slot.event)).toEqual(expected);
  });

  it.each<ComputePlatform>(['ec2', 'ecs', 'lambda'])(
    '%s never goes back to an earlier moment of the deployment',
    (platform) => {
      const points = lifecycleOrder(platform).map((slot) => HOOK_POINTS.indexOf(slot.point));

      expect(points).toEqual([...points].sort((a, b) => a - b));
    },
  );

  it.each<[ComputePlatform, readonly string[]]>([
    ['ec2', EC2_EVENTS],
    ['ecs', ECS_EVENTS],
    ['lambda', LAMBDA_EVENTS],
  ])('a %s deployment passes every event the platform has', (platform, events) => {
    const order = lifecycleOrder(platform).map((slot) => slot.event);

    expect([...order].sort()).toEqual([...events].sort());
  });

  it('keeps, for each release, the relative order of CodeDeploy in-place deployments', () => {
    const order = lifecycleOrder('ec2');
    const inPlace = (release: 'new' | 'previous'): string[] =>
      EC2_EVENTS.filter((event) =>
        order.some((slot) => slot.event === event && slot.release === release),
      );

    expect(order.filter((slot) => slot.release === 'new').map((slot) => slot.event)).toEqual(
      inPlace('new'),
    );
    expect(order.filter((slot) => slot.release === 'previous').map((slot) => slot.event)).toEqual(
      inPlace('previous'),
    );
  });

  it.each<[ComputePlatform, string]>([
    ['ec2', 'ValidateService'],
    ['ecs', 'AfterAllowTestTraffic'],
  ])('validates %s releases (%s) once test traffic reaches them', (platform, event) => {
    const validate = lifecycleOrder(platform).find((slot) => slot.event === event);

    expect(validate?.point).toBe('test-traffic');
  });
});

describe('hookPlan', () => {
  it('lists only events with steps, in order, taking the replaced release its own events', () => {
    const spec = parseAppspec(
      ec2('ApplicationStop', 'ValidateService', 'BeforeInstall', 'AfterBlockTraffic'),
      'new.yml',
    );
    const previous = parseAppspec(ec2('ApplicationStop', 'BeforeBlockTraffic'), 'old.yml');

    const first = hookPlan(spec);
    const next = hookPlan(spec, { previous });

    expect(first.map((hook) => hook.event)).toEqual(['BeforeInstall', 'ValidateService']);
    expect(next.map((hook) => [hook.event, hook.release, hook.steps[0]?.location.file])).toEqual([
      ['BeforeInstall', 'new', 'new.yml'],
      ['ValidateService', 'new', 'new.yml'],
      ['BeforeBlockTraffic', 'previous', 'old.yml'],
      ['ApplicationStop', 'previous', 'old.yml'],
    ]);
  });

  it('keeps the scripts of one event in the order the file lists them', () => {
    const spec = parseAppspec(
      yaml(
        'version: 0.0',
        'os: linux',
        'hooks:',
        '  AfterInstall:',
        '    - location: b.sh',
        '    - location: a.sh',
      ),
      'appspec.yml',
    );

    const [hook] = hookPlan(spec);

    expect(hook?.steps.map((step) => (step.kind === 'script' ? step.script : ''))).toEqual([
      'b.sh',
      'a.sh',
    ]);
  });

  it('runs ECS hooks in CodeDeploy order whatever order the file lists them in', () => {
    const spec = parseAppspec(
      yaml(
        ...ECS_RESOURCES,
        'Hooks:',
        '  - AfterAllowTraffic: d',
        '  - AfterAllowTestTraffic: c',
        '  - BeforeInstall: a',
      ),
      'appspec.yml',
    );

    expect(hookPlan(spec).map((hook) => [hook.event, hook.point])).toEqual([
      ['BeforeInstall', 'before-install'],
      ['AfterAllowTestTraffic', 'test-traffic'],
      ['AfterAllowTraffic', 'after-shift'],
    ]);
  });
});

describe('hookEnvironment', () => {
  it("sets CodeDeploy's variables and Phoenix's own", () => {
    const env = hookEnvironment({
      event: 'AfterAllowTestTraffic',
      deploymentId: 'd-7KQ2M1',
      service: 'shop',
      environment: 'staging',
      release: { id: 'r-42', commit: '0b81ebb6a1c1e0f7c1f0aa2f0d8b3f4e5a6b7c8d' },
      previousRelease: 'r-41',
      testUrl: 'http://127.0.0.1:8080',
    });

    expect(env).toEqual({
      LIFECYCLE_EVENT: 'AfterAllowTestTraffic',
      DEPLOYMENT_ID: 'd-7KQ2M1',
      APPLICATION_NAME: 'shop',
      DEPLOYMENT_GROUP_NAME: 'staging',
      DEPLOYMENT_GROUP_ID: deploymentGroupId('shop', 'staging'),
      BUNDLE_COMMIT: '0b81ebb6a1c1e0f7c1f0aa2f0d8b3f4e5a6b7c8d',
      PHOENIX_DEPLOYMENT_ID: 'd-7KQ2M1',
      PHOENIX_SERVICE: 'shop',
      PHOENIX_ENVIRONMENT: 'staging',
      PHOENIX_RELEASE: 'r-42',
      PHOENIX_PREVIOUS_RELEASE: 'r-41',
      PHOENIX_TEST_URL: 'http://127.0.0.1:8080',
    });
  });

  it('leaves out what it does not know rather than setting empty values', () => {
    const env = hookEnvironment({
      event: 'BeforeInstall',
      deploymentId: 'd-1',
      service: 'shop',
      environment: 'dev',
      release: { id: 'r-1' },
    });

    for (const name of ['BUNDLE_COMMIT', 'PHOENIX_TEST_URL', 'PHOENIX_PREVIOUS_RELEASE'])
      expect(env).not.toHaveProperty(name);
    expect(Object.values(env)).not.toContain('');
  });
});

describe('deploymentGroupId', () => {
  it.each([
    ['shop', 'dev'],
    ['shop', 'prod'],
    ['api', 'dev'],
  ])('is a stable UUID for %s/%s', (service, environment) => {
    const id = deploymentGroupId(service, environment);

    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deploymentGroupId(service, environment)).toBe(id);
  });

  it('differs between environments', () => {
    expect(deploymentGroupId('shop', 'dev')).not.toBe(deploymentGroupId('shop', 'prod'));
  });
});
