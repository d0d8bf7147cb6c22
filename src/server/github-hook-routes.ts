import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RunSummary } from '../pipeline/run-view.js';
import { NotFoundError } from '../shared/errors.js';
import { parseGitHubEvent, verifyGitHubSignature } from '../source/github-webhook.js';
import type { Service } from '../store/service-repository.js';
import { UnauthorizedError } from './http-errors.js';
import type { RouteContext } from './route-context.js';
import { hasCommit } from './service-source.js';
import { runSummary } from './views.js';
import { payloadRepository, servicesFor } from './webhook-match.js';

/** GitHub sends at most 25 MB, but push payloads are far smaller; bigger is refused (413). */
export const DEFAULT_MAX_WEBHOOK_BYTES = 5 * 1024 * 1024;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const MAX_ACTOR_LENGTH = 100;

/** What happened for one service a push was delivered for. */
export interface PushOutcome {
  service: string;
  run?: RunSummary;
  /** The service's trigger does not match the push. */
  ignored?: string;
  /** The commit is not in the service's repository yet: the poller will start the run. */
  note?: string;
}

/**
 * `POST /hooks/github`: authenticated by the delivery's HMAC signature with the secret of
 * the service built from the repository, not by a token. Nothing is read from the payload
 * beyond which repository it names until the signature is verified.
 */
export async function githubHookRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const maxBytes = context.deps.maxWebhookBytes ?? DEFAULT_MAX_WEBHOOK_BYTES;
  // The raw bytes are what GitHub signed: keep them as they came, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.post(
    '/hooks/github',
    { config: { access: 'public' }, bodyLimit: maxBytes },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const services = verifiedServices(context, request, body);
      const event = parseGitHubEvent(header(request, 'x-github-event'), body);
      const names = services.map((service) => service.name);
      if (event.kind === 'ping') return { ok: true, zen: event.zen, services: names };
      if (event.kind === 'ignored') {
        void reply.code(202);
        return { ignored: event.event };
      }
      if (event.deleted) return { ignored: `${event.ref} was deleted` };
      const delivery = header(request, 'x-github-delivery');
      const outcomes: PushOutcome[] = [];
      for (const service of services) {
        outcomes.push(
          await startRun(context, service, {
            ref: event.ref,
            commit: event.after,
            actor: event.pusher.slice(0, MAX_ACTOR_LENGTH),
            changedPaths: event.changedPaths,
            delivery: delivery !== undefined && DELIVERY_ID.test(delivery) ? delivery : undefined,
          }),
        );
      }
      request.log.info({ services: names, ref: event.ref, delivery }, 'github push received');
      const started = outcomes.some((outcome) => outcome.run !== undefined);
      const pending = outcomes.some((outcome) => outcome.note !== undefined);
      void reply.code(started ? 201 : pending ? 202 : 200);
      return { accepted: true, results: outcomes };
    },
  );
}

/** The services this delivery is for whose secret signed it; 404 or 401 when there are none. */
function verifiedServices(context: RouteContext, request: FastifyRequest, body: Buffer): Service[] {
  const repository = payloadRepository(body);
  const candidates =
    repository === undefined ? [] : servicesFor(context.deps.store.services.list(), repository);
  if (candidates.length === 0) {
    const named = repository?.fullName ?? repository?.urls[0] ?? 'no repository';
    throw new NotFoundError(
      `no service is built from ${named}: create one with that repository URL first`,
    );
  }
  const withSecret = candidates.filter((service) => (service.webhookSecret ?? '') !== '');
  if (withSecret.length === 0) {
    throw new UnauthorizedError(
      `service ${candidates.map((s) => s.name).join(', ')} has no webhook secret: configure one (webhookSecret) and give GitHub the same secret`,
      undefined,
    );
  }
  const signature = header(request, 'x-hub-signature-256');
  const verified = withSecret.filter((service) =>
    verifyGitHubSignature(service.webhookSecret ?? '', body, signature),
  );
  if (verified.length === 0) {
    throw new UnauthorizedError(
      signature === undefined
        ? 'the X-Hub-Signature-256 header is missing: nothing was started'
        : "X-Hub-Signature-256 does not match the service's webhook secret: nothing was started",
      undefined,
    );
  }
  return verified;
}

async function startRun(
  context: RouteContext,
  service: Service,
  push: { ref: string; commit: string; actor: string; changedPaths?: string[]; delivery?: string },
): Promise<PushOutcome> {
  try {
    await context.deps.fetchExternal?.(service);
  } catch (error) {
    // The poller fetches again later; the delivery itself was fine.
    context.deps.logger.warn({ err: error, service: service.name }, 'fetch after a webhook failed');
  }
  const repository = context.repositoryOf(service);
  if (repository === undefined || !(await hasCommit(repository, push.commit))) {
    return {
      service: service.name,
      note: `commit ${push.commit.slice(0, 12)} is not in Phoenix's copy of the repository yet; polling will start its run`,
    };
  }
  const result = await context.deps.orchestrator.submit({
    service: service.name,
    ref: push.ref,
    commit: push.commit,
    trigger: {
      type: 'webhook',
      actor: push.actor,
      ...(push.delivery === undefined ? {} : { detail: push.delivery }),
    },
    changedPaths: push.changedPaths,
  });
  return 'run' in result
    ? { service: service.name, run: runSummary(result.run) }
    : { service: service.name, ignored: result.ignored };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}
