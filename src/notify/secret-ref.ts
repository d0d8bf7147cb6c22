import { z } from 'zod';
import { ENV_VARIABLE_PATTERN } from '../config/schema-parts.js';
import { DeliveryError } from './delivery.js';

/**
 * A secret named in phoenix.yml, never its value: a Phoenix secret (`{ secret: NAME }`) or a
 * variable of the control plane's environment (`{ env: NAME }`). The caller resolves it.
 */
export type SecretRef = { secret: string } | { env: string };

/** Returns the value, or undefined when no such secret is set. Must not throw. */
export type SecretResolver = (ref: SecretRef) => string | undefined;

const SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}$/;

export const secretRefSchema = z.union(
  [
    z
      .object({
        secret: z.string().regex(SECRET_NAME, 'expected a secret name such as SLACK_WEBHOOK_URL'),
      })
      .strict(),
    z
      .object({
        env: z.string().regex(ENV_VARIABLE_PATTERN, 'expected a variable name such as HOOK_SECRET'),
      })
      .strict(),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union'
        ? { message: 'expected a secret reference: { secret: NAME } or { env: NAME }' }
        : { message: ctx.defaultError },
  },
);

export function describeSecretRef(ref: SecretRef): string {
  return 'secret' in ref ? `secret ${ref.secret}` : `environment variable ${ref.env}`;
}

/** The value of `ref`; a missing one fails the delivery at once, as retrying cannot help. */
export function requireSecret(resolve: SecretResolver, ref: SecretRef): string {
  const value = resolve(ref);
  if (value === undefined || value === '') {
    throw new DeliveryError(`${describeSecretRef(ref)} is not set`, { retryable: false });
  }
  return value;
}
