import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerFixture } from '../../test/support/server-fixture.js';
import type { AuditEntry } from '../store/audit-repository.js';

describe('the audit log', () => {
  let f: ServerFixture;
  let app: FastifyInstance;
  let admin: string;
  let viewer: string;

  beforeEach(async () => {
    f = new ServerFixture();
    app = f.start();
    await app.ready();
    admin = f.token('admin', 'ada');
    viewer = f.token('viewer', 'vic');
  });

  afterEach(async () => {
    await f.close();
  });

  function call(method: 'GET' | 'POST', url: string, token?: string, payload?: object) {
    return app.inject({
      method,
      url,
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
      ...(payload === undefined ? {} : { payload }),
    });
  }

  it('records every mutating request with who, what, where and how it ended; reads are not', async () => {
    await call('POST', '/api/tokens', admin, { name: 'ci', role: 'developer' });
    await call('POST', '/api/tokens', viewer, { name: 'sneaky', role: 'admin' });
    await call('POST', '/api/runs/shop%231/cancel');
    await call('GET', '/api/tokens', admin);

    const response = await call('GET', '/api/audit', admin);
    const entries = response.json<{ entries: AuditEntry[] }>().entries;

    expect(entries.map((e) => [e.actor, e.role, e.action, e.status])).toEqual([
      ['anonymous', undefined, 'POST /api/runs/:id/cancel', 401],
      ['vic', 'viewer', 'POST /api/tokens', 403],
      ['ada', 'admin', 'POST /api/tokens', 201],
    ]);
    expect(entries[0]).toMatchObject({ target: { id: 'shop#1' }, ip: '127.0.0.1' });
    expect(JSON.stringify(entries)).not.toContain('sneaky');
  });

  it('is for admins, filters by actor and pages back by id', async () => {
    for (const name of ['a', 'b', 'c']) {
      await call('POST', '/api/tokens', admin, { name, role: 'viewer' });
    }
    await call('POST', '/api/tokens', viewer, { name: 'x', role: 'viewer' });

    const byViewer = await call('GET', '/api/audit', viewer);
    const adas = (await call('GET', '/api/audit?actor=ada&limit=2', admin)).json<{
      entries: AuditEntry[];
    }>().entries;
    const older = (
      await call('GET', `/api/audit?actor=ada&before=${adas.at(-1)?.id ?? 0}`, admin)
    ).json<{ entries: AuditEntry[] }>().entries;

    expect(byViewer.statusCode).toBe(403);
    expect(adas).toHaveLength(2);
    expect(older).toHaveLength(1);
    expect([...adas, ...older].every((e) => e.actor === 'ada')).toBe(true);
  });

  it('cannot be changed: the database refuses UPDATE and DELETE', async () => {
    await call('POST', '/api/tokens', admin, { name: 'ci', role: 'developer' });

    expect(() => f.store.db.prepare("UPDATE audit_log SET actor = 'someone'").run()).toThrow(
      /append-only/,
    );
    expect(() => f.store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
  });
});

describe('bad input to the routes added for issues 5 and 6', () => {
  let f: ServerFixture;
  let app: FastifyInstance;
  let admin: string;

  beforeEach(async () => {
    f = new ServerFixture();
    app = f.start();
    await app.ready();
    admin = f.token('admin', 'ada');
  });

  afterEach(async () => {
    await f.close();
  });

  it.each([
    {
      method: 'POST',
      url: '/api/services/shop/rollback',
      payload: { environment: 'Prod!' },
      field: /environment/,
    },
    {
      method: 'POST',
      url: '/api/services/shop/rollback',
      payload: { environment: 'prod', to: 'x' },
      field: /to/,
    },
    { method: 'POST', url: '/api/deployments/nope/promote', payload: undefined, field: /id/ },
    { method: 'POST', url: '/api/deployments/nope/pause', payload: undefined, field: /id/ },
    { method: 'GET', url: '/api/audit?limit=0', payload: undefined, field: /limit/ },
    { method: 'GET', url: '/api/notifications?status=lost', payload: undefined, field: /status/ },
    { method: 'GET', url: '/api/approvals?service=Shop!', payload: undefined, field: /service/ },
    { method: 'GET', url: '/api/deployments/nope/events', payload: undefined, field: /id/ },
    {
      method: 'GET',
      url: '/api/deployments/dep_1/events?since=4',
      payload: undefined,
      field: /since/,
    },
    { method: 'GET', url: '/api/deployments/nope/logs', payload: undefined, field: /id/ },
    { method: 'GET', url: '/api/notifications?limit=5000', payload: undefined, field: /limit/ },
  ] as const)(
    'refuses $method $url with 400 naming the field',
    async ({ method, url, payload, field }) => {
      const response = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${admin}` },
        ...(payload === undefined ? {} : { payload }),
      });

      expect(response.statusCode).toBe(400);
      expect(JSON.stringify(response.json())).toMatch(field);
    },
  );
});
