import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ENVIRONMENT_NAME_PATTERN } from '../config/phoenix-schema.js';
import type {
  EnvironmentStatusView,
  UndeployedEnvironmentView,
} from '../deploy/deployment-view.js';
import { environmentStatus, type EnvironmentStatus } from '../deploy/environment-status.js';
import type { Release } from '../release/release.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { isFile } from '../shared/path-exists.js';
import type { Store } from '../store/store.js';
import { principalOf } from './auth.js';
import { DeploymentEventStream } from './deployment-event-stream.js';
import { deploymentView } from './deployment-views.js';
import { serveEventStream } from './event-stream-route.js';
import { findRelease } from './release-routes.js';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import type { ServerDeps } from './server-deps.js';
import { nameParams } from './service-routes.js';

const environmentName = z
  .string()
  .regex(ENVIRONMENT_NAME_PATTERN, 'is an environment name such as dev');

const releaseReference = z
  .string()
  .regex(
    /^(?:rel_[0-9a-z]{1,40}|[a-z][a-z0-9-]{0,62}#[1-9]\d{0,9})$/,
    'is a release id (rel_...) or service#number',
  );

const deployBody = z
  .object({
    environment: environmentName,
    /** A release id or `service#number`; the service's latest release when absent. */
    release: releaseReference.optional(),
  })
  .strict();

const statusQuery = z.object({ environment: environmentName.optional() }).strict();

const rollbackBody = z
  .object({
    environment: environmentName,
    /** The release to go back to (id or service#number); the one before the current when absent. */
    release: releaseReference.optional(),
  })
  .strict();

const deploymentParams = z.object({
  id: z.string().regex(/^dep_[0-9a-z]{1,40}$/, 'is a deployment id (dep_...)'),
});

/**
 * Deployments: started by hand (`phoenix deploy`), the state of a service's environments
 * (`phoenix status`), one deployment with its timeline. Pipeline runs start deployments too,
 * through their deploy stage; both go through the same EnvironmentDeployer.
 */
export function registerDeploymentRoutes(app: FastifyInstance, context: RouteContext): void {
  const { store } = context.deps;

  // Viewers reach these two: the deployer decides by role and environment (protected
  // environments take approvers and admins, the others developers and admins).
  app.post(
    '/api/services/:name/deployments',
    { config: { access: 'viewer' } },
    async (request, reply) => {
      const { name } = parseInput(nameParams, request.params, 'path');
      const body = parseInput(deployBody, request.body ?? {}, 'body');
      store.services.get(name);
      const release = releaseToDeploy(store, name, body.release);
      const principal = principalOf(request);
      const deployment = await deployerOf(context.deps).deployRelease({
        releaseId: release.id,
        environment: body.environment,
        trigger: { type: 'manual', actor: principal.name },
        person: { name: principal.name, role: principal.role },
      });
      void reply.code(202);
      return { deployment: deploymentView(deployment) };
    },
  );

  app.get('/api/services/:name/status', { config: { access: 'viewer' } }, async (request) => {
    const { name } = parseInput(nameParams, request.params, 'path');
    const { environment } = parseInput(statusQuery, request.query, 'query');
    store.services.get(name);
    const environments = environmentStatus(store.deployments, name, environment).map((status) =>
      statusView(context.deps, status),
    );
    const deployed = new Set(environments.map((status) => status.environment));
    // Reading phoenix.yml from git is for what is not deployed; a deployed environment asked
    // for by name (what followers poll) needs none of it.
    const named =
      environment !== undefined && deployed.has(environment)
        ? []
        : ((await context.deps.deployer?.environmentsOf(name)) ?? []);
    const waiting = context.deps.approvals?.waiting(name) ?? [];
    const undeployed = named
      .filter((each) => !deployed.has(each.name))
      .filter((each) => environment === undefined || each.name === environment)
      .map((each): UndeployedEnvironmentView => {
        const gate = waiting.find((approval) => approval.environment === each.name);
        return {
          environment: each.name,
          ...(each.listeners === undefined ? {} : { listeners: each.listeners }),
          ...(gate === undefined
            ? {}
            : {
                waitingApproval: {
                  id: gate.id,
                  runId: gate.runId,
                  runNumber: store.runs.get(gate.runId).number,
                  approvals: gate.votes.filter((vote) => vote.decision === 'approve').length,
                  required: gate.required,
                  expiresAt: gate.expiresAt,
                },
              }),
        };
      });
    return { service: name, environments, undeployed };
  });

  app.get('/api/deployments/:id', { config: { access: 'viewer' } }, async (request) => {
    const { id } = parseInput(deploymentParams, request.params, 'path');
    return { deployment: deploymentView(store.deployments.get(id)) };
  });

  app.get('/api/deployments/:id/logs', { config: { access: 'viewer' } }, async (request, reply) => {
    const { id } = parseInput(deploymentParams, request.params, 'path');
    store.deployments.get(id);
    const path = controllerOf(context.deps).logFile(id);
    if (!(await isFile(path))) {
      throw new NotFoundError(`deployment ${id} has no log: it ran no appspec hook`);
    }
    return reply.type('text/plain; charset=utf-8').send(createReadStream(path));
  });

  app.get(
    '/api/deployments/:id/events',
    { config: { access: 'viewer' } },
    async (request, reply) => {
      const { id } = parseInput(deploymentParams, request.params, 'path');
      serveEventStream(request, reply, context, (start) => {
        const deployment = store.deployments.get(id);
        const changes = context.deps.deploymentChanges;
        if (changes === undefined) {
          throw new ConflictError('this Phoenix server runs no deployment controller');
        }
        return new DeploymentEventStream({ deployment, changes, ...start });
      });
    },
  );

  app.post('/api/deployments/:id/promote', { config: { access: 'developer' } }, async (request) => {
    const { id } = parseInput(deploymentParams, request.params, 'path');
    const deployment = controllerOf(context.deps).promote(id, principalOf(request).name);
    return { deployment: deploymentView(deployment) };
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/deployments/:id/${action}`,
      { config: { access: 'developer' } },
      async (request) => {
        const { id } = parseInput(deploymentParams, request.params, 'path');
        const controller = controllerOf(context.deps);
        const actor = principalOf(request).name;
        const deployment =
          action === 'pause' ? controller.pause(id, actor) : controller.resume(id, actor);
        return { deployment: deploymentView(deployment) };
      },
    );
  }

  app.post(
    '/api/deployments/:id/abort',
    { config: { access: 'developer' } },
    async (request, reply) => {
      const { id } = parseInput(deploymentParams, request.params, 'path');
      const deployment = await controllerOf(context.deps).abort(id, principalOf(request).name);
      void reply.code(202);
      return { deployment: deploymentView(deployment) };
    },
  );

  app.post(
    '/api/services/:name/rollback',
    { config: { access: 'viewer' } },
    async (request, reply) => {
      const { name } = parseInput(nameParams, request.params, 'path');
      const body = parseInput(rollbackBody, request.body ?? {}, 'body');
      store.services.get(name);
      const release = body.release === undefined ? undefined : findRelease(store, body.release);
      if (release !== undefined && release.service !== name) {
        throw new ConflictError(`release ${release.id} belongs to ${release.service}, not ${name}`);
      }
      const result = await deployerOf(context.deps).rollback({
        service: name,
        environment: body.environment,
        ...(release === undefined ? {} : { releaseId: release.id }),
        actor: principalOf(request).name,
        person: { name: principalOf(request).name, role: principalOf(request).role },
      });
      void reply.code(202);
      return { action: result.kind, deployment: deploymentView(result.deployment) };
    },
  );
}

function controllerOf(deps: ServerDeps): NonNullable<ServerDeps['deployments']> {
  if (deps.deployments === undefined) {
    throw new ConflictError('this Phoenix server runs no deployment controller');
  }
  return deps.deployments;
}

function releaseToDeploy(store: Store, service: string, reference: string | undefined): Release {
  const release =
    reference === undefined ? store.releases.latest(service) : findRelease(store, reference);
  if (release === undefined) {
    throw new NotFoundError(
      `${service} has no releases yet: a successful run makes one (phoenix.yml release, buildspec artifacts)`,
    );
  }
  if (release.service !== service) {
    throw new ConflictError(`release ${release.id} belongs to ${release.service}, not ${service}`);
  }
  return release;
}

function deployerOf(deps: ServerDeps): NonNullable<ServerDeps['deployer']> {
  if (deps.deployer === undefined) {
    throw new ConflictError('this Phoenix server runs no deployment controller');
  }
  return deps.deployer;
}

function statusView(deps: ServerDeps, status: EnvironmentStatus): EnvironmentStatusView {
  const { servingReleaseId, latest } = status;
  const listeners = deps.listeners?.ports(latest.service, status.environment);
  return {
    environment: status.environment,
    ...(servingReleaseId === undefined
      ? {}
      : { servingRelease: { id: servingReleaseId, ...numberOf(deps.store, servingReleaseId) } }),
    ...(listeners === undefined ? {} : { listeners }),
    latest: deploymentView(latest),
  };
}

function numberOf(store: Store, releaseId: string): { number?: number } {
  try {
    return { number: store.releases.get(releaseId).number };
  } catch (error) {
    if (error instanceof NotFoundError) return {};
    throw error;
  }
}
