import { createReadStream } from 'node:fs';
import { isFile } from '../shared/path-exists.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RUN_STATUSES, type Run, type Stage } from '../pipeline/run.js';
import { NotFoundError } from '../shared/errors.js';
import type { Store } from '../store/store.js';
import { principalOf } from './auth.js';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import { RunEventStream } from './run-event-stream.js';
import { serveEventStream } from './event-stream-route.js';
import { nameParams, serviceName } from './service-routes.js';
import { triggerRun, triggerBody } from './trigger.js';
import { runView } from './views.js';

export const DEFAULT_RUN_LIMIT = 20;
export const MAX_RUN_LIMIT = 200;

const statusList = z
  .string()
  .transform((text) => text.split(',').map((part) => part.trim()))
  .pipe(z.array(z.enum(RUN_STATUSES)).min(1));

const listQuery = z
  .object({
    service: serviceName.optional(),
    status: statusList.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_RUN_LIMIT).default(DEFAULT_RUN_LIMIT),
    before: z
      .string()
      .regex(/^r_[0-9a-z]{1,40}$/, 'is a run id')
      .optional(),
  })
  .strict();

/** A run id (`r_...`) or `service#number` (`shop#12`, `%23` in a URL). */
const runParams = z.object({
  id: z
    .string()
    .regex(
      /^(?:r_[0-9a-z]{1,40}|[a-z][a-z0-9-]{0,62}#[1-9]\d{0,9})$/,
      'is a run id (r_...) or service#number',
    ),
});

const numberParams = nameParams.extend({ number: z.coerce.number().int().min(1) });

const logQuery = z.object({ stage: z.coerce.number().int().min(0).optional() }).strict();

/** Finds a run by id or by `service#number`; NotFoundError otherwise. */
export function findRun(store: Store, reference: string): Run {
  const hash = reference.indexOf('#');
  if (hash === -1) return store.runs.get(reference);
  const service = reference.slice(0, hash);
  store.services.get(service);
  return store.runs.getByNumber(service, Number(reference.slice(hash + 1)));
}

export function registerRunRoutes(app: FastifyInstance, context: RouteContext): void {
  const { deps } = context;
  const { store, orchestrator } = deps;
  const runOf = (params: unknown): Run => findRun(store, parseInput(runParams, params, 'path').id);

  app.get('/api/runs', { config: { access: 'viewer' } }, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    if (query.service !== undefined) store.services.get(query.service);
    const runs = store.runs.list(query);
    const last = runs.at(-1);
    return {
      runs: runs.map(runView),
      ...(runs.length === query.limit && last !== undefined ? { next: last.id } : {}),
    };
  });

  app.get('/api/runs/:id', { config: { access: 'viewer' } }, async (request) => ({
    run: runView(runOf(request.params)),
  }));

  app.get('/api/services/:name/runs/:number', { config: { access: 'viewer' } }, async (request) => {
    const { name, number } = parseInput(numberParams, request.params, 'path');
    store.services.get(name);
    return { run: runView(store.runs.getByNumber(name, number)) };
  });

  app.post(
    '/api/services/:name/trigger',
    { config: { access: 'developer' } },
    async (request, reply) => {
      const { name } = parseInput(nameParams, request.params, 'path');
      const body = parseInput(triggerBody, request.body ?? {}, 'body');
      const result = await triggerRun(context, {
        service: store.services.get(name),
        body,
        actor: principalOf(request).name,
      });
      void reply.code('run' in result ? 201 : 200);
      return 'run' in result ? { run: runView(result.run) } : result;
    },
  );

  app.post('/api/runs/:id/cancel', { config: { access: 'developer' } }, async (request) => {
    const run = runOf(request.params);
    return { run: runView(await orchestrator.cancel(run.id, principalOf(request).name)) };
  });

  app.post('/api/runs/:id/retry', { config: { access: 'developer' } }, async (request) => {
    const run = runOf(request.params);
    return { run: runView(await orchestrator.retry(run.id, principalOf(request).name)) };
  });

  app.get('/api/runs/:id/logs', { config: { access: 'viewer' } }, async (request, reply) => {
    const run = runOf(request.params);
    const { stage: index } = parseInput(logQuery, request.query, 'query');
    const stage = index === undefined ? defaultLogStage(run) : run.stages[index];
    const label = `run ${run.service} #${run.number}`;
    if (stage === undefined) throw new NotFoundError(`${label} has no stage ${String(index)}`);
    const path = stage.logPath;
    if (path === undefined || !(await isFile(path))) {
      throw new NotFoundError(`${label} has no log for its ${stage.name} stage yet`);
    }
    return reply.type('text/plain; charset=utf-8').send(createReadStream(path));
  });

  app.get('/api/runs/:id/events', { config: { access: 'viewer' } }, async (request, reply) => {
    serveEventStream(
      request,
      reply,
      context,
      (start) =>
        new RunEventStream({
          runId: runOf(request.params).id,
          runs: store.runs,
          events: store.events,
          bus: deps.bus,
          ...start,
        }),
    );
  });
}

/** The build stage, else the last stage with a log, else the last stage. */
function defaultLogStage(run: Run): Stage | undefined {
  return (
    run.stages.find((stage) => stage.kind === 'build') ??
    run.stages.findLast((stage) => stage.logPath !== undefined) ??
    run.stages.at(-1)
  );
}
