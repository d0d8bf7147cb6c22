import type { TeardownResult } from '../deploy/deployment-controller.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { UNFINISHED_RUN_STATUSES } from '../pipeline/run.js';
import { parseDuration } from '../shared/durations.js';
import { ConflictError } from '../shared/errors.js';
import {
  createBareRepository,
  isBareRepository,
  repositoryPath,
  validateRepositoryName,
} from '../source/hosted-repository.js';
import { validateRefName } from '../source/ref-name.js';
import { validateRepositoryUrl } from '../source/repository-url.js';
import type { Service } from '../store/service-repository.js';
import { principalOf } from './auth.js';
import { checkedBy, parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import { pushUrlOf, serviceView } from './views.js';

export const DEFAULT_POLL_INTERVAL_MS = 60_000;
/** Polling more often than this loads the remote more than it helps anyone. */
export const MIN_POLL_INTERVAL_MS = 10_000;
/** A webhook secret anyone could guess is no authentication. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** More unfinished runs than this for one service would be a bug elsewhere. */
const MAX_CANCELLED_ON_DELETE = 10_000;

export const serviceName = z.string().superRefine(checkedBy(validateRepositoryName));
export const nameParams = z.object({ name: serviceName });

const branchName = z
  .string()
  .superRefine(checkedBy((branch) => validateRefName(`refs/heads/${branch}`)));

const pollInterval = z.union([z.string(), z.number()]).transform((value, context) => {
  const ms = parseDuration(value);
  if (ms === undefined || ms < MIN_POLL_INTERVAL_MS) {
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message: `is a duration such as 30s, 1m or 1h, at least ${MIN_POLL_INTERVAL_MS / 1000}s`,
    });
    return z.NEVER;
  }
  return ms;
});

const createServiceBody = z
  .object({
    name: serviceName,
    repository: z
      .object({ url: z.string().superRefine(checkedBy(validateRepositoryUrl)) })
      .strict(),
    pollInterval: pollInterval.optional(),
    webhookSecret: z
      .string()
      .min(
        MIN_WEBHOOK_SECRET_LENGTH,
        `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters (openssl rand -hex 20 makes one)`,
      )
      .max(256)
      .optional(),
    defaultBranch: branchName.optional(),
  })
  .strict();

const createRepoBody = z
  .object({ name: serviceName, defaultBranch: branchName.optional() })
  .strict();

const NOTHING_TAKEN_DOWN: TeardownResult = {
  environments: [],
  listeners: 0,
  targetGroups: 0,
  instances: 0,
};

export function registerServiceRoutes(app: FastifyInstance, context: RouteContext): void {
  const { deps, publicUrl } = context;
  const { services, runs } = deps.store;
  const view = (service: Service) =>
    serviceView(service, publicUrl(), runs.list({ service: service.name, limit: 1 })[0]);

  app.get('/api/services', { config: { access: 'viewer' } }, async () => ({
    services: services.list().map(view),
  }));

  app.get('/api/services/:name', { config: { access: 'viewer' } }, async (request) => {
    const { name } = parseInput(nameParams, request.params, 'path');
    return { service: view(services.get(name)) };
  });

  app.post('/api/services', { config: { access: 'admin' } }, async (request, reply) => {
    const body = parseInput(createServiceBody, request.body, 'body');
    const service = services.create({
      name: body.name,
      repository: { kind: 'external', url: body.repository.url },
      pollIntervalMs: body.pollInterval ?? DEFAULT_POLL_INTERVAL_MS,
      ...(body.webhookSecret === undefined ? {} : { webhookSecret: body.webhookSecret }),
      ...(body.defaultBranch === undefined ? {} : { defaultBranch: body.defaultBranch }),
    });
    try {
      deps.sources.watch(service);
    } catch (error) {
      // A service nobody polls would look configured and never run: take it back.
      services.delete(service.name);
      throw error;
    }
    request.log.info(
      { service: service.name, actor: principalOf(request).name },
      'service created',
    );
    void reply.code(201);
    return { service: view(service) };
  });

  app.delete('/api/services/:name', { config: { access: 'admin' } }, async (request) => {
    const { name } = parseInput(nameParams, request.params, 'path');
    const service = services.get(name);
    const actor = principalOf(request).name;
    let cancelled = 0;
    const cancelRuns = async (): Promise<void> => {
      const unfinished = runs.list({
        service: name,
        status: UNFINISHED_RUN_STATUSES,
        limit: MAX_CANCELLED_ON_DELETE,
      });
      for (const run of unfinished) {
        try {
          // Cancelling a run aborts the deployment it started.
          await deps.orchestrator.cancel(run.id, actor);
          cancelled++;
        } catch (error) {
          // It finished between the listing and the cancel.
          if (!(error instanceof ConflictError)) throw error;
        }
      }
    };
    const remove = (): void => {
      if (service.repository.kind === 'external') deps.sources.unwatch(name);
      services.delete(name);
    };
    let takenDown = NOTHING_TAKEN_DOWN;
    if (deps.deployer === undefined) {
      await cancelRuns();
      remove();
    } else {
      // Refused, with nothing changed, when what it serves cannot be taken down; no
      // deployment of the service starts meanwhile.
      takenDown = await deps.deployer.takeDown(name, actor, { before: cancelRuns, remove });
    }
    request.log.info(
      { service: name, actor, cancelledRuns: cancelled, ...takenDown },
      'service deleted',
    );
    // A hosted repository stays on disk: deleting a service must not destroy code.
    return { deleted: name, cancelledRuns: cancelled, takenDown };
  });

  app.post('/api/repos', { config: { access: 'admin' } }, async (request, reply) => {
    const body = parseInput(createRepoBody, request.body, 'body');
    if (services.list().some((service) => service.name === body.name)) {
      throw new ConflictError(`service ${body.name} already exists`);
    }
    const path = await createOrAdopt(deps.repositoriesRoot, body.name);
    const service = services.create({
      name: body.name,
      repository: { kind: 'hosted', path },
      ...(body.defaultBranch === undefined ? {} : { defaultBranch: body.defaultBranch }),
    });
    request.log.info(
      { service: service.name, actor: principalOf(request).name },
      'repository created',
    );
    void reply.code(201);
    return {
      name: service.name,
      pushUrl: pushUrlOf(publicUrl(), service.name),
      service: view(service),
    };
  });
}

/**
 * Makes the bare repository, or takes over one left by a deleted service of the same name
 * (deleting a service keeps its code).
 */
async function createOrAdopt(root: string, name: string): Promise<string> {
  try {
    return (await createBareRepository(root, name)).path;
  } catch (error) {
    const path = repositoryPath(root, name);
    if (error instanceof ConflictError && (await isBareRepository(path))) return path;
    throw error;
  }
}
