import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ServerDeps } from '../../src/server/http-server.js';
import { repositoryPath } from '../../src/source/hosted-repository.js';
import { PHOENIX_YML } from '../support/pipeline-fixture.js';
import { ServerFixture } from '../support/server-fixture.js';

const PASSING = 'version: 0.2\nphases:\n  build:\n    commands:\n      - echo built\n';
/** The package is a JSON file: required, not imported, so that plain Node reads it too. */
const examples: WebhookDefinition[] = createRequire(import.meta.url)('@octokit/webhooks-examples');
const SECRET = 'It-is-a-webhook-secret-0123456789';

/** GitHub's own example deliveries, copied so that a test may point one at its commit. */
function example(event: string, index: number): Record<string, unknown> {
  const definition = examples.find((candidate) => candidate.name === event);
  const payload = definition?.examples[index];
  if (payload === undefined) throw new Error(`no example ${event}[${index}]`);
  return z.record(z.unknown()).parse(structuredClone(payload));
}

function sign(body: string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('POST /hooks/github', () => {
  let f: ServerFixture;
  let app: FastifyInstance;
  let commit: string;
  let fetched: string[];

  function start(overrides: Partial<ServerDeps> = {}): FastifyInstance {
    return f.start({
      // The fixture's repository plays the service's mirror, as the orchestrator reads it.
      repositoryOf: (service) => repositoryPath(f.repositories, service.name),
      fetchExternal: async (service) => {
        fetched.push(service.name);
      },
      ...overrides,
    });
  }

  function deliver(
    event: string,
    payload: unknown,
    options: { signature?: string | null; form?: boolean } = {},
  ) {
    const json = JSON.stringify(payload);
    const body = options.form ? `payload=${encodeURIComponent(json)}` : json;
    const headers: Record<string, string> = {
      'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
      'x-github-event': event,
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    };
    const signature = options.signature === undefined ? sign(body) : options.signature;
    if (signature !== null) headers['x-hub-signature-256'] = signature;
    return app.inject({ method: 'POST', url: '/hooks/github', headers, payload: body });
  }

  /** The master-branch push example, moved to a commit the repository has. */
  function pushOf(target: string): Record<string, unknown> {
    const payload = example('push', 4);
    payload['after'] = target;
    return payload;
  }

  beforeEach(async () => {
    f = new ServerFixture();
    fetched = [];
    commit = await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    f.store.services.update('shop', {
      repository: { kind: 'external', url: 'https://github.com/Codertocat/Hello-World.git' },
      webhookSecret: SECRET,
    });
    app = start();
    await app.ready();
  });

  afterEach(async () => {
    await f.close();
  });

  it('starts a run for a signed push of a commit the repository has', async () => {
    const response = await deliver('push', pushOf(commit));

    expect(response.statusCode).toBe(201);
    const [result] = response.json().results;
    expect(result).toMatchObject({ service: 'shop', run: { number: 1, commit } });
    const run = await f.finished(f.store.runs.get(result.run.id));
    expect(run).toMatchObject({
      status: 'succeeded',
      ref: 'refs/heads/master',
      trigger: {
        type: 'webhook',
        actor: 'Codertocat',
        detail: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      },
    });
    expect(fetched).toEqual(['shop']);
  });

  it('reads form-encoded deliveries too', async () => {
    const response = await deliver('push', pushOf(commit), { form: true });

    expect(response.statusCode).toBe(201);
    await f.finished(f.store.runs.get(response.json().results[0].run.id));
  });

  it('accepts a push whose commit is not here yet, leaving it to polling', async () => {
    const response = await deliver('push', example('push', 4));

    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({
      accepted: true,
      results: [{ service: 'shop', note: expect.stringContaining('polling will start its run') }],
    });
    expect(fetched).toEqual(['shop']);
    expect(f.store.runs.list({ limit: 10 })).toEqual([]);
  });

  it.each([
    ['a wrong signature', sign('something else')],
    ['another secret', undefined],
    ['no signature', null],
    ['a malformed signature', 'sha256=xyz'],
  ])('refuses %s with 401 and starts nothing', async (_case, signature) => {
    const payload = pushOf(commit);
    const body = JSON.stringify(payload);

    const response = await deliver('push', payload, {
      signature: signature === undefined ? sign(body, 'not-the-secret-at-all') : signature,
    });

    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect(response.json().detail).toContain('nothing was started');
    expect(f.store.runs.list({ limit: 10 })).toEqual([]);
    expect(fetched).toEqual([]);
  });

  it('tells the operator to configure a secret when the service has none', async () => {
    f.store.services.update('shop', { webhookSecret: null });

    const response = await deliver('push', pushOf(commit));

    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toContain('has no webhook secret: configure one');
  });

  it('answers ping with the zen, matching an ssh URL', async () => {
    f.store.services.update('shop', {
      repository: { kind: 'external', url: 'git@github.com:Octocoders/Hello-World.git' },
    });

    const response = await deliver('ping', example('ping', 0));

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      ok: true,
      zen: 'Anything added dilutes everything else.',
      services: ['shop'],
    });
  });

  it('404s deliveries for a repository no service builds', async () => {
    const response = await deliver('ping', example('ping', 0));

    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toBe(
      'no service is built from Octocoders/Hello-World: create one with that repository URL first',
    );
  });

  it('ignores deleted refs and other events politely', async () => {
    const deleted = await deliver('push', example('push', 1));
    const issues = await deliver('issues', example('issues', 0));

    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({ ignored: 'refs/tags/simple-tag was deleted' });
    expect(issues.statusCode).toBe(202);
    expect(issues.json()).toEqual({ ignored: 'issues' });
    expect(f.store.runs.list({ limit: 10 })).toEqual([]);
  });

  it('refuses a payload that names a bad ref with 400, after checking the signature', async () => {
    const payload = pushOf(commit);
    payload['ref'] = 'refs/heads/--upload-pack=evil';

    const response = await deliver('push', payload);

    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0]).toMatchObject({ field: 'ref' });
  });

  it('refuses deliveries over the size limit with 413', async () => {
    await app.close();
    app = start({ maxWebhookBytes: 4096 });

    const response = await deliver('push', pushOf(commit));

    expect(response.statusCode).toBe(413);
    expect(response.json().type).toBe('urn:phoenix:problem:payload-too-large');
  });
});
