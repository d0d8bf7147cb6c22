import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Release } from '../release/release.js';
import type { Store } from '../store/store.js';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';
import { nameParams } from './service-routes.js';
import { releaseView } from './views.js';

export const DEFAULT_RELEASE_LIMIT = 20;
export const MAX_RELEASE_LIMIT = 200;

const RELEASE_ID = /^rel_[0-9a-z]{1,40}$/;

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_RELEASE_LIMIT).default(DEFAULT_RELEASE_LIMIT),
    before: z.string().regex(RELEASE_ID, 'is a release id').optional(),
  })
  .strict();

/** A release id (`rel_...`) or `service#number` (`shop#3`, `%23` in a URL). */
const releaseParams = z.object({
  id: z
    .string()
    .regex(
      /^(?:rel_[0-9a-z]{1,40}|[a-z][a-z0-9-]{0,62}#[1-9]\d{0,9})$/,
      'is a release id (rel_...) or service#number',
    ),
});

/** Finds a release by id or by `service#number`; NotFoundError otherwise. */
export function findRelease(store: Store, reference: string): Release {
  const hash = reference.indexOf('#');
  if (hash === -1) return store.releases.get(reference);
  const service = reference.slice(0, hash);
  store.services.get(service);
  return store.releases.getByNumber(service, Number(reference.slice(hash + 1)));
}

export function registerReleaseRoutes(app: FastifyInstance, context: RouteContext): void {
  const { store } = context.deps;

  app.get('/api/services/:name/releases', { config: { access: 'viewer' } }, async (request) => {
    const { name } = parseInput(nameParams, request.params, 'path');
    const query = parseInput(listQuery, request.query, 'query');
    store.services.get(name);
    const releases = store.releases.list({ service: name, ...query });
    const last = releases.at(-1);
    return {
      releases: releases.map(releaseView),
      ...(releases.length === query.limit && last !== undefined ? { next: last.id } : {}),
    };
  });

  app.get('/api/releases/:id', { config: { access: 'viewer' } }, async (request) => {
    const { id } = parseInput(releaseParams, request.params, 'path');
    return { release: releaseView(findRelease(store, id)) };
  });
}
