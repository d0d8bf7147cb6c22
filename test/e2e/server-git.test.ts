import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFiles, userGitEnv } from '../support/git-fixture.js';
import { PHOENIX_YML } from '../support/pipeline-fixture.js';
import { ServerFixture } from '../support/server-fixture.js';

const PASSING =
  'version: 0.2\nphases:\n  build:\n    commands:\n      - echo "built $CODEBUILD_RESOLVED_SOURCE_VERSION"\n';

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('git over HTTP', () => {
  let f: ServerFixture;
  let base: string;

  /** git as a user runs it: no prompts, no credential helpers, no personal configuration. */
  function client(cwd: string, ...args: string[]): Promise<GitRun> {
    return new Promise((resolve) => {
      execFile(
        'git',
        ['-c', 'credential.helper=', ...args],
        { cwd, env: userGitEnv(f.dir.path) },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  function remote(password?: string): string {
    const url = new URL(`${base}/git/shop.git`);
    if (password !== undefined) {
      url.username = 'someone';
      url.password = password;
    }
    return url.toString();
  }

  async function cloneAs(password: string | undefined, folder: string): Promise<GitRun> {
    return client(f.dir.path, 'clone', '-q', remote(password), folder);
  }

  beforeEach(async () => {
    f = new ServerFixture();
    ({ base } = await f.listen());
  });

  afterEach(async () => {
    await f.close();
  });

  it('starts a run the moment a developer pushes, and it succeeds', async () => {
    await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    const clone = join(f.dir.path, 'clone');
    expect((await cloneAs(f.token('developer', 'alice'), clone)).code).toBe(0);
    const commit = commitFiles(clone, { 'src/app.js': 'console.log(1)\n' });
    const created = f.next((event) => event.type === 'run.created');

    const push = await client(clone, 'push', '-q', 'origin', 'main');
    const recorded = f.store.runs.list({ limit: 10 });
    const event = await created;

    expect(push).toMatchObject({ code: 0 });
    expect(recorded.map((run) => run.commit)).toEqual([commit]);
    if (event.type !== 'run.created') throw new Error('expected run.created');
    expect(event.run).toMatchObject({
      service: 'shop',
      commit,
      ref: 'refs/heads/main',
      trigger: { type: 'push', actor: 'alice' },
    });
    await f.orchestrator.whenFinished(event.run.id);
    expect(f.store.runs.get(event.run.id).status).toBe('succeeded');
    const metrics = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${f.token('viewer')}` },
    });
    expect(await metrics.text()).toContain(
      'phoenix_http_requests_total{method="POST",route="/git/:repo/git-receive-pack",status="200"} 1',
    );
  });

  it('starts runs for new branches and tags, none for deleted refs or ignored pushes', async () => {
    await f.init({
      'phoenix.yml': PHOENIX_YML("trigger:\n  branches: [main, 'feature/**']\n  tags: ['v*']\n"),
      'buildspec.yml': PASSING,
    });
    const clone = join(f.dir.path, 'clone');
    await cloneAs(f.token('developer', 'alice'), clone);

    await client(clone, 'push', '-q', 'origin', 'main:feature/x', 'main:wip/y');
    await client(clone, 'tag', 'v1.0.0');
    await client(clone, 'push', '-q', 'origin', 'v1.0.0');
    await client(clone, 'push', '-q', 'origin', ':feature/x');

    // A push returns once its runs are recorded: no waiting needed.
    const runs = f.store.runs.list({ limit: 10 });
    expect(runs.map((run) => run.ref).sort()).toEqual(['refs/heads/feature/x', 'refs/tags/v1.0.0']);
  });

  it('lets a viewer clone but not push', async () => {
    await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    const clone = join(f.dir.path, 'clone');

    const cloned = await cloneAs(f.token('viewer'), clone);
    commitFiles(clone, { 'x.txt': 'x' });
    const push = await client(clone, 'push', 'origin', 'main');

    expect(cloned.code).toBe(0);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('403');
    expect(f.store.runs.list({ limit: 10 })).toEqual([]);
  });

  it('asks for credentials with 401 and refuses wrong ones', async () => {
    await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });

    const anonymous = await cloneAs(undefined, join(f.dir.path, 'a'));
    const wrong = await cloneAs('phx_wrong', join(f.dir.path, 'b'));
    const raw = await fetch(`${base}/git/shop.git/info/refs?service=git-upload-pack`);

    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/could not read Username|Authentication failed/);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Authentication failed');
    expect(raw.status).toBe(401);
    expect(raw.headers.get('www-authenticate')).toBe('Basic realm="Phoenix"');
  });

  it('needs a developer token already for the first request of a push', async () => {
    await f.init({ 'phoenix.yml': PHOENIX_YML(), 'buildspec.yml': PASSING });
    const viewer = Buffer.from(`x:${f.token('viewer')}`).toString('base64');

    const response = await fetch(`${base}/git/shop.git/info/refs?service=git-receive-pack`, {
      headers: { authorization: `Basic ${viewer}` },
    });

    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('404s repositories that do not exist or cannot', async () => {
    const developer = Buffer.from(`x:${f.token('developer')}`).toString('base64');
    const headers = { authorization: `Basic ${developer}` };

    const missing = await fetch(`${base}/git/nope.git/info/refs?service=git-upload-pack`, {
      headers,
    });
    const traversal = await fetch(`${base}/git/..%2Fhome.git/info/refs?service=git-upload-pack`, {
      headers,
    });

    expect(missing.status).toBe(404);
    expect(traversal.status).toBe(404);
  });
});
