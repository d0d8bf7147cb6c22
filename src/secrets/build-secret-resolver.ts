import type { SecretResolver } from '../build/secrets.js';
import { buildspecSecret, jsonField } from './buildspec-reference.js';
import type { SecretStore } from './secret-store.js';
import type { SecretLookup } from './secret.js';

/**
 * The build engine's SecretResolver over Phoenix's secret store, for the builds of one
 * service: buildspec `secrets-manager` and `parameter-store` references resolve to the
 * secrets that apply to `lookup` (buildspec-reference.ts has the mapping). A build runs
 * before any environment, so a lookup without environment sees environment-wide secrets.
 */
export function storeSecretResolver(
  secrets: Pick<SecretStore, 'resolve'>,
  lookup: SecretLookup,
): SecretResolver {
  return {
    async resolve(_kind, reference) {
      const wanted = buildspecSecret(reference);
      if ('problem' in wanted) return { missing: wanted.problem };
      const value = secrets.resolve(wanted.name, lookup);
      if (value === undefined) return { missing: missingMessage(wanted.name, lookup) };
      if (wanted.jsonKey === undefined) return { value };
      const field = jsonField(wanted.name, value, wanted.jsonKey);
      return 'problem' in field ? { missing: field.problem } : field;
    },
  };
}

function missingMessage(name: string, lookup: SecretLookup): string {
  const { service } = lookup;
  return service === undefined
    ? `no Phoenix secret "${name}" for all services: set it with \`phoenix secret set ${name}\``
    : `no Phoenix secret "${name}" for service ${service} or for all services: set it with \`phoenix secret set ${name} --service ${service}\``;
}
