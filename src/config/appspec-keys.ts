import type { ZodIssue } from 'zod';
import type { ValidationIssue } from '../shared/errors.js';
import { KEY_ADVICE, SERVICE_KEYS } from './appspec-schema.js';
import { keyName, type KeyPath, type YamlSource } from './yaml-source.js';

/**
 * Helpers for reading an appspec's keys: zod issues located in the file (with "did you mean"
 * hints and advice for keys CodeDeploy never had), and the case-blind key matching of ECS and
 * Lambda appspecs, whose paths are translated back to the file's own spelling for messages.
 */

/** Zod's issues as located ones; `translate` maps schema paths to the file's own spelling. */
export function zodIssues(
  source: YamlSource,
  issues: readonly ZodIssue[],
  knownKeys: readonly string[],
  translate: (path: KeyPath) => KeyPath = (path) => path,
): ValidationIssue[] {
  return issues.flatMap((issue): ValidationIssue[] => {
    if (issue.code === 'invalid_union') {
      const deeper = issue.unionErrors
        .flatMap((error) => error.issues)
        .filter((nested) => nested.path.length > issue.path.length);
      if (deeper.length > 0) return zodIssues(source, deeper.slice(0, 1), knownKeys, translate);
    }
    const path = translate(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        location: source.locateKey(path, key),
        key: keyName([...path, key]),
        message: unknownKey(key, knownKeys),
      }));
    }
    const last = path.at(-1);
    if (issue.code === 'custom' && issue.params?.atKey === true && typeof last === 'string') {
      return [
        {
          location: source.locateKey(path.slice(0, -1), last),
          key: keyName(path),
          message: issue.message,
        },
      ];
    }
    return [source.issue(path, issue.message)];
  });
}

function unknownKey(key: string, knownKeys: readonly string[]): string {
  const advice = ownValue(KEY_ADVICE, key);
  if (advice !== undefined) return `unknown key "${key}": ${advice}`;
  const near = closest(key, knownKeys);
  return `unknown key "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}`;
}

const CANONICAL = new Map<string, string>(SERVICE_KEYS.map((key) => [key.toLowerCase(), key]));

/** ECS and Lambda keys in the schema's spelling; one key in two spellings is an error. */
export function canonicalKeys(
  js: Record<string, unknown>,
  source: YamlSource,
): { value: unknown; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const walk = (node: unknown, path: KeyPath): unknown => {
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (!isRecord(node)) return node;
    const result: Record<string, unknown> = {};
    const spelled = new Map<string, string>();
    for (const [key, value] of Object.entries(node)) {
      const name = CANONICAL.get(key.toLowerCase()) ?? key;
      const earlier = spelled.get(name);
      if (earlier !== undefined) {
        issues.push({
          location: source.locateKey(path, key),
          key: keyName([...path, key]),
          message: `"${key}" repeats "${earlier}": keys of ECS and Lambda appspecs are read whatever their case`,
        });
      }
      spelled.set(name, key);
      // Function names under PhoenixCommands are the user's, not keys of the format.
      result[name] =
        name === 'PhoenixCommands' && path.length === 0 ? value : walk(value, [...path, key]);
    }
    return result;
  };
  return { value: walk(js, []), issues };
}

/** The path as the file spells it, for a path in the schema's spelling. */
export function rawPath(js: unknown, path: KeyPath): KeyPath {
  const result: (string | number)[] = [];
  let node: unknown = js;
  for (const part of path) {
    if (typeof part === 'number' || !isRecord(node)) {
      result.push(part);
      node = Array.isArray(node) && typeof part === 'number' ? node[part] : undefined;
      continue;
    }
    const keys = Object.keys(node);
    const key = keys.includes(part)
      ? part
      : keys.find((k) => k.toLowerCase() === part.toLowerCase());
    result.push(key ?? part);
    node = key === undefined ? undefined : node[key];
  }
  return result;
}

export function valueOf(record: Record<string, unknown>, key: string): unknown {
  const found = Object.keys(record).find((k) => k.toLowerCase() === key.toLowerCase());
  return found === undefined ? undefined : record[found];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The candidate within two edits of `name`, ignoring case, for "did you mean" hints. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** `record[key]` for the record's own keys only: YAML keys such as `constructor` are data. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
