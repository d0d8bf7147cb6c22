import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePhoenixConfig, type PhoenixConfig } from '../config/phoenix-config.js';
import {
  ConflictError,
  ExternalServiceError,
  NotFoundError,
  NotPermittedError,
  ValidationError,
} from '../shared/errors.js';
import type { DeploymentController } from './deployment-controller.js';
import { EnvironmentDeployer } from './environment-deployer.js';
import { ListenerRegistry } from './listener-registry.js';
import { DeployHarness } from './testing/deploy-harness.js';

const PHOENIX_YML = [
  'service: shop',
  'release:',
  '  start: npm start',
  'environments:',
  '  - name: dev',
  '    instances: 1',
  '    listeners: { production: 18180, test: 18181 }',
  '    strategy: { type: blue-green, bake: 0s }',
  '    variables: { GREETING: hello }',
  '  - name: staging',
  '',
].join('\n');

const TRIGGER = { type: 'manual', actor: 'alice' } as const;

let harness: DeployHarness;
let registry: ListenerRegistry;
let controller: DeploymentController;
let config: PhoenixConfig;
/** phoenix.yml at the head of the service's default branch; undefined: no such branch. */
let current: PhoenixConfig | undefined;
/** Thrown by that phoenix.yml's loader: it is invalid. */
let currentProblem: Error | undefined;
let routerProblem: Error | undefined;
const loaded: string[] = [];

beforeEach(() => {
  harness = new DeployHarness();
  registry = ListenerRegistry.open(join(harness.logDirectory, '..', 'listeners.json'));
  controller = harness.controller({
    listenersFor: (service, environment) => registry.listenersFor(service, environment),
  });
  config = parsePhoenixConfig(PHOENIX_YML, 'phoenix.yml');
  // The instances need node, and the harness's mark to be found if they leak.
  for (const environment of config.environments) {
    Object.assign(environment.variables, {
      NODE_BIN: process.execPath,
      PHOENIX_TEST_RUN: harness.runtimeToken,
    });
  }
  routerProblem = undefined;
  current = undefined;
  currentProblem = undefined;
  loaded.length = 0;
});

afterEach(async () => {
  expect(await harness.cleanup()).toEqual([]);
});

function deployer(): EnvironmentDeployer {
  return new EnvironmentDeployer({
    controller,
    listeners: registry,
    routerReady: async () => {
      if (routerProblem !== undefined) throw routerProblem;
    },
    configs: {
      load: async (service, commit) => {
        loaded.push(`${service}@${commit}`);
        return config;
      },
      current: async (service) => {
        loaded.push(`${service}@main`);
        if (currentProblem !== undefined) throw currentProblem;
        return current;
      },
    },
    releases: {
      get: (id) => {
        const release = harness.releaseSource().get(id);
        if (release instanceof Promise) throw new TypeError('the harness answers at once');
        return { service: release.service, commit: release.commit ?? '' };
      },
    },
  });
}

describe('EnvironmentDeployer', () => {
  it('deploys as the environment says: listeners, strategy, instances and variables', async () => {
    const release = harness.release('v1');

    const recorded = await deployer().deploy({
      config,
      environment: 'dev',
      releaseId: release.id,
      trigger: TRIGGER,
    });
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({
      status: 'succeeded',
      strategy: { kind: 'blue-green', bakeMs: 0, testListener: true },
      target: { instances: 1, env: expect.objectContaining({ GREETING: 'hello' }) },
    });
    expect(ListenerRegistry.open(registry.path).listenersFor('shop', 'dev')).toEqual({
      production: { name: 'shop-dev', port: 18_180 },
      test: { name: 'shop-dev-test', port: 18_181 },
    });
    expect(harness.router.route('shop-dev')).toEqual([{ group: 'shop-dev-1', weight: 100 }]);
    expect(await harness.serving()).toBe('v1');
  });

  it('refuses an environment without listeners, naming the file, line and key', async () => {
    const attempt = deployer().deploy({
      config,
      environment: 'staging',
      releaseId: harness.release('v1').id,
      trigger: TRIGGER,
    });

    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(
      /^phoenix.yml:10:5: environments\[1\].listeners: staging has no listeners, so it cannot be deployed: add listeners: \{ production: PORT \}/,
    );
    expect(controller.status('shop')).toEqual([]);
  });

  it('refuses an environment phoenix.yml does not have', async () => {
    await expect(
      deployer().deploy({
        config,
        environment: 'prod',
        releaseId: harness.release('v1').id,
        trigger: TRIGGER,
      }),
    ).rejects.toThrow(new NotFoundError('shop has no environment prod in phoenix.yml'));
  });

  it('records nothing when the router cannot be driven', async () => {
    routerProblem = new ExternalServiceError(
      'router not reachable at http://127.0.0.1:8801: start `phoenix router` (ECONNREFUSED)',
    );

    await expect(
      deployer().deploy({
        config,
        environment: 'dev',
        releaseId: harness.release('v1').id,
        trigger: TRIGGER,
      }),
    ).rejects.toThrow(routerProblem);
    expect(controller.status('shop')).toEqual([]);
    expect(registry.ports('shop', 'dev')).toBeUndefined();
  });

  it('leaves the listeners of an environment with a deployment in flight as they are', async () => {
    const first = await deployer().deploy({
      config,
      environment: 'dev',
      releaseId: harness.release('v1').id,
      trigger: TRIGGER,
    });
    const moved = parsePhoenixConfig(PHOENIX_YML.replace('18180', '18190'), 'phoenix.yml');

    const second = deployer().deploy({
      config: moved,
      environment: 'dev',
      releaseId: harness.release('v2').id,
      trigger: TRIGGER,
    });

    await expect(second).rejects.toThrow(ConflictError);
    await expect(second).rejects.toThrow(
      new RegExp(`^shop dev has deployment ${first.id} in flight \\(\\w+\\)$`),
    );
    expect(registry.ports('shop', 'dev')).toEqual({ production: 18_180, test: 18_181 });
    await controller.whenFinished(first.id);
  });

  it('deploys a release by hand into the environment as the default branch describes it now', async () => {
    const release = harness.release('v1');
    // Since the release was built, dev moved to other ports and became protected.
    current = parsePhoenixConfig(
      PHOENIX_YML.replace('18180, test: 18181', '18190, test: 18191').replace(
        '    variables: { GREETING: hello }',
        '    variables: { GREETING: hello }\n    protected: true',
      ),
      'phoenix.yml',
    );
    for (const environment of current.environments)
      Object.assign(environment.variables, config.environments[0]?.variables);

    await expect(
      deployer().deployRelease({
        environment: 'dev',
        releaseId: release.id,
        trigger: TRIGGER,
        person: { name: 'bob', role: 'developer' },
      }),
    ).rejects.toThrow(NotPermittedError);
    const recorded = await deployer().deployRelease({
      environment: 'dev',
      releaseId: release.id,
      trigger: TRIGGER,
    });
    await controller.whenFinished(recorded.id);

    expect(loaded).toEqual(['shop@main', 'shop@main']);
    expect(registry.ports('shop', 'dev')).toEqual({ production: 18_190, test: 18_191 });
    expect(recorded).toMatchObject({ releaseId: release.id, trigger: TRIGGER });
  });

  it('deploys a release by hand with phoenix.yml as committed with it when there is no default branch', async () => {
    const release = harness.release('v1');

    const recorded = await deployer().deployRelease({
      environment: 'dev',
      releaseId: release.id,
      trigger: TRIGGER,
    });
    await controller.whenFinished(recorded.id);

    expect(loaded).toEqual(['shop@main', `shop@${release.commit ?? ''}`]);
    expect(recorded).toMatchObject({ releaseId: release.id, trigger: TRIGGER });
  });
});

/** An ECS appspec whose one hook names a Lambda function and maps it to nothing itself. */
const SMOKE_TESTED_APPSPEC = [
  'version: 0.0',
  'Resources:',
  '  - TargetService:',
  '      Type: AWS::ECS::Service',
  '      Properties:',
  '        TaskDefinition: shop',
  '        LoadBalancerInfo: { ContainerName: web, ContainerPort: 8080 }',
  'Hooks:',
  '  - AfterAllowTestTraffic: shop-smoke',
  '',
].join('\n');

describe('EnvironmentDeployer: hook-commands', () => {
  it("runs the commands phoenix.yml maps an ECS appspec's functions to, with no PhoenixCommands", async () => {
    const withHooks = parsePhoenixConfig(
      `${PHOENIX_YML.replace('  - name: staging\n', '')}    hook-commands: { shop-smoke: sh smoke.sh }\n`,
      'phoenix.yml',
    );
    Object.assign(withHooks.environments[0]?.variables ?? {}, config.environments[0]?.variables);
    const release = harness.release('v1', {
      appspec: SMOKE_TESTED_APPSPEC,
      files: { 'smoke.sh': 'echo "$LIFECYCLE_EVENT $PHOENIX_TEST_URL" > smoke.log\n' },
    });

    const recorded = await deployer().deploy({
      config: withHooks,
      environment: 'dev',
      releaseId: release.id,
      trigger: TRIGGER,
    });
    const finished = await controller.whenFinished(recorded.id);

    expect(finished).toMatchObject({
      status: 'succeeded',
      target: { functionCommands: { 'shop-smoke': { command: 'sh smoke.sh' } } },
    });
    expect(readFileSync(join(release.directory, 'smoke.log'), 'utf8')).toBe(
      'AfterAllowTestTraffic http://127.0.0.1:18181\n',
    );
  });

  it('refuses, before anything starts, an ECS hook whose function nobody maps', async () => {
    const release = harness.release('v1', {
      appspec: SMOKE_TESTED_APPSPEC,
    });

    await expect(
      deployer().deploy({ config, environment: 'dev', releaseId: release.id, trigger: TRIGGER }),
    ).rejects.toThrow(
      /appspec\.yml:9:\d+: Hooks\[0\]\.AfterAllowTestTraffic: Phoenix cannot call the Lambda function "shop-smoke"/,
    );
  });
});

describe('EnvironmentDeployer.takeDown', () => {
  it('takes a service down: listeners closed, groups removed, instances stopped, ports freed', async () => {
    const v1 = harness.release('v1');
    const served = await deployer().deploy({
      config,
      environment: 'dev',
      releaseId: v1.id,
      trigger: TRIGGER,
    });
    await controller.whenFinished(served.id);
    // A second release in flight, baking, when the service goes.
    const v2 = harness.release('v2');
    const baking = await deployer().deploy({
      config,
      environment: 'dev',
      releaseId: v2.id,
      trigger: TRIGGER,
      strategy: { kind: 'blue-green', bakeMs: 3_600_000, testListener: true, manualPromote: false },
    });
    await harness.until(baking.id, (d) => d.status === 'baking');
    const since = harness.router.calls.length;
    const going = deployer();
    const steps: string[] = [];

    const result = await going.takeDown('shop', 'root', {
      before: async () => {
        // Nothing more is deployed while the service goes (a run reaching its deploy stage).
        const late = going.deploy({
          config,
          environment: 'dev',
          releaseId: v1.id,
          trigger: TRIGGER,
        });
        await expect(late).rejects.toThrow('shop is being deleted: nothing more is deployed');
        steps.push('before');
      },
      remove: () => {
        steps.push(`remove with ${harness.router.calls.length - since} router calls made`);
      },
    });

    // Aborting the baking deployment stopped v2's instance; v1's is the one left to stop.
    expect(result).toEqual({ environments: ['dev'], listeners: 2, targetGroups: 2, instances: 1 });
    expect(steps[0]).toBe('before');
    expect(steps[1]).toMatch(/^remove with [1-9]\d* router calls made$/);
    expect((await controller.whenFinished(baking.id)).status).toBe('aborted');
    const calls = harness.router.calls
      .slice(since)
      .map(
        (call) =>
          `${call.op} ${'listener' in call ? call.listener : 'group' in call ? call.group : ''}`,
      );
    expect(calls).toEqual(
      expect.arrayContaining([
        'removeListener shop-dev',
        'removeListener shop-dev-test',
        'removeTargetGroup shop-dev-1',
        'removeTargetGroup shop-dev-2',
      ]),
    );
    expect(harness.router.route('shop-dev')).toBeUndefined();
    expect(harness.runtime.list({ service: 'shop' }).map((i) => i.status)).toEqual(
      expect.not.arrayContaining(['running', 'starting']),
    );
    expect(registry.ports('shop', 'dev')).toBeUndefined();
    // The ports are free for another service now.
    expect(() => registry.record('cart', 'dev', { production: 18_180 })).not.toThrow();
  });

  it('refuses, before anything changes, when something is deployed and the router is down', async () => {
    const v1 = harness.release('v1');
    await controller.whenFinished(
      (await deployer().deploy({ config, environment: 'dev', releaseId: v1.id, trigger: TRIGGER }))
        .id,
    );
    routerProblem = new ExternalServiceError('router not reachable: start `phoenix router`');
    const since = harness.router.calls.length;

    const steps: string[] = [];

    await expect(
      deployer().takeDown('shop', 'root', {
        before: async () => void steps.push('before'),
        remove: () => void steps.push('remove'),
      }),
    ).rejects.toThrow(/start `phoenix router`/);

    expect(steps).toEqual([]);
    expect(harness.router.calls.slice(since)).toEqual([]);
    expect(registry.ports('shop', 'dev')).toEqual({ production: 18_180, test: 18_181 });
  });

  it('has nothing to do for a service never deployed, router or not', async () => {
    routerProblem = new ExternalServiceError('router not reachable');

    const steps: string[] = [];

    const result = await deployer().takeDown('shop', 'root', {
      before: async () => void steps.push('before'),
      remove: () => void steps.push('remove'),
    });

    expect(result).toEqual({ environments: [], listeners: 0, targetGroups: 0, instances: 0 });
    expect(steps).toEqual(['before', 'remove']);
  });
});

describe('EnvironmentDeployer.rollback', () => {
  async function serve(version: string): Promise<string> {
    const release = harness.release(version);
    const recorded = await deployer().deploy({
      config,
      environment: 'dev',
      releaseId: release.id,
      trigger: TRIGGER,
    });
    expect((await controller.whenFinished(recorded.id)).status).toBe('succeeded');
    return release.id;
  }

  it("still rolls back when the default branch's phoenix.yml is invalid; a deploy by hand is refused", async () => {
    const v1 = await serve('v1');
    const v2 = harness.release('v2');
    await serve('v2');
    currentProblem = new ValidationError([
      {
        location: { file: 'phoenix.yml', line: 3, column: 1 },
        key: 'environments',
        message: 'expected a list',
      },
    ]);

    await expect(
      deployer().deployRelease({ environment: 'dev', releaseId: v2.id, trigger: TRIGGER }),
    ).rejects.toThrow(/phoenix\.yml:3:1: environments: expected a list/);
    const result = await deployer().rollback({ service: 'shop', environment: 'dev', actor: 'bob' });
    const finished = await controller.whenFinished(result.deployment.id);

    expect(finished).toMatchObject({ status: 'succeeded', releaseId: v1 });
  });

  it('goes back to the release that served before, all at once and unjudged', async () => {
    const v1 = await serve('v1');
    await serve('v2');

    const result = await deployer().rollback({ service: 'shop', environment: 'dev', actor: 'bob' });
    const finished = await controller.whenFinished(result.deployment.id);

    expect(result.kind).toBe('deployed');
    expect(finished).toMatchObject({
      status: 'succeeded',
      releaseId: v1,
      strategy: { kind: 'all-at-once', bakeMs: 0 },
      trigger: { type: 'rollback', actor: 'bob', detail: 'from rel_2' },
    });
    expect(finished.plan.map((step) => step.kind)).not.toContain('bake');
    expect(await harness.serving()).toBe('v1');
  });

  it('goes back to any earlier release named, starting it afresh', async () => {
    const v1 = await serve('v1');
    await serve('v2');
    await serve('v3');

    const result = await deployer().rollback({
      service: 'shop',
      environment: 'dev',
      releaseId: v1,
      actor: 'bob',
    });
    await controller.whenFinished(result.deployment.id);

    expect(await harness.serving()).toBe('v1');
  });

  it('aborts the deployment in flight: production goes back to what served', async () => {
    await serve('v1');
    const slow = parsePhoenixConfig(PHOENIX_YML.replace('bake: 0s', 'bake: 10m'), 'phoenix.yml');
    Object.assign(slow.environments[0]?.variables ?? {}, config.environments[0]?.variables);
    const recorded = await deployer().deploy({
      config: slow,
      environment: 'dev',
      releaseId: harness.release('v2').id,
      trigger: TRIGGER,
    });
    await harness.until(recorded.id, (d) => d.status === 'baking');

    const result = await deployer().rollback({ service: 'shop', environment: 'dev', actor: 'bob' });
    const finished = await controller.whenFinished(recorded.id);

    expect(result).toMatchObject({ kind: 'aborted', deployment: { id: recorded.id } });
    expect(finished.status).toBe('aborted');
    expect(await harness.serving()).toBe('v1');
  });

  it('refuses when there is nothing earlier to go back to', async () => {
    await serve('v1');

    await expect(
      deployer().rollback({ service: 'shop', environment: 'dev', actor: 'bob' }),
    ).rejects.toThrow(
      new ConflictError('shop dev has no earlier release to roll back to: name one with --to'),
    );
  });
});

describe('EnvironmentDeployer: who may deploy by hand', () => {
  function guarded(): PhoenixConfig {
    const protectedYml = PHOENIX_YML.replace(
      '    variables: { GREETING: hello }',
      '    variables: { GREETING: hello }\n    protected: true',
    );
    const parsed = parsePhoenixConfig(protectedYml, 'phoenix.yml');
    Object.assign(parsed.environments[0]?.variables ?? {}, config.environments[0]?.variables);
    return parsed;
  }

  it.each([
    {
      env: 'plain',
      role: 'viewer',
      refused: /deploying to it by hand needs the developer role \(pat is viewer\)/,
    },
    { env: 'plain', role: 'approver', refused: /needs the developer role/ },
    {
      env: 'protected',
      role: 'developer',
      refused:
        /shop dev is protected: deploying to it by hand needs the approver or admin role \(pat is developer\)/,
    },
  ])('refuses a $role on a $env environment, recording nothing', async ({ env, role, refused }) => {
    const attempt = deployer().deploy({
      config: env === 'protected' ? guarded() : config,
      environment: 'dev',
      releaseId: harness.release('v1').id,
      trigger: TRIGGER,
      person: { name: 'pat', role },
    });

    await expect(attempt).rejects.toThrow(NotPermittedError);
    await expect(attempt).rejects.toThrow(refused);
    expect(controller.status('shop')).toEqual([]);
  });

  it('lets an approver deploy to a protected environment', async () => {
    const recorded = await deployer().deploy({
      config: guarded(),
      environment: 'dev',
      releaseId: harness.release('v1').id,
      trigger: TRIGGER,
      person: { name: 'amy', role: 'approver' },
    });

    expect((await controller.whenFinished(recorded.id)).status).toBe('succeeded');
  });
});

describe('EnvironmentDeployer: secret variables', () => {
  function withSecret(): PhoenixConfig {
    const yml = PHOENIX_YML.replace(
      '    variables: { GREETING: hello }',
      '    variables: { GREETING: hello, API_TOKEN: { secret: api-token } }',
    );
    const parsed = parsePhoenixConfig(yml, 'phoenix.yml');
    Object.assign(parsed.environments[0]?.variables ?? {}, config.environments[0]?.variables);
    return parsed;
  }

  it('gives instances the secret, and stores only its name', async () => {
    controller = harness.controller({
      listenersFor: (service, environment) => registry.listenersFor(service, environment),
      secret: (name, scope) =>
        name === 'api-token' && scope.environment === 'dev' ? 'sekret-value-1' : undefined,
    });

    const recorded = await deployer().deploy({
      config: withSecret(),
      environment: 'dev',
      releaseId: harness.release('v1').id,
      trigger: TRIGGER,
    });
    const finished = await controller.whenFinished(recorded.id);
    const [instance] = harness.runtime.list({ service: 'shop', environment: 'dev' });
    const environ = readFileSync(`/proc/${instance?.pid ?? 0}/environ`, 'utf8').split('\0');

    expect(finished.status).toBe('succeeded');
    expect(environ).toContain('API_TOKEN=sekret-value-1');
    expect(finished.target.secretEnv).toEqual({ API_TOKEN: 'api-token' });
    expect(JSON.stringify(harness.store.deployments.get(recorded.id))).not.toContain('sekret');
  });

  it('refuses, before recording anything, a secret that is not set', async () => {
    await expect(
      deployer().deploy({
        config: withSecret(),
        environment: 'dev',
        releaseId: harness.release('v1').id,
        trigger: TRIGGER,
      }),
    ).rejects.toThrow(
      'shop dev: variable API_TOKEN names secret api-token, which is not set: phoenix secret set api-token --service shop --env dev',
    );
    expect(controller.status('shop')).toEqual([]);
  });
});
