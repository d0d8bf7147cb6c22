import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../shared/errors.js';
import {
  parseGitHubEvent,
  pushChangedPaths,
  verifyGitHubSignature,
  type GitHubEvent,
} from './github-webhook.js';

interface WebhookDefinition {
  name: string;
  examples: Record<string, unknown>[];
}

/** GitHub's own example deliveries, for github.com and each GitHub Enterprise Server release. */
function examples(event: string): [string, Record<string, unknown>][] {
  const require = createRequire(import.meta.url);
  const index = require.resolve('@octokit/webhooks-examples/api.github.com/index.json');
  const flavours = ['api.github.com', 'ghes-31', 'ghes-32', 'ghes-33', 'ghes-34', 'ghes-35'];
  return flavours.flatMap((flavour) => {
    const definitions = JSON.parse(
      readFileSync(index.replace('api.github.com', flavour), 'utf8'),
    ) as WebhookDefinition[];
    const examplesOf = definitions.find((definition) => definition.name === event)?.examples ?? [];
    return examplesOf.map((example, index): [string, Record<string, unknown>] => [
      `${flavour} #${index}`,
      example,
    ]);
  });
}

function body(payload: unknown): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

function sign(secret: string, payload: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
}

function validationKeys(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((issue) => issue.key);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const pushExamples = examples('push');
const pingExamples = examples('ping');

describe('verifyGitHubSignature', () => {
  const secret = "It's a Secret to Everybody";
  const payload = Buffer.from('Hello, World!');

  it('accepts GitHub’s documented example signature', () => {
    // From GitHub's "Validating webhook deliveries" guide.
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

    expect(verifyGitHubSignature(secret, payload, header)).toBe(true);
  });

  it('accepts upper-case hex', () => {
    const header = sign(secret, payload).toUpperCase().replace('SHA256=', 'sha256=');

    expect(verifyGitHubSignature(secret, payload, header)).toBe(true);
  });

  const good = sign(secret, payload);
  it.each([
    ['a wrong secret', sign('another secret', payload)],
    ['a truncated signature', good.slice(0, -2)],
    ['one more digit', `${good}0`],
    ['no prefix', good.slice('sha256='.length)],
    ['the sha1 prefix', good.replace('sha256=', 'sha1=')],
    ['a sha1 signature', `sha1=${createHmac('sha1', secret).update(payload).digest('hex')}`],
    ['non-hex digits', `sha256=${'z'.repeat(64)}`],
    ['spaces around it', ` ${good} `],
    ['an empty header', ''],
    ['no header', undefined],
    ['another body', sign(secret, Buffer.from('Hello, World?'))],
  ])('refuses %s', (_case, header) => {
    expect(verifyGitHubSignature(secret, payload, header)).toBe(false);
  });

  it('never verifies with an empty secret, even a correct HMAC of it', () => {
    expect(verifyGitHubSignature('', payload, sign('', payload))).toBe(false);
  });
});

describe('parseGitHubEvent with GitHub’s example payloads', () => {
  it('has examples to test with', () => {
    expect(pushExamples.length).toBeGreaterThanOrEqual(7);
    expect(pingExamples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(pushExamples)('reads push example %s', (_name, payload) => {
    const event = parseGitHubEvent('push', body(payload));

    const repository = payload['repository'] as { full_name: string; clone_url: string };
    const pusher = payload['pusher'] as { name: string };
    const headCommit = payload['head_commit'] as { message: string } | null;
    expect(event).toMatchObject({
      kind: 'push',
      ref: payload['ref'],
      before: payload['before'],
      after: payload['after'],
      repositoryFullName: repository.full_name,
      cloneUrl: repository.clone_url,
      pusher: pusher.name,
      deleted: payload['deleted'],
    });
    expect(event.kind === 'push' && event.headCommitMessage).toBe(headCommit?.message ?? undefined);
  });

  it('lists the files of a first push, and nothing for tags that add no commits', () => {
    const events = pushExamples.map(([, payload]) => parseGitHubEvent('push', body(payload)));
    const pushes = events.filter(
      (event): event is Extract<GitHubEvent, { kind: 'push' }> => event.kind === 'push',
    );

    const master = pushes.filter((push) => push.ref === 'refs/heads/master');
    const tags = pushes.filter((push) => push.ref === 'refs/tags/simple-tag');
    expect(master.length).toBeGreaterThan(0);
    expect(master.every((push) => push.changedPaths?.join() === 'README.md')).toBe(true);
    expect(master.every((push) => push.headCommitMessage === 'Initial commit')).toBe(true);
    expect(tags.length).toBeGreaterThan(0);
    expect(tags.every((push) => push.changedPaths === undefined)).toBe(true);
    expect(tags.filter((push) => push.deleted).length).toBeGreaterThan(0);
  });

  it.each(pingExamples)('reads ping example %s', (_name, payload) => {
    const event = parseGitHubEvent('ping', body(payload));

    expect(event).toEqual({ kind: 'ping', zen: payload['zen'], hookId: payload['hook_id'] });
  });

  it('reads a push sent form-encoded', () => {
    const [, payload] = pushExamples[0] ?? ['', {}];
    const form = Buffer.from(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());

    expect(parseGitHubEvent('push', form)).toEqual(parseGitHubEvent('push', body(payload)));
  });

  it.each(['issues', 'pull_request', 'create', 'workflow_run'])(
    'ignores %s without reading its body',
    (event) => {
      expect(parseGitHubEvent(event, Buffer.from('not even JSON'))).toEqual({
        kind: 'ignored',
        event,
      });
    },
  );
});

describe('parseGitHubEvent with bad input', () => {
  const [, example] =
    pushExamples.find(([, payload]) => payload['ref'] === 'refs/heads/master') ?? [];
  const push = example ?? {};

  it.each([undefined, '', 'Push', 'push\n', '../push', 'x'.repeat(65)])(
    'refuses the event name %j',
    (name) => {
      expect(validationKeys(() => parseGitHubEvent(name, body(push)))).toEqual(['X-GitHub-Event']);
    },
  );

  it('names the line and column of malformed JSON', () => {
    let caught: unknown;
    try {
      parseGitHubEvent('push', Buffer.from('{\n  "ref": "refs/heads/main",\n  oops\n}'));
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ValidationError);
    const issue = (caught as ValidationError).issues[0];
    expect(issue?.message).toMatch(/not valid JSON/);
    expect(issue?.location.line).toBe(3);
  });

  it.each([
    ['an empty body', ''],
    ['a truncated body', JSON.stringify(push).slice(0, 100)],
  ])('refuses %s', (_case, text) => {
    expect(() => parseGitHubEvent('push', Buffer.from(text))).toThrow(ValidationError);
  });

  it.each([
    ['ref', { ...push, ref: 'refs/heads/$(rm -rf ~)' }],
    ['ref', { ...push, ref: 'refs/heads/--upload-pack=x' }],
    ['ref', { ...push, ref: 'refs/pull/1/head' }],
    ['ref', { ...push, ref: undefined }],
    ['before', { ...push, before: 'HEAD~1' }],
    ['after', { ...push, after: 12 }],
    ['repository', { ...push, repository: undefined }],
    ['repository.clone_url', { ...push, repository: { full_name: 'a/b', clone_url: 'nope' } }],
    ['pusher.name', { ...push, pusher: {} }],
    ['commits.0.added', { ...push, commits: [{ distinct: true, added: 'README.md' }] }],
    ['', []],
    ['', 'push'],
  ])('names %j when a push payload is malformed', (key, payload) => {
    expect(validationKeys(() => parseGitHubEvent('push', body(payload)))).toContain(key);
  });

  it('refuses a ping whose fields have the wrong type', () => {
    expect(validationKeys(() => parseGitHubEvent('ping', body({ zen: 1 })))).toEqual(['zen']);
  });
});

describe('pushChangedPaths', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const ZERO = '0'.repeat(40);
  const commit = (added: string[], modified: string[] = [], removed: string[] = []) => ({
    distinct: true,
    added,
    modified,
    removed,
  });

  it('is the sorted union of every commit’s added, modified and removed files', () => {
    const paths = pushChangedPaths({
      before: A,
      after: B,
      commits: [commit(['src/new.ts'], ['README.md']), commit([], ['src/new.ts'], ['old.txt'])],
    });

    expect(paths).toEqual(['README.md', 'old.txt', 'src/new.ts']);
  });

  it('counts commits that are not distinct (already on another branch)', () => {
    const paths = pushChangedPaths({
      before: A,
      after: B,
      commits: [{ ...commit(['a.txt']), distinct: false }],
    });

    expect(paths).toEqual(['a.txt']);
  });

  it.each([
    [
      '19 commits',
      { before: A, after: B, commits: Array.from({ length: 19 }, () => commit(['x'])) },
      ['x'],
    ],
    [
      '20 commits (maybe cut)',
      { before: A, after: B, commits: Array.from({ length: 20 }, () => commit(['x'])) },
      undefined,
    ],
    ['no commit list', { before: A, after: B }, undefined],
    [
      'a commit without distinct',
      { before: A, after: B, commits: [{ added: ['x'], modified: [], removed: [] }] },
      undefined,
    ],
    ['a deletion', { before: A, after: ZERO, deleted: true, commits: [] }, undefined],
    [
      'a new tag with no commits',
      { before: ZERO, after: A, created: true, commits: [] },
      undefined,
    ],
    [
      'a new branch with commits',
      { before: ZERO, after: A, created: true, commits: [commit(['x'])] },
      ['x'],
    ],
    ['a forced push', { before: A, after: B, forced: true, commits: [commit(['x'])] }, undefined],
    ['an empty push', { before: A, after: B, commits: [] }, []],
  ])('for %s is %j', (_case, push, expected) => {
    expect(pushChangedPaths(push)).toEqual(expected);
  });
});
