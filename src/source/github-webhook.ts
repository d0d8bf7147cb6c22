import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../shared/errors.js';
import { inputError } from './input-error.js';
import { isCommitId, isZeroCommit, validateRefName } from './ref-name.js';

/**
 * GitHub's older documentation caps a push event's `commits` at 20 entries. With 20 or more
 * the list may have been cut, so the changed paths it shows cannot be trusted to be all.
 */
export const GITHUB_COMMIT_LIST_LIMIT = 20;

export type GitHubEvent =
  | { kind: 'ping'; zen?: string; hookId?: number }
  | {
      kind: 'push';
      ref: string;
      before: string;
      after: string;
      repositoryFullName: string;
      cloneUrl: string;
      pusher: string;
      deleted: boolean;
      /**
       * Files touched by the pushed commits (the union of their added, modified and removed
       * lists), or undefined when the payload cannot say for sure — see `pushChangedPaths`.
       * Undefined means "unknown": path filters must not skip the run.
       */
      changedPaths?: string[];
      headCommitMessage?: string;
    }
  | { kind: 'ignored'; event: string };

/**
 * Checks `X-Hub-Signature-256` (`sha256=<hex HMAC-SHA256 of the raw body>`) in constant
 * time. A missing or malformed header, or an empty secret (which anyone could sign with),
 * never verifies.
 */
export function verifyGitHubSignature(
  secret: string,
  body: Buffer,
  header: string | undefined,
): boolean {
  if (secret === '' || header === undefined) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header);
  if (match?.[1] === undefined) return false;
  const given = Buffer.from(match[1], 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const PAYLOAD = 'GitHub webhook payload';

const commitId = z.string().refine(isCommitId, 'is not a full commit id');
const refName = z.string().superRefine((ref, context) => {
  const problem = validateRefName(ref);
  if (problem !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const pingSchema = z.object({
  zen: z.string().optional(),
  hook_id: z.number().int().optional(),
});

const pushCommitSchema = z.object({
  distinct: z.boolean().optional(),
  added: z.array(z.string()).default([]),
  removed: z.array(z.string()).default([]),
  modified: z.array(z.string()).default([]),
});

const pushSchema = z.object({
  ref: refName,
  before: commitId,
  after: commitId,
  created: z.boolean().optional(),
  deleted: z.boolean().optional(),
  forced: z.boolean().optional(),
  repository: z.object({ full_name: z.string().min(1), clone_url: z.string().url() }),
  pusher: z.object({ name: z.string().min(1) }),
  commits: z.array(pushCommitSchema).optional(),
  head_commit: z.object({ message: z.string() }).nullish(),
});

type PushPayload = z.infer<typeof pushSchema>;

/**
 * Reads a delivery: `eventName` is the `X-GitHub-Event` header, `body` the raw body (JSON,
 * or the form-encoded `payload=` GitHub sends when so configured). Events other than ping
 * and push are 'ignored' without reading the body. Malformed input is a ValidationError
 * naming the field.
 */
export function parseGitHubEvent(eventName: string | undefined, body: Buffer): GitHubEvent {
  if (eventName === undefined || !/^[a-z_]{1,64}$/.test(eventName)) {
    throw inputError('X-GitHub-Event header', 'X-GitHub-Event', 'missing or not an event name');
  }
  if (eventName !== 'ping' && eventName !== 'push') return { kind: 'ignored', event: eventName };
  const payload = parseBody(body);
  if (eventName === 'ping') {
    const ping = validate(pingSchema, payload);
    return {
      kind: 'ping',
      ...(ping.zen === undefined ? {} : { zen: ping.zen }),
      ...(ping.hook_id === undefined ? {} : { hookId: ping.hook_id }),
    };
  }
  return pushEvent(validate(pushSchema, payload));
}

function pushEvent(push: PushPayload): GitHubEvent {
  const changedPaths = pushChangedPaths(push);
  const message = push.head_commit?.message;
  return {
    kind: 'push',
    ref: push.ref,
    before: push.before,
    after: push.after,
    repositoryFullName: push.repository.full_name,
    cloneUrl: push.repository.clone_url,
    pusher: push.pusher.name,
    deleted: push.deleted ?? isZeroCommit(push.after),
    ...(changedPaths === undefined ? {} : { changedPaths }),
    ...(message === undefined ? {} : { headCommitMessage: message }),
  };
}

/**
 * The union of the commits' added, modified and removed files, sorted — or undefined when
 * the list may be incomplete or there is nothing to compare with:
 * - `commits` missing, or holding GITHUB_COMMIT_LIST_LIMIT (20) or more entries (maybe cut);
 * - a commit without `distinct` (not the full commit form GitHub sends for pushes);
 * - a deleted ref (nothing to build);
 * - a created ref that lists no commits (a new branch or tag at a commit the repository
 *   already had: the payload does not say what it holds);
 * - a forced push (the commits it dropped changed files too, and are not listed).
 * A created ref that lists commits (a new repository's first push, a new branch with work
 * of its own) gets the files those commits touched.
 */
export function pushChangedPaths(push: {
  created?: boolean;
  deleted?: boolean;
  forced?: boolean;
  before: string;
  after: string;
  commits?: { distinct?: boolean; added: string[]; removed: string[]; modified: string[] }[];
}): string[] | undefined {
  const commits = push.commits;
  if (commits === undefined || commits.length >= GITHUB_COMMIT_LIST_LIMIT) return undefined;
  if (push.deleted === true || isZeroCommit(push.after)) return undefined;
  const created = push.created === true || isZeroCommit(push.before);
  if ((created && commits.length === 0) || push.forced === true) return undefined;
  if (commits.some((commit) => commit.distinct === undefined)) return undefined;
  const paths = new Set<string>();
  for (const commit of commits) {
    for (const path of [...commit.added, ...commit.modified, ...commit.removed]) paths.add(path);
  }
  return [...paths].sort();
}

function parseBody(body: Buffer): unknown {
  let text = body.toString('utf8');
  if (text.startsWith('payload=')) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '');
    const at = position?.[1] === undefined ? undefined : lineAndColumn(text, Number(position[1]));
    throw inputError(
      PAYLOAD,
      '',
      `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
        ...at,
      },
    );
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function validate<T extends z.ZodTypeAny>(schema: T, payload: unknown): z.infer<T> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues: ValidationIssue[] = parsed.error.issues.map((issue) => ({
    location: { file: PAYLOAD, line: 1, column: 1 },
    key: issue.path.join('.'),
    message: issue.message,
  }));
  throw new ValidationError(issues);
}
