import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ENVIRONMENT_NAME_PATTERN } from '../config/environment-schema.js';
import { SERVICE_NAME_PATTERN } from '../config/phoenix-schema.js';
import { secretNameProblem } from '../secrets/secret-name.js';
import { secretValueProblem, type SecretStore } from '../secrets/secret-store.js';
import { ConflictError } from '../shared/errors.js';
import { principalOf } from './auth.js';
import { checkedBy, parseInput } from './request-input.js';

/** What the secret routes need: the store, when the server keeps secrets. */
export interface SecretRouteDeps {
  secrets?: Pick<SecretStore, 'set' | 'list' | 'remove'>;
}

const secretName = z.string().superRefine(checkedBy(secretNameProblem));
const service = z.string().regex(SERVICE_NAME_PATTERN, 'is a service name such as shop');
const environment = z
  .string()
  .regex(ENVIRONMENT_NAME_PATTERN, 'is an environment name such as prod');

const nameParams = z.object({ name: secretName });

const setBody = z
  .object({
    value: z.string().superRefine(checkedBy(secretValueProblem)),
    service: service.optional(),
    environment: environment.optional(),
  })
  .strict();

const listQuery = z.object({ service: service.optional() }).strict();

const removeQuery = z
  .object({ service: service.optional(), environment: environment.optional() })
  .strict();

/**
 * Secrets (`phoenix secret`), admin only. A value goes in with PUT and never comes out:
 * answers, logs and errors carry names, scopes and who set them, never values.
 */
export function registerSecretRoutes(app: FastifyInstance, deps: SecretRouteDeps): void {
  app.put('/api/secrets/:name', { config: { access: 'admin' } }, async (request, reply) => {
    const { name } = parseInput(nameParams, request.params, 'path');
    const body = parseInput(setBody, request.body, 'body');
    const actor = principalOf(request).name;
    const { secret, created } = secretsOf(deps).set({ ...body, name, actor });
    request.log.info(
      { secret: name, scope: secret.scope, environment: secret.environment, actor, created },
      'secret set',
    );
    void reply.code(created ? 201 : 200);
    return { secret };
  });

  app.get('/api/secrets', { config: { access: 'admin' } }, async (request) => {
    const query = parseInput(listQuery, request.query, 'query');
    return { secrets: secretsOf(deps).list(query) };
  });

  app.delete('/api/secrets/:name', { config: { access: 'admin' } }, async (request) => {
    const { name } = parseInput(nameParams, request.params, 'path');
    const query = parseInput(removeQuery, request.query, 'query');
    const secret = secretsOf(deps).remove({ ...query, name });
    request.log.info(
      {
        secret: name,
        scope: secret.scope,
        environment: secret.environment,
        actor: principalOf(request).name,
      },
      'secret removed',
    );
    return { secret };
  });
}

function secretsOf(deps: SecretRouteDeps): NonNullable<SecretRouteDeps['secrets']> {
  if (deps.secrets === undefined) throw new ConflictError('this Phoenix server keeps no secrets');
  return deps.secrets;
}
