/**
 * A Phoenix secret: a named value, encrypted at rest, that applies to every service or to
 * one, and to every environment or to one. Values only leave the store through
 * SecretStore.resolve (for builds and deployments); everything else sees a SecretRecord.
 */

/** The scope of a secret that applies to every service. */
export const ALL_SERVICES = '*';

/** A service name, or ALL_SERVICES. */
export type SecretScope = string;

/** Where a secret sits: its name in a scope, for every environment (undefined) or one. */
export interface SecretAddress {
  name: string;
  scope: SecretScope;
  environment?: string;
}

/** What is known about a secret without its value: what lists and the API show. */
export interface SecretRecord extends SecretAddress {
  createdAt: string;
  updatedAt: string;
  /** The token name that last set it. */
  updatedBy: string;
}

/** An encrypted value, as stored: AES-256-GCM's ciphertext, 12-byte IV and 16-byte tag. */
export interface SealedValue {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
}

/** Who asks for a value: a build or deployment of `service` (to `environment`). */
export interface SecretLookup {
  /** Undefined: only secrets for every service apply. */
  service?: string;
  /** Undefined (a build, which happens before any environment): only environment-wide secrets apply. */
  environment?: string;
}

export function scopeOf(service: string | undefined): SecretScope {
  return service ?? ALL_SERVICES;
}

/** `NAME (all services)`, `NAME (service shop, environment prod)`: for messages and logs. */
export function describeSecret(address: SecretAddress): string {
  const scope = address.scope === ALL_SERVICES ? 'all services' : `service ${address.scope}`;
  const environment =
    address.environment === undefined ? '' : `, environment ${address.environment}`;
  return `${address.name} (${scope}${environment})`;
}
