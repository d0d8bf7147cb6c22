import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE_BUILDSPEC, RELEASE_YML } from '../support/pipeline-fixture.js';
import { ServerFixture } from '../support/server-fixture.js';
import { CLI } from '../support/server-process.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `phoenix releases` and `phoenix release show`, compiled, against a real server. */
describe('phoenix releases', () => {
  const f = new ServerFixture();
  let base: string;
  let token: string;
  let commit: string;

  function phoenix(args: readonly string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: f.dir.path,
          PHOENIX_HOME: f.dir.path,
          PHOENIX_URL: base,
          PHOENIX_TOKEN: token,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  beforeAll(async () => {
    if (!existsSync(CLI))
      throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    ({ base } = await f.listen());
    token = f.token('viewer');
    commit = await f.init({ 'phoenix.yml': RELEASE_YML, 'buildspec.yml': RELEASE_BUILDSPEC });
    const run = await f.finished(await f.submit(commit));
    if (run.status !== 'succeeded') throw new Error(`run failed: ${run.reason ?? ''}`);
  });

  afterAll(async () => {
    await f.close();
  });

  it('lists releases as a table: number, id, commit, artifact, age', async () => {
    const result = await phoenix(['releases', 'shop']);

    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RELEASE +ID +COMMIT +ARTIFACT +AGE$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^#1 +rel_[0-9a-z]{17} +${commit.slice(0, 12)} +shop-web sha256:[0-9a-f]{12} +\\d+s ago$`,
      ),
    );
    expect(lines).toHaveLength(2);
  });

  it("prints the API's JSON with --json", async () => {
    const result = await phoenix(['releases', 'shop', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      releases: [{ number: 1, service: 'shop', commit, artifact: { name: 'shop-web' } }],
    });
  });

  it('shows one release by SERVICE#NUMBER, and by id as JSON', async () => {
    const byNumber = await phoenix(['release', 'show', 'shop#1']);
    const id = /rel_[0-9a-z]{17}/.exec(byNumber.stdout)?.[0] ?? 'none';
    const byId = await phoenix(['release', 'show', id, '--json']);

    expect(byNumber.code, byNumber.stderr).toBe(0);
    expect(byNumber.stdout).toContain(`shop release #1  ${id}`);
    expect(byNumber.stdout).toContain(`  commit    ${commit}`);
    expect(byNumber.stdout).toMatch(/ {2}artifact {2}shop-web sha256:[0-9a-f]{64}\n/);
    expect(byNumber.stdout).toContain('  start     node server.js (2 instances, port in $PORT)');
    expect(JSON.parse(byId.stdout)).toMatchObject({ release: { id, number: 1, commit } });
  });

  it('says so when a service has no releases, and fails for an unknown release', async () => {
    f.store.services.create({ name: 'empty', repository: { kind: 'hosted', path: '/empty' } });

    const none = await phoenix(['releases', 'empty']);
    const missing = await phoenix(['release', 'show', 'shop#9']);

    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^No releases of empty yet: /);
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'phoenix: Not Found: release shop#9 not found\n',
    });
  });
});
