import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitRepo, tempDir } from '../../test/support/git-fixture.js';
import type { LogLine } from '../build/build-log.js';
import { LocalExecutor } from '../build/local-executor.js';
import { silentLogger } from '../shared/logger.js';
import { openScratchStore, type ScratchStore } from '../store/testing/scratch-store.js';
import { SECRET_KEY_BYTES } from './secret-box.js';
import { SecretStore } from './secret-store.js';
import { withServiceSecrets } from './service-secrets-executor.js';

const BUILDSPEC = [
  'version: 0.2',
  'env:',
  '  secrets-manager:',
  '    DB_PASSWORD: prod/db:password',
  '  parameter-store:',
  '    API_TOKEN: /shop/api-token',
  'phases:',
  '  build:',
  '    commands:',
  '      - echo "db $DB_PASSWORD api $API_TOKEN"',
  '      - printf "%s\\n" "$DB_PASSWORD" >&2',
  // The first characters only, to see whose password it is: not the value, so not masked.
  '      - printf "%s" "$DB_PASSWORD" | cut -c1-4',
].join('\n');

/** Builds of a real buildspec by the local executor, with secrets from a real store. */
describe('withServiceSecrets', () => {
  let dir: ReturnType<typeof tempDir>;
  let scratch: ScratchStore;
  let secrets: SecretStore;
  let repo: string;

  beforeEach(async () => {
    dir = tempDir('phoenix-build-secrets-');
    repo = join(dir.path, 'repo');
    gitRepo(repo, { 'buildspec.yml': BUILDSPEC });
    scratch = await openScratchStore({
      prefix: 'phoenix-build-secrets-store-',
      now: Date.now,
      services: ['shop', 'billing'],
    });
    secrets = new SecretStore({
      repository: scratch.store.secrets,
      key: Buffer.alloc(SECRET_KEY_BYTES, 5),
    });
  });

  afterEach(async () => {
    await scratch.close();
    dir.remove();
  });

  async function build(project: string) {
    const lines: LogLine[] = [];
    const executor = withServiceSecrets({
      secrets,
      executorWith: (resolver) =>
        new LocalExecutor({
          home: join(dir.path, 'home'),
          secrets: resolver,
          logger: silentLogger(),
          hostEnv: { PATH: process.env['PATH'] },
        }),
    });
    const summary = await executor.run({
      sourceDirectory: repo,
      project,
      onLog: (line) => lines.push(line),
    });
    const output = lines.filter((line) => line.stream !== 'system').map((line) => line.text);
    return { summary, output, log: readFileSync(summary.logFile, 'utf8') };
  }

  it("resolves buildspec references to the build's service's secrets, masked in every log line", async () => {
    secrets.set({
      name: 'prod/db',
      value: '{"user":"shop","password":"pa55-for-shop"}',
      actor: 'alice',
    });
    secrets.set({
      name: 'prod/db',
      service: 'shop',
      value: '{"user":"shop","password":"shop-only-pa55"}',
      actor: 'alice',
    });
    secrets.set({
      name: 'shop/api-token',
      service: 'shop',
      value: 'tok-3f9a1c2b4d',
      actor: 'alice',
    });

    const { summary, output, log } = await build('shop');

    expect(summary.status, summary.reason).toBe('SUCCEEDED');
    expect(output).toEqual(['db *** api ***', '***', 'shop']);
    expect(log).not.toContain('shop-only-pa55');
    expect(log).not.toContain('tok-3f9a1c2b4d');
  });

  it("refuses a build whose references name another service's secrets, before it runs", async () => {
    secrets.set({ name: 'prod/db', value: '{"password":"pa55-for-all"}', actor: 'alice' });
    secrets.set({ name: 'shop/api-token', service: 'shop', value: 'tok-3f9a1c2b4d', actor: 'a' });

    const { summary, output } = await build('billing');

    expect(summary.status).toBe('FAILED');
    expect(summary.reason).toMatch(
      /^UNSUPPORTED_BUILDSPEC: buildspec.yml:6:16: env.parameter-store.API_TOKEN: no Phoenix secret "shop\/api-token" for service billing or for all services: set it with `phoenix secret set shop\/api-token --service billing`$/,
    );
    expect(output).toEqual([]);
  });
});
