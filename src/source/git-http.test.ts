import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, watch } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFiles, git, gitRepo, tempDir, userGitEnv } from '../../test/support/git-fixture.js';
import { handleGitHttp, type GitHttpOutcome } from './git-http.js';
import { createBareRepository, listRefs } from './hosted-repository.js';

const ZERO = '0'.repeat(40);
const USER = 'alice';
const TOKEN = 'phx_test-token';

/** A real HTTP server that checks basic auth itself, as Phoenix's server will, then hands over. */
class GitServer {
  readonly handled: Promise<GitHttpOutcome>[] = [];
  private readonly server: Server;

  constructor(
    private readonly root: string,
    private readonly maxBodyBytes?: number,
  ) {
    this.server = createServer((request, response) => {
      const match = /^\/git\/([^/?]+)\.git(\/[^?]*)/.exec(request.url ?? '');
      if (match?.[1] === undefined || match[2] === undefined) {
        response.writeHead(404).end();
        return;
      }
      if (!this.authorized(request.headers.authorization)) {
        response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="phoenix"' }).end();
        return;
      }
      this.handled.push(
        handleGitHttp({
          request,
          response,
          repositoriesRoot: this.root,
          repositoryName: match[1],
          pathInfo: match[2],
          remoteUser: USER,
          ...(this.maxBodyBytes === undefined ? {} : { maxBodyBytes: this.maxBodyBytes }),
        }),
      );
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(name: string, password = TOKEN): string {
    return `http://${USER}:${password}@127.0.0.1:${this.port}/git/${name}.git`;
  }

  /** Outcomes of every request that reached handleGitHttp while `action` ran. */
  async outcomesOf(action: () => Promise<unknown>): Promise<GitHttpOutcome[]> {
    const first = this.handled.length;
    await action();
    return Promise.all(this.handled.slice(first));
  }

  private authorized(header: string | undefined): boolean {
    const expected = basicAuth();
    return header === expected;
  }
}

function basicAuth(password = TOKEN): string {
  return `Basic ${Buffer.from(`${USER}:${password}`).toString('base64')}`;
}

function pkt(text: string): string {
  return (text.length + 4).toString(16).padStart(4, '0') + text;
}

/** Resolves once receive-pack has made its quarantine: it has read the commands and waits for the pack. */
function quarantineCreated(bare: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(join(bare, 'objects'), (_event, name) => {
      if (name?.startsWith('tmp_objdir-incoming') === true) {
        watcher.close();
        resolve();
      }
    });
  });
}

function pushesIn(outcomes: GitHttpOutcome[]): GitHttpOutcome['pushed'] {
  return outcomes.filter((outcome) => outcome.service === 'receive-pack').flatMap((o) => o.pushed);
}

describe('handleGitHttp', () => {
  let dir: ReturnType<typeof tempDir>;
  let root: string;
  let work: string;
  let server: GitServer;
  let bare: string;

  /** git as a user runs it: no prompts, no credential helpers, no personal config. */
  function client(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        ['-c', 'credential.helper=', ...args],
        {
          cwd,
          maxBuffer: 16 * 1024 * 1024,
          env: userGitEnv(dir.path),
        },
        (error, stdout, stderr) => {
          if (error === null) resolve({ stdout, stderr });
          else reject(Object.assign(error, { stderr }));
        },
      );
    });
  }

  beforeEach(async () => {
    dir = tempDir();
    root = join(dir.path, 'repos');
    work = join(dir.path, 'work');
    bare = (await createBareRepository(root, 'shop')).path;
  });

  afterEach(async () => {
    await server.close();
    dir.remove();
  });

  async function serve(maxBodyBytes?: number): Promise<GitServer> {
    server = new GitServer(root, maxBodyBytes);
    await server.start();
    return server;
  }

  it('reports created, updated and deleted refs for real pushes, and serves clones', async () => {
    await serve();
    const first = gitRepo(work, { 'README.md': 'hello\n' });
    git(work, 'remote', 'add', 'origin', server.url('shop'));

    const created = await server.outcomesOf(() => client(work, 'push', '-q', 'origin', 'main'));
    const second = commitFiles(work, { 'src/app.ts': 'export {};\n' });
    const updated = await server.outcomesOf(() => client(work, 'push', '-q', 'origin', 'main'));
    git(work, 'tag', '-a', '-m', 'first release', 'v1.0.0', first);
    const tagged = await server.outcomesOf(() => client(work, 'push', '-q', 'origin', 'v1.0.0'));
    git(work, 'branch', 'feature/login', first);
    const branched = await server.outcomesOf(() =>
      client(work, 'push', '-q', 'origin', 'feature/login'),
    );
    const deleted = await server.outcomesOf(() =>
      client(work, 'push', '-q', 'origin', '--delete', 'feature/login'),
    );

    expect(pushesIn(created)).toEqual([{ ref: 'refs/heads/main', before: ZERO, after: first }]);
    expect(pushesIn(updated)).toEqual([{ ref: 'refs/heads/main', before: first, after: second }]);
    expect(pushesIn(tagged)).toEqual([{ ref: 'refs/tags/v1.0.0', before: ZERO, after: first }]);
    expect(pushesIn(branched)).toEqual([
      { ref: 'refs/heads/feature/login', before: ZERO, after: first },
    ]);
    expect(pushesIn(deleted)).toEqual([
      { ref: 'refs/heads/feature/login', before: first, after: ZERO },
    ]);
    expect(created.map((o) => o.service)).toEqual(['info-refs', 'receive-pack']);
    expect([...created, ...updated, ...deleted].every((o) => o.status === 200)).toBe(true);
    expect(git(bare, 'log', '-1', '--format=%gn', '-g', 'refs/heads/main')).toBe(USER);

    const clone = join(dir.path, 'clone');
    const cloned = await server.outcomesOf(() =>
      client(dir.path, 'clone', '-q', server.url('shop'), clone),
    );

    expect(git(clone, 'rev-parse', 'HEAD')).toBe(second);
    expect(git(clone, 'log', '--format=%H', 'origin/main')).toBe(`${second}\n${first}`);
    expect(git(clone, 'rev-parse', 'v1.0.0^{commit}')).toBe(first);
    expect(readFileSync(join(clone, 'src/app.ts'), 'utf8')).toBe('export {};\n');
    expect(cloned[0]?.service).toBe('info-refs');
    expect(new Set(cloned.slice(1).map((o) => o.service))).toEqual(new Set(['upload-pack']));
    expect(cloned.flatMap((o) => o.pushed)).toEqual([]);
  });

  it('never reaches the backend with a wrong password', async () => {
    await serve();
    gitRepo(work, { 'README.md': 'hello\n' });

    const outcomes = await server.outcomesOf(() =>
      expect(client(work, 'push', '-q', server.url('shop', 'wrong'), 'main')).rejects.toMatchObject(
        {
          stderr: expect.stringMatching(/Authentication failed/),
        },
      ),
    );

    expect(outcomes).toEqual([]);
    expect(await listRefs(bare)).toEqual(new Map());
  });

  it('takes a push of several megabytes (streamed in chunks) and gives it back', async () => {
    await serve();
    const files: Record<string, string> = {};
    for (let index = 0; index < 4; index += 1) {
      files[`blob-${index}.bin`] = randomBytes(1024 * 1024).toString('base64');
    }
    const commit = gitRepo(work, files);

    const outcomes = await server.outcomesOf(() =>
      client(work, 'push', '-q', server.url('shop'), 'main'),
    );
    const clone = join(dir.path, 'clone');
    await client(dir.path, 'clone', '-q', server.url('shop'), clone);

    expect(pushesIn(outcomes)).toEqual([{ ref: 'refs/heads/main', before: ZERO, after: commit }]);
    expect(git(clone, 'rev-parse', 'HEAD')).toBe(commit);
    expect(readFileSync(join(clone, 'blob-3.bin'), 'utf8')).toBe(files['blob-3.bin']);
  });

  it('refuses a small push over the limit by its declared length (413)', async () => {
    await serve(1024);
    gitRepo(work, { 'data.txt': randomBytes(8 * 1024).toString('hex') });

    const outcomes = await server.outcomesOf(() =>
      expect(client(work, 'push', '-q', server.url('shop'), 'main')).rejects.toThrow(),
    );

    expect(outcomes.find((o) => o.service === 'receive-pack')).toMatchObject({
      status: 413,
      pushed: [],
    });
    expect(await listRefs(bare)).toEqual(new Map());
  });

  it('refuses a chunked push once it passes the limit (413) and stores nothing', async () => {
    await serve(512 * 1024);
    gitRepo(work, { 'data.bin': randomBytes(3 * 1024 * 1024).toString('base64') });

    const outcomes = await server.outcomesOf(() =>
      expect(client(work, 'push', '-q', server.url('shop'), 'main')).rejects.toThrow(),
    );

    expect(outcomes.filter((o) => o.status === 413)).toHaveLength(1);
    expect(outcomes.flatMap((o) => o.pushed)).toEqual([]);
    expect(await listRefs(bare)).toEqual(new Map());
  });

  it('reports only its own refs when two pushes to one repository overlap', async () => {
    await serve();
    gitRepo(work, { 'a.txt': 'a' });
    await client(work, 'push', '-q', server.url('shop'), 'main');
    const other = join(dir.path, 'other');
    await client(dir.path, 'clone', '-q', server.url('shop'), other);
    const left = commitFiles(work, { 'left.txt': randomBytes(256 * 1024).toString('hex') });
    git(other, 'checkout', '-q', '-b', 'right');
    const right = commitFiles(other, { 'right.txt': randomBytes(256 * 1024).toString('hex') });

    const outcomes = await server.outcomesOf(() =>
      Promise.all([
        client(work, 'push', '-q', server.url('shop'), 'main:left'),
        client(other, 'push', '-q', 'origin', 'right'),
      ]),
    );

    const pushes = outcomes.filter((o) => o.service === 'receive-pack' && o.pushed.length > 0);
    expect(
      pushes.map((o) => o.pushed).sort((a, b) => (a[0]?.ref ?? '').localeCompare(b[0]?.ref ?? '')),
    ).toEqual([
      [{ ref: 'refs/heads/left', before: ZERO, after: left }],
      [{ ref: 'refs/heads/right', before: ZERO, after: right }],
    ]);
  });

  it('leaves out refs that another writer moved while the push was in flight', async () => {
    await serve();
    const first = gitRepo(work, { 'a.txt': 'a' });
    await client(work, 'push', '-q', server.url('shop'), 'main');
    const second = commitFiles(work, { 'b.txt': 'b' });
    const pack = execFileSync('git', ['pack-objects', '--stdout', '--revs'], {
      cwd: work,
      input: `${second}\n^${first}\n`,
    });
    const commands = Buffer.from(
      pkt(`${first} ${second} refs/heads/main\0report-status\n`) + '0000',
    );
    const quarantined = quarantineCreated(bare);
    const request = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      method: 'POST',
      path: '/git/shop.git/git-receive-pack',
      headers: {
        authorization: basicAuth(),
        'content-type': 'application/x-git-receive-pack-request',
        'content-length': String(commands.length + pack.length),
      },
    });
    const answered = new Promise<number | undefined>((resolve, reject) => {
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      });
      request.on('error', reject);
    });

    request.write(Buffer.concat([commands, pack.subarray(0, 12)]));
    await quarantined;
    git(bare, 'update-ref', 'refs/heads/sneaky', first);
    request.end(pack.subarray(12));
    const status = await answered;
    const outcome = await server.handled.at(-1);

    expect(status).toBe(200);
    expect(outcome?.pushed).toEqual([{ ref: 'refs/heads/main', before: first, after: second }]);
    expect(await listRefs(bare)).toEqual(
      new Map([
        ['refs/heads/main', second],
        ['refs/heads/sneaky', first],
      ]),
    );
  });

  describe('requests git would not make', () => {
    function send(
      path: string,
      init: { method?: string; headers?: Record<string, string>; body?: string } = {},
    ): Promise<{ status: number; text: string }> {
      return fetch(`http://127.0.0.1:${server.port}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: basicAuth(),
          ...init.headers,
        },
        ...(init.body === undefined ? {} : { body: init.body }),
      }).then(async (response) => ({ status: response.status, text: await response.text() }));
    }

    it.each([
      ['/git/shop.git/objects/info/packs', 'GET', 404, 'other'],
      ['/git/shop.git/HEAD', 'GET', 404, 'other'],
      ['/git/shop.git/info/refs/../../x', 'GET', 404, 'other'],
      ['/git/missing.git/info/refs?service=git-upload-pack', 'GET', 404, 'info-refs'],
      ['/git/Bad%20Name.git/info/refs?service=git-upload-pack', 'GET', 404, 'info-refs'],
      ['/git/shop.git/git-receive-pack', 'GET', 405, 'receive-pack'],
      ['/git/shop.git/info/refs', 'POST', 405, 'info-refs'],
    ])('%s %s answers %i', async (path, method, status, service) => {
      await serve();

      const outcomes = await server.outcomesOf(() => send(path, { method }));

      expect(outcomes).toEqual([{ service, status, pushed: [] }]);
    });

    it('advertises refs for a push to an empty repository', async () => {
      await serve();

      const response = await send('/git/shop.git/info/refs?service=git-receive-pack');

      expect(response.status).toBe(200);
      expect(response.text).toContain('# service=git-receive-pack');
      expect(response.text).toContain('capabilities^{}');
    });

    it('serves a gzip-compressed fetch request', async () => {
      await serve();
      const commit = gitRepo(work, { 'a.txt': 'a' });
      git(work, 'push', '-q', bare, 'main');
      const negotiation = pkt(`want ${commit} ofs-delta\n`) + '0000' + pkt('done\n');

      const response = await fetch(`http://127.0.0.1:${server.port}/git/shop.git/git-upload-pack`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(),
          'content-type': 'application/x-git-upload-pack-request',
          'content-encoding': 'gzip',
        },
        body: gzipSync(negotiation),
      });
      const answer = Buffer.from(await response.arrayBuffer());

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
      expect(answer.includes('PACK')).toBe(true);
    });

    it('refuses a body in an encoding git cannot read (415)', async () => {
      await serve();

      const outcomes = await server.outcomesOf(() =>
        send('/git/shop.git/git-upload-pack', {
          method: 'POST',
          headers: {
            'content-encoding': 'br',
            'content-type': 'application/x-git-upload-pack-request',
          },
          body: '0000',
        }),
      );

      expect(outcomes).toEqual([{ service: 'upload-pack', status: 415, pushed: [] }]);
    });

    it('stops a push whose client goes away, and takes the next push', async () => {
      await serve();
      const commit = gitRepo(work, { 'a.txt': 'a' });
      const quarantined = quarantineCreated(bare);
      const request = httpRequest({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/git/shop.git/git-receive-pack',
        headers: {
          authorization: basicAuth(),
          'content-type': 'application/x-git-receive-pack-request',
          'content-length': '1000000',
        },
      });
      request.on('error', () => undefined);
      // The commands and a pack header announcing one object, which never comes.
      request.write(
        Buffer.concat([
          Buffer.from(pkt(`${ZERO} ${commit} refs/heads/main\0report-status\n`) + '0000'),
          Buffer.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 1]),
        ]),
      );

      await quarantined;
      request.destroy();
      const outcome = await server.handled[0];

      expect(outcome).toEqual({
        service: 'receive-pack',
        status: 499,
        pushed: [],
        error: 'client disconnected',
      });
      // The outcome only settles once every backend process has exited: without the kill they
      // would wait for the rest of the body forever. Git 2.39 leaves the empty quarantine
      // folder behind when killed; `git gc` removes it, and it holds nothing the repo uses.
      expect(await listRefs(bare)).toEqual(new Map());
      expect(readdirSync(join(bare, 'refs', 'heads'))).toEqual([]);
      await client(work, 'push', '-q', server.url('shop'), 'main');
      expect(await listRefs(bare)).toEqual(new Map([['refs/heads/main', commit]]));
    });
  });

  it('passes nothing but a known service in the query string', async () => {
    await serve();
    const hostile =
      '/git/shop.git/info/refs?service=git-upload-pack%0Aevil&x=$(touch%20/tmp/pwned)';

    const response = await fetch(`http://127.0.0.1:${server.port}${hostile}`, {
      headers: { authorization: basicAuth() },
    });
    const [outcome] = await Promise.all(server.handled);

    expect(response.status).toBe(404);
    expect(outcome).toMatchObject({ service: 'info-refs', status: 404 });
  });
});
