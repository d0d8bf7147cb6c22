import type { Buildspec, Located, SecretReference } from '../config/buildspec.js';
import type { ValidationIssue } from '../shared/errors.js';

export type SecretKind = 'parameter-store' | 'secrets-manager';

/**
 * Where `env.parameter-store` and `env.secrets-manager` values come from. Phoenix's own
 * encrypted secret store implements this with access control; until one is configured,
 * `unconfiguredSecrets` refuses every reference by name.
 */
export interface SecretResolver {
  /** The value, or a reason it cannot be had. Never throws for a missing secret. */
  resolve(
    kind: SecretKind,
    reference: string | SecretReference,
  ): Promise<{ value: string } | { missing: string }>;
}

export const unconfiguredSecrets: SecretResolver = {
  async resolve(kind) {
    return {
      missing: `no secret store is configured, so ${kind} references cannot be resolved yet; pass the value with --env NAME=VALUE for a local build`,
    };
  },
};

/** A fixed map of secrets, for tests and for `phoenix build --secret-file`. */
export function staticSecrets(values: Record<string, string>): SecretResolver {
  return {
    async resolve(kind, reference) {
      const name = typeof reference === 'string' ? reference : reference.secretId;
      const raw = values[name];
      if (raw === undefined) return { missing: `no ${kind} secret named "${name}"` };
      if (typeof reference === 'string' || reference.jsonKey === undefined) return { value: raw };
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return { missing: `secret "${name}" is not JSON, so it has no key "${reference.jsonKey}"` };
      }
      const field =
        typeof parsed === 'object' && parsed !== null
          ? (parsed as Record<string, unknown>)[reference.jsonKey]
          : undefined;
      if (field === undefined)
        return { missing: `secret "${name}" has no key "${reference.jsonKey}"` };
      return { value: typeof field === 'string' ? field : JSON.stringify(field) };
    },
  };
}

/**
 * Resolves a buildspec's parameter-store and secrets-manager variables. What cannot be
 * resolved becomes an issue naming the buildspec key, so the build is refused before it runs.
 */
export async function resolveBuildSecrets(
  spec: Buildspec,
  resolver: SecretResolver,
  /** Variables the caller sets itself (`--env`): they win anyway, so they need no secret. */
  provided: readonly string[] = [],
): Promise<{ values: Record<string, string>; issues: ValidationIssue[] }> {
  const values: Record<string, string> = {};
  const issues: ValidationIssue[] = [];
  const wanted: { name: string; kind: SecretKind; ref: Located<string | SecretReference> }[] = [
    ...Object.entries(spec.env.parameterStore).map(([name, ref]) => ({
      name,
      ref,
      kind: 'parameter-store' as const,
    })),
    ...Object.entries(spec.env.secretsManager).map(([name, ref]) => ({
      name,
      ref,
      kind: 'secrets-manager' as const,
    })),
  ];
  for (const { name, kind, ref } of wanted) {
    if (provided.includes(name)) continue;
    const resolved = await resolver.resolve(kind, ref.value);
    if ('missing' in resolved) {
      issues.push({ location: ref.location, key: ref.key, message: resolved.missing });
    } else {
      values[name] = resolved.value;
    }
  }
  return { values, issues };
}
