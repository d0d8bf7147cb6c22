import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerAccessControl } from './auth.js';
import { registerApprovalRoutes } from './approval-routes.js';
import { registerAuditLog } from './audit.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerNotificationRoutes } from './notification-routes.js';
import { registerSecretRoutes } from './secret-routes.js';
import { registerDeploymentRoutes } from './deployment-routes.js';
import { gitRoutes } from './git-routes.js';
import { githubHookRoutes } from './github-hook-routes.js';
import { DEFAULT_MAX_JSON_BYTES, registerJsonBody } from './json-body.js';
import { ServerMetrics } from './metrics.js';
import { registerProblemHandlers } from './problem.js';
import { registerReleaseRoutes } from './release-routes.js';
import type { RouteContext } from './route-context.js';
import { registerRunRoutes } from './run-routes.js';
import type { ServerDeps } from './server-deps.js';
import { registerServiceRoutes } from './service-routes.js';
import { defaultRepositoryOf } from './service-source.js';
import { registerTokenRoutes } from './token-routes.js';

export type { ServerDeps, SourceWatcher } from './server-deps.js';

/**
 * The control plane's HTTP API: JSON under /api, git smart HTTP under /git, forge webhooks
 * under /hooks, /health and /metrics. Returned ready to `listen()` (the caller picks the
 * port); `close()` ends open event streams and stops the metrics' bus subscription.
 *
 * Every route declares who may call it (`config.access`); routes are registered in plugins,
 * so hooks a caller adds before `ready()` (such as onRoute) see them all.
 */
export function createHttpServer(deps: ServerDeps): FastifyInstance {
  const maxJsonBytes = deps.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  // Typed as fastify's logger so that the instance keeps fastify's default generics.
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: maxJsonBytes,
    exposeHeadRoutes: false,
    return503OnClosing: true,
  });
  const context: RouteContext = {
    deps,
    metrics: new ServerMetrics({
      runs: deps.store.runs,
      bus: deps.bus,
      processMetrics: deps.processMetrics ?? true,
      ...(deps.deploymentMetrics === undefined ? {} : { deployments: deps.deploymentMetrics }),
    }),
    repositoryOf: deps.repositoryOf ?? defaultRepositoryOf,
    publicUrl: () => deps.publicUrl().replace(/\/+$/, ''),
    streams: new Set<{ close(): void }>(),
  };

  registerProblemHandlers(app);
  registerAccessControl(app, deps.store.tokens);
  registerJsonBody(app, maxJsonBytes);
  registerAuditLog(app, deps.store.audit);
  app.addHook('onResponse', async (request, reply) => {
    context.metrics.countRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
    );
  });
  app.addHook('preClose', async () => {
    for (const stream of context.streams) stream.close();
  });
  app.addHook('onClose', async () => context.metrics.close());

  void app.register(async (api) => {
    api.get('/health', { config: { access: 'public' } }, async () => ({
      status: 'ok',
      version: deps.version,
    }));
    api.get('/metrics', { config: { access: 'viewer' } }, async (_request, reply) =>
      reply.type(context.metrics.contentType).send(await context.metrics.render()),
    );
    registerTokenRoutes(api, context);
    registerServiceRoutes(api, context);
    registerRunRoutes(api, context);
    registerReleaseRoutes(api, context);
    registerDeploymentRoutes(api, context);
    registerApprovalRoutes(api, context);
    registerSecretRoutes(api, deps);
    registerAuditRoutes(api, context);
    registerNotificationRoutes(api, context);
  });
  void app.register(async (scope) => gitRoutes(scope, context));
  void app.register(async (scope) => githubHookRoutes(scope, context));
  return app;
}
