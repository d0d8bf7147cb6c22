import { MIN_SECRET_LENGTH } from '../build/secret-masker.js';
import { ENVIRONMENT_NAME_PATTERN } from '../config/environment-schema.js';
import { SERVICE_NAME_PATTERN } from '../config/phoenix-schema.js';
import { ValidationError, type ValidationIssue } from '../shared/errors.js';
import type { SecretRepository } from '../store/secret-repository.js';
import { openValue, sealValue, SecretDecryptionError } from './secret-box.js';
import { SecretKeyError } from './secret-key.js';
import { secretNameProblem } from './secret-name.js';
import { mostSpecific } from './secret-precedence.js';
import {
  ALL_SERVICES,
  scopeOf,
  type SecretAddress,
  type SecretLookup,
  type SecretRecord,
} from './secret.js';

/** Largest value: secrets are passwords, tokens and keys, not files. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

export interface SecretInput {
  name: string;
  /** Undefined: every service. */
  service?: string;
  /** Undefined: every environment. */
  environment?: string;
}

/**
 * Phoenix's secrets: encrypted with the secrets key before they reach the repository,
 * decrypted only by `resolve`. Nothing here logs, and no error message holds a value.
 * Synchronous, as the database is; safe to share between the API, builds and deployments.
 */
export class SecretStore {
  constructor(
    private readonly options: {
      repository: SecretRepository;
      /** 32 bytes, from ensureSecretKey. */
      key: Buffer;
    },
  ) {}

  /**
   * Creates or replaces a secret. Throws ValidationError for a bad name, scope or value
   * (empty, shorter than the masker masks, larger than MAX_SECRET_VALUE_BYTES), and
   * NotFoundError for a service that does not exist.
   */
  set(input: SecretInput & { value: string; actor: string }): {
    secret: SecretRecord;
    created: boolean;
  } {
    const address = addressOf(input, valueIssues(input.value));
    const sealed = sealValue(this.options.key, address, input.value);
    const { record, created } = this.options.repository.put(address, sealed, input.actor);
    return { secret: record, created };
  }

  /** Without values. With `service`: the secrets that apply to it, its own and every service's. */
  list(filter: { service?: string } = {}): SecretRecord[] {
    const { service } = filter;
    if (service === undefined) return this.options.repository.list();
    return this.options.repository.list({ scopes: [service, ALL_SERVICES] });
  }

  /** The removed secret's record. Throws NotFoundError when there is none at that address. */
  remove(input: SecretInput): SecretRecord {
    return this.options.repository.remove(addressOf(input));
  }

  /**
   * The value of the most specific secret called `name` for `lookup` (see
   * secret-precedence.ts), or undefined when none applies. Throws SecretDecryptionError
   * when the stored value does not open.
   */
  resolve(name: string, lookup: SecretLookup = {}): string | undefined {
    if (secretNameProblem(name) !== undefined) return undefined;
    const scopes = lookup.service === undefined ? [ALL_SERVICES] : [lookup.service, ALL_SERVICES];
    const found = mostSpecific(
      this.options.repository.candidates(name, scopes).map((stored) => ({
        ...stored.record,
        sealed: stored.sealed,
      })),
      lookup,
    );
    return found === undefined ? undefined : openValue(this.options.key, found, found.sealed);
  }

  /**
   * Refuses a key that does not open the secrets already stored (PHOENIX_SECRETS_KEY
   * changed, secrets.key replaced or restored without its database): call at start, so
   * the server stops with the reason instead of failing builds one by one.
   */
  checkKey(): void {
    const stored = this.options.repository.first();
    if (stored === undefined) return;
    try {
      openValue(this.options.key, stored.record, stored.sealed);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new SecretKeyError(
        'the secrets key does not open the stored secrets: restore the secrets.key (or PHOENIX_SECRETS_KEY) they were sealed with',
        { cause: error },
      );
    }
  }
}

function addressOf(input: SecretInput, issues: ValidationIssue[] = []): SecretAddress {
  const nameProblem = secretNameProblem(input.name);
  if (nameProblem !== undefined) issues.push(issue('name', nameProblem));
  if (input.service !== undefined && !SERVICE_NAME_PATTERN.test(input.service)) {
    issues.push(issue('service', 'is not a service name'));
  }
  if (input.environment !== undefined && !ENVIRONMENT_NAME_PATTERN.test(input.environment)) {
    issues.push(issue('environment', 'is not an environment name'));
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    name: input.name,
    scope: scopeOf(input.service),
    ...(input.environment === undefined ? {} : { environment: input.environment }),
  };
}

function valueIssues(value: string): ValidationIssue[] {
  const problem = secretValueProblem(value);
  return problem === undefined ? [] : [issue('value', problem)];
}

/** Why `value` cannot be a secret's value, or undefined when it can. */
export function secretValueProblem(value: string): string | undefined {
  if (value.trim().length < MIN_SECRET_LENGTH) {
    return `is shorter than ${MIN_SECRET_LENGTH} characters (spaces aside): too short to be masked in logs`;
  }
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    return `is larger than ${MAX_SECRET_VALUE_BYTES / 1024} KiB`;
  }
  return undefined;
}

function issue(key: string, message: string): ValidationIssue {
  return { location: { file: 'secret', line: 1, column: 1 }, key, message };
}
