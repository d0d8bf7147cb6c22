import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotFoundError } from '../shared/errors.js';
import { handleGitHttp } from '../source/git-http.js';
import { repositoryPath, validateRepositoryName } from '../source/hosted-repository.js';
import { principalOf, type RequiredRole } from './auth.js';
import { startPushRuns } from './push-runs.js';
import { parseInput } from './request-input.js';
import type { RouteContext } from './route-context.js';

const repoParams = z.object({ repo: z.string() });

/** `git-receive-pack` in info/refs' query is the first request of a push. */
function infoRefsAccess(request: FastifyRequest): RequiredRole {
  const query = z.object({ service: z.string().optional() }).safeParse(request.query);
  return query.success && query.data.service === 'git-receive-pack' ? 'developer' : 'viewer';
}

/**
 * Git smart HTTP for hosted repositories: clone and fetch with a viewer token, push with a
 * developer token, as the basic-auth password. The body is never parsed here: it streams to
 * `git http-backend`. A push's runs start as soon as git has updated the refs, before the
 * push returns.
 */
export async function gitRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  // Leave request bodies unread: handleGitHttp streams them to git.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Errors answered before git runs: the client may still be sending a pack nobody reads.
  app.addHook('onSend', async (_request, reply) => {
    if (reply.statusCode >= 400) void reply.header('Connection', 'close');
  });

  const serve = (pathInfo: string) => (request: FastifyRequest, reply: FastifyReply) =>
    serveGit(context, { request, reply, pathInfo });

  app.get(
    '/git/:repo/info/refs',
    { config: { access: infoRefsAccess, challenge: 'basic' } },
    serve('/info/refs'),
  );
  app.post(
    '/git/:repo/git-upload-pack',
    { config: { access: 'viewer', challenge: 'basic' } },
    serve('/git-upload-pack'),
  );
  app.post(
    '/git/:repo/git-receive-pack',
    { config: { access: 'developer', challenge: 'basic' } },
    serve('/git-receive-pack'),
  );
}

async function serveGit(
  context: RouteContext,
  options: { request: FastifyRequest; reply: FastifyReply; pathInfo: string },
): Promise<void> {
  const { request, reply, pathInfo } = options;
  const { deps } = context;
  const name = repositoryNameOf(parseInput(repoParams, request.params, 'path').repo);
  const actor = principalOf(request).name;
  reply.hijack();
  // A push's runs are recorded before git's answer ends: once `git push` returns, its runs
  // exist (`phoenix runs` right after shows them), as every change is stored before it shows.
  const end = pathInfo === '/git-receive-pack' ? new HeldEnd(reply.raw) : undefined;
  try {
    const outcome = await handleGitHttp({
      request: request.raw,
      response: reply.raw,
      repositoriesRoot: deps.repositoriesRoot,
      repositoryName: name,
      pathInfo,
      remoteUser: actor,
      ...(deps.maxPushBytes === undefined ? {} : { maxBodyBytes: deps.maxPushBytes }),
    });
    if (outcome.error !== undefined) {
      const { service, status, error } = outcome;
      request.log.warn({ repository: name, service, status, error }, 'git request failed');
    }
    if (outcome.service !== 'receive-pack' || outcome.pushed.length === 0) return;
    request.log.info({ repository: name, actor, refs: outcome.pushed.length }, 'pushed');
    await startPushRuns(deps, request.log, {
      repository: repositoryPath(deps.repositoriesRoot, name),
      pushed: outcome.pushed,
      actor,
    });
  } catch (error) {
    request.log.error({ err: error, repository: name }, 'git request failed');
    // Mid-answer, anything written would corrupt git's stream: cut it instead.
    if (end?.held === true) return;
    if (reply.raw.headersSent) reply.raw.destroy();
    else reply.raw.writeHead(500, { 'Content-Type': 'text/plain' }).end('Phoenix failed\n');
  } finally {
    end?.release();
  }
}

/** Keeps a response's `end()` from taking effect until `release()`. */
class HeldEnd {
  private args: unknown[] | undefined;
  private readonly original: ServerResponse['end'];

  constructor(private readonly response: ServerResponse) {
    this.original = response.end;
    response.end = (...args: unknown[]) => {
      this.args ??= args;
      return response;
    };
  }

  /** Whether the answer is complete, waiting only for release. */
  get held(): boolean {
    return this.args !== undefined;
  }

  release(): void {
    this.response.end = this.original;
    if (this.args !== undefined) Reflect.apply(this.original, this.response, this.args);
  }
}

/** `shop.git` (or `shop`) → `shop`; anything that cannot be a hosted repository is not found. */
function repositoryNameOf(segment: string): string {
  const name = segment.endsWith('.git') ? segment.slice(0, -'.git'.length) : segment;
  if (validateRepositoryName(name) !== undefined)
    throw new NotFoundError(`no repository ${segment}`);
  return name;
}
