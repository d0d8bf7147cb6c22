import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RELEASE_BUILDSPEC, RELEASE_YML } from '../support/pipeline-fixture.js';
import { ServerFixture } from '../support/server-fixture.js';

const buildOutput = z.object({
  artifacts: z.array(z.object({ id: z.string(), digest: z.string() })),
});

/** The releases API over a real pipeline: two runs, each recording a release. */
describe('releases over HTTP', () => {
  const f = new ServerFixture();
  let app: FastifyInstance;
  let viewer: string;
  const commits: string[] = [];
  const digests: string[] = [];

  beforeAll(async () => {
    app = f.start();
    viewer = f.token('viewer');
    await app.ready();
    commits.push(await f.init({ 'phoenix.yml': RELEASE_YML, 'buildspec.yml': RELEASE_BUILDSPEC }));
    commits.push(f.push({ 'README.md': 'second\n' }));
    for (const commit of commits) {
      const run = await f.finished(await f.submit(commit));
      if (run.status !== 'succeeded') throw new Error(`run failed: ${run.reason ?? ''}`);
      digests.push(buildOutput.parse(run.stages[1]?.output).artifacts[0]?.digest ?? '');
    }
  });

  afterAll(async () => {
    await f.close();
  });

  /** A GET as a viewer, or with no token at all (`null`). */
  function get(url: string, token: string | null = viewer) {
    return app.inject({
      method: 'GET',
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
  }

  it("lists a service's releases, newest first, to a viewer", async () => {
    const response = await get('/api/services/shop/releases');

    expect(response.statusCode).toBe(200);
    const { releases } = response.json<{ releases: { id: string; runId: string }[] }>();
    expect(releases).toMatchObject([
      { service: 'shop', number: 2, commit: commits[1], artifact: { digest: digests[1] } },
      {
        service: 'shop',
        number: 1,
        commit: commits[0],
        artifact: { name: 'shop-web', digest: digests[0] },
        config: { start: 'node server.js', portEnv: 'PORT', instances: 2 },
      },
    ]);
    expect(releases[1]).toMatchObject({
      url: `/api/releases/${releases[1]?.id}`,
      runUrl: `/api/runs/${releases[1]?.runId}`,
    });
    expect(response.json()).not.toHaveProperty('next');
  });

  it('pages with limit and the next cursor', async () => {
    const first = (await get('/api/services/shop/releases?limit=1')).json();
    const second = (await get(`/api/services/shop/releases?limit=1&before=${first.next}`)).json();

    expect(first.releases.map((r: { number: number }) => r.number)).toEqual([2]);
    expect(first.next).toBe(first.releases[0].id);
    expect(second.releases.map((r: { number: number }) => r.number)).toEqual([1]);
  });

  it('shows one release by id and by service#number, alike', async () => {
    const [latest] = (await get('/api/services/shop/releases?limit=1')).json().releases;

    const byId = await get(`/api/releases/${latest.id}`);
    const byNumber = await get('/api/releases/shop%232');

    expect(byId.statusCode).toBe(200);
    expect(byId.json()).toEqual({ release: latest });
    expect(byNumber.json()).toEqual(byId.json());
  });

  it('shows the release stage in the run that made it', async () => {
    const response = await get('/api/runs/shop%231');

    expect(response.json().run.stages[2]).toMatchObject({
      name: 'release',
      kind: 'release',
      status: 'succeeded',
      output: { number: 1, releaseId: expect.stringMatching(/^rel_/) },
    });
  });

  it.each(['/api/services/shop/releases', '/api/releases/shop%231'])(
    'GET %s: 401 without a token',
    async (url) => {
      const response = await get(url, null);

      expect(response.statusCode).toBe(401);
    },
  );

  it.each([
    ['/api/services/ghost/releases', 'service ghost not found'],
    ['/api/releases/rel_0000000000000000', 'release rel_0000000000000000 not found'],
    ['/api/releases/shop%2399', 'release shop#99 not found'],
    ['/api/releases/ghost%231', 'service ghost not found'],
    [
      '/api/services/shop/releases?before=rel_00000000',
      'release rel_00000000 of service shop not found',
    ],
  ])('GET %s: 404, %s', async (url, detail) => {
    const response = await get(url);

    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ type: 'urn:phoenix:problem:not-found', detail });
  });

  it.each([
    ['/api/releases/r_0000000000000000', 'id'],
    ['/api/services/shop/releases?limit=0', 'limit'],
    ['/api/services/shop/releases?before=r_000', 'before'],
    ['/api/services/shop/releases?status=failed', ''],
  ])('GET %s: 400 naming %j', async (url, field) => {
    const response = await get(url);

    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([expect.objectContaining({ field })]);
  });
});
