import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import {
  isBareRepository,
  listRefs,
  repositoryPath,
  validateRepositoryName,
} from './hosted-repository.js';
import { CLIENT_CLOSED_REQUEST, respondText, runHttpBackend } from './http-backend-run.js';
import { compareRefs, type RefChange } from './ref-changes.js';

/** The largest request body (a push's pack, as sent on the wire) accepted by default. */
export const DEFAULT_MAX_PUSH_BYTES = 512 * 1024 * 1024;

export type GitHttpService = 'upload-pack' | 'receive-pack' | 'info-refs' | 'other';

export interface GitHttpOutcome {
  service: GitHttpService;
  /** The status the client was sent (499 when it left before an answer). */
  status: number;
  /** Refs this request created, updated or deleted (receive-pack only), in ref order. */
  pushed: RefChange[];
  /** Why the backend failed or was stopped, for the server's log. */
  error?: string;
}

export interface GitHttpOptions {
  /** Its body must not have been read yet: it is streamed to git. */
  request: IncomingMessage;
  response: ServerResponse;
  repositoriesRoot: string;
  repositoryName: string;
  /** What follows the repository in the URL: `/info/refs`, `/git-upload-pack`, `/git-receive-pack`. */
  pathInfo: string;
  /** Who the server authenticated; git records it as the pusher in the reflog. */
  remoteUser: string;
  maxBodyBytes?: number;
}

interface Route {
  service: GitHttpService;
  method: 'GET' | 'POST';
}

/** Smart HTTP only: the dumb protocol's file paths are not served. */
const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/info/refs', { service: 'info-refs', method: 'GET' }],
  ['/git-upload-pack', { service: 'upload-pack', method: 'POST' }],
  ['/git-receive-pack', { service: 'receive-pack', method: 'POST' }],
]);

/**
 * Serves one smart-HTTP request (clone, fetch or push) for a hosted repository with git's
 * own `git http-backend`. Authentication is the caller's job: this runs after it.
 *
 * For a push it compares the repository's refs before and after, keeping the refs this
 * request's commands named, so the caller can start runs from `pushed` without hooks.
 * Two pushes to one ref at the same moment may both report the winner's update.
 */
export async function handleGitHttp(options: GitHttpOptions): Promise<GitHttpOutcome> {
  const { request, response } = options;
  let clientGone = false;
  response.once('close', () => {
    clientGone = !response.writableFinished;
  });
  const route = ROUTES.get(options.pathInfo);
  if (route === undefined) return refuse(response, 'other', 404, 'Not Found');
  const { service } = route;
  const path =
    validateRepositoryName(options.repositoryName) === undefined
      ? repositoryPath(options.repositoriesRoot, options.repositoryName)
      : undefined;
  if (path === undefined || !(await isBareRepository(path))) {
    return refuse(response, service, 404, 'Repository not found');
  }
  if (request.method !== route.method) {
    response.setHeader('Allow', route.method);
    return refuse(response, service, 405, 'Method Not Allowed');
  }
  if (service === 'info-refs' && serviceQuery(request) === '') {
    // Without a smart service git would serve the dumb protocol, which Phoenix does not offer.
    return refuse(response, service, 404, 'Only smart HTTP is served');
  }
  const body = describeBody(request);
  if (body === undefined) return refuse(response, service, 415, 'Unsupported Content-Encoding');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_PUSH_BYTES;
  if (body.length !== undefined && body.length > maxBodyBytes) {
    return refuse(response, service, 413, 'Push too large');
  }

  const before = service === 'receive-pack' ? await listRefs(path) : undefined;
  if (clientGone || response.destroyed) {
    return { service, status: CLIENT_CLOSED_REQUEST, pushed: [], error: 'client disconnected' };
  }
  const result = await runHttpBackend({
    request,
    response,
    env: cgiEnvironment(options, body),
    maxBodyBytes,
    readCommands: service === 'receive-pack' && !body.gzip,
  });

  const outcome: GitHttpOutcome = { service, status: result.status, pushed: [] };
  if (result.error !== undefined) outcome.error = result.error;
  if (before === undefined) return outcome;
  const changes = compareRefs(before, await listRefs(path));
  const asked = result.commands;
  outcome.pushed =
    asked === undefined
      ? changes
      : changes.filter((change) => asked.some((command) => command.ref === change.ref));
  return outcome;
}

interface RequestBody {
  /** Declared length; undefined for a chunked body. */
  length?: number;
  gzip: boolean;
}

/** Undefined when the body comes in an encoding git cannot read. */
function describeBody(request: IncomingMessage): RequestBody | undefined {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (!['identity', 'gzip', 'x-gzip'].includes(encoding)) return undefined;
  const declared = request.headers['content-length'];
  const chunked = request.headers['transfer-encoding'] !== undefined;
  const length =
    !chunked && declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
  return { gzip: encoding !== 'identity', ...(length === undefined ? {} : { length }) };
}

/** The CGI environment, built from scratch: nothing from the request is passed unchecked. */
function cgiEnvironment(options: GitHttpOptions, body: RequestBody): NodeJS.ProcessEnv {
  const { request } = options;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    REQUEST_METHOD: request.method ?? 'GET',
    GIT_PROJECT_ROOT: resolve(options.repositoriesRoot),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${options.repositoryName}.git${options.pathInfo}`,
    QUERY_STRING: serviceQuery(request),
    REMOTE_ADDR: request.socket.remoteAddress ?? '',
    CONTENT_TYPE: printable(request.headers['content-type']) ?? '',
  };
  const user = printable(options.remoteUser);
  if (user !== undefined && user !== '') env['REMOTE_USER'] = user;
  if (body.length !== undefined) env['CONTENT_LENGTH'] = String(body.length);
  if (body.gzip) env['HTTP_CONTENT_ENCODING'] = 'gzip';
  const protocol = request.headers['git-protocol'];
  if (typeof protocol === 'string' && /^[A-Za-z0-9=:._-]{1,256}$/.test(protocol)) {
    env['GIT_PROTOCOL'] = protocol;
  }
  return env;
}

/** Only `service=git-upload-pack|git-receive-pack` reaches the backend. */
function serviceQuery(request: IncomingMessage): string {
  const service = new URL(request.url ?? '/', 'http://localhost').searchParams.get('service');
  return service === 'git-upload-pack' || service === 'git-receive-pack'
    ? `service=${service}`
    : '';
}

function printable(value: string | undefined): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  return value === undefined || /[\u0000-\u001f\u007f]/.test(value) ? undefined : value;
}

function refuse(
  response: ServerResponse,
  service: GitHttpService,
  status: number,
  message: string,
): GitHttpOutcome {
  respondText(response, status, message);
  return { service, status, pushed: [] };
}
