import { ALL_SERVICES, type SecretAddress, type SecretLookup } from './secret.js';

/**
 * Which of a name's secrets a lookup sees, most specific first: the service's for the
 * environment, the service's for every environment, every service's for the environment,
 * every service's for every environment. The service outranks the environment: a value a
 * service set for itself is a deliberate choice, a platform-wide one a default.
 *
 * The rank of `address` for `lookup` (0 is the most specific), or undefined when it does
 * not apply (another service or environment).
 */
export function precedenceOf(address: SecretAddress, lookup: SecretLookup): number | undefined {
  const serviceRank =
    address.scope === ALL_SERVICES ? 1 : address.scope === lookup.service ? 0 : undefined;
  const environmentRank =
    address.environment === undefined
      ? 1
      : address.environment === lookup.environment
        ? 0
        : undefined;
  if (serviceRank === undefined || environmentRank === undefined) return undefined;
  return serviceRank * 2 + environmentRank;
}

/** The candidate that wins for `lookup`, or undefined when none applies. */
export function mostSpecific<T extends SecretAddress>(
  candidates: Iterable<T>,
  lookup: SecretLookup,
): T | undefined {
  let best: { candidate: T; rank: number } | undefined;
  for (const candidate of candidates) {
    const rank = precedenceOf(candidate, lookup);
    if (rank !== undefined && (best === undefined || rank < best.rank)) best = { candidate, rank };
  }
  return best?.candidate;
}
