import type { SecretReference } from '../config/buildspec.js';
import { secretNameProblem } from './secret-name.js';

/**
 * How buildspec references name Phoenix secrets, so that a buildspec written for CodeBuild
 * runs unchanged:
 *
 * - `env.secrets-manager: { VAR: secret-id[:json-key[:version-stage[:version-id]]] }`:
 *   the secret-id is the Phoenix secret's name (`prod/db:password` reads secret `prod/db`);
 *   with a json-key, the value is a JSON object and VAR gets that key's field, as in
 *   Secrets Manager. Phoenix keeps one value per secret: a version-stage other than
 *   AWSCURRENT, or a version-id, is refused. ARNs are refused: name the secret instead.
 * - `env.parameter-store: { VAR: /path/name }`: the parameter name without its leading
 *   slash is the secret's name (`/prod/db/password` reads secret `prod/db/password`).
 *   Parameter versions and labels (`name:3`) are refused, as are ARNs.
 */
export type BuildspecSecret = { name: string; jsonKey?: string } | { problem: string };

export const CURRENT_VERSION_STAGE = 'AWSCURRENT';

/** A parameter-store reference is a string; a secrets-manager one is parsed already. */
export function buildspecSecret(reference: string | SecretReference): BuildspecSecret {
  return typeof reference === 'string'
    ? parameterSecret(reference)
    : secretsManagerSecret(reference);
}

function parameterSecret(reference: string): BuildspecSecret {
  if (reference.startsWith('arn:')) {
    return { problem: `Phoenix secrets are named, not ARNs: use the parameter's name` };
  }
  const name = reference.startsWith('/') ? reference.slice(1) : reference;
  if (name.includes(':')) {
    return {
      problem: `"${reference}" names a parameter version or label; Phoenix keeps only the current value of a secret`,
    };
  }
  return named(name, reference);
}

function secretsManagerSecret(reference: SecretReference): BuildspecSecret {
  const { secretId, jsonKey, versionStage, versionId } = reference;
  if (secretId.startsWith('arn:')) {
    return { problem: `Phoenix secrets are named, not ARNs: use the secret's name` };
  }
  if (
    versionId !== undefined ||
    (versionStage !== undefined && versionStage !== CURRENT_VERSION_STAGE)
  ) {
    return {
      problem: `secret "${secretId}": Phoenix keeps only the current value of a secret, so a version-stage other than ${CURRENT_VERSION_STAGE} or a version-id cannot be resolved`,
    };
  }
  const resolved = named(secretId, secretId);
  return 'problem' in resolved || jsonKey === undefined ? resolved : { ...resolved, jsonKey };
}

function named(name: string, reference: string): BuildspecSecret {
  const problem = secretNameProblem(name);
  return problem === undefined
    ? { name }
    : { problem: `"${reference}" cannot name a Phoenix secret: the name ${problem}` };
}

/** The field `jsonKey` of a JSON object value, as Secrets Manager's json-key selects it. */
export function jsonField(
  name: string,
  value: string,
  jsonKey: string,
): { value: string } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { problem: `secret "${name}" is not JSON, so it has no key "${jsonKey}"` };
  }
  const field =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? Object.entries(parsed).find(([key]) => key === jsonKey)?.[1]
      : undefined;
  if (field === undefined || field === null) {
    return { problem: `secret "${name}" has no key "${jsonKey}"` };
  }
  return { value: typeof field === 'string' ? field : JSON.stringify(field) };
}
