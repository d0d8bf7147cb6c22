import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ServerFixture } from '../../test/support/server-fixture.js';
import type { Access } from './auth.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const operationSchema = z
  .object({
    'x-phoenix-role': z.enum(['public', 'viewer', 'developer', 'admin']),
    security: z.array(z.record(z.array(z.string()))).optional(),
    responses: z.record(z.unknown()),
  })
  .passthrough();

const documentSchema = z.object({
  openapi: z.string().startsWith('3.1'),
  paths: z.record(z.record(z.unknown())),
  components: z.record(z.record(z.unknown())),
});

interface RegisteredRoute {
  method: string;
  url: string;
  access: Access | undefined;
}

/** `/api/runs/:id` → `/api/runs/{id}` */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner),
  );
}

describe('docs/openapi.yaml', () => {
  const document = documentSchema.parse(
    parse(readFileSync(new URL('../../docs/openapi.yaml', import.meta.url), 'utf8')),
  );
  const routes: RegisteredRoute[] = [];
  let f: ServerFixture;
  let app: FastifyInstance;

  beforeAll(async () => {
    f = new ServerFixture();
    app = f.start();
    // Routes are registered in plugins, so this hook sees every one of them.
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        routes.push({ method, url: route.url, access: route.config?.access });
      }
    });
    await app.ready();
  });

  afterAll(async () => {
    await f.close();
  });

  function operation(method: string, url: string) {
    return document.paths[openApiPath(url)]?.[method.toLowerCase()];
  }

  it('sees the routes', () => {
    expect(routes.length).toBeGreaterThan(20);
  });

  it('documents every route the server registers, with its role', () => {
    const problems: string[] = [];
    for (const route of routes) {
      const documented = operation(route.method, route.url);
      if (documented === undefined) {
        problems.push(`${route.method} ${route.url} is not documented`);
        continue;
      }
      const { 'x-phoenix-role': role, security } = operationSchema.parse(documented);
      const allowed = typeof route.access === 'function' ? ['viewer', 'developer'] : [route.access];
      if (!allowed.includes(role)) {
        problems.push(
          `${route.method} ${route.url}: x-phoenix-role ${role}, server says ${String(route.access)}`,
        );
      }
      const bearerFree = security !== undefined && security.every((s) => !('bearerAuth' in s));
      if (role === 'public' && !bearerFree) {
        problems.push(`${route.method} ${route.url} is public but documented as needing a token`);
      }
      if (role !== 'public' && security?.length === 0) {
        problems.push(`${route.method} ${route.url} needs a token but is documented without one`);
      }
    }

    expect(problems).toEqual([]);
  });

  it('documents no route the server does not have', () => {
    const registered = new Set(
      routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`),
    );
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method] !== undefined).map((method) => `${method} ${path}`),
    );

    expect(documented.filter((entry) => !registered.has(entry))).toEqual([]);
  });

  it('refuses every route to a token below its role, and every guarded route without a token', async () => {
    const viewer = f.token('viewer', 'vic');
    const problems: string[] = [];
    for (const route of routes) {
      if (route.access === 'public' || route.method === 'HEAD') continue;
      // Any value stands for a path parameter: access is decided before input is read.
      const url = route.url.replace(/:[A-Za-z0-9_]+/g, 'x').replace(/\*$/, 'x');
      const anonymous = await app.inject({ method: route.method as 'GET', url });
      if (anonymous.statusCode !== 401) {
        problems.push(`${route.method} ${route.url} without a token: ${anonymous.statusCode}`);
      }
      if (route.access !== 'developer' && route.access !== 'admin') continue;
      const below = await app.inject({
        method: route.method as 'GET',
        url,
        headers: { authorization: `Bearer ${viewer}` },
      });
      if (below.statusCode !== 403) {
        problems.push(`${route.method} ${route.url} with a viewer token: ${below.statusCode}`);
      }
    }

    expect(
      routes.filter((r) => r.access === 'developer' || r.access === 'admin').length,
    ).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('resolves every $ref', () => {
    const missing = refsIn(document).filter((ref) => {
      const [, section, name] = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref) ?? [];
      return (
        section === undefined ||
        name === undefined ||
        document.components[section]?.[name] === undefined
      );
    });

    expect(missing).toEqual([]);
  });
});
