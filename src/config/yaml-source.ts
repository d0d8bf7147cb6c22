import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import type { ZodIssue } from 'zod';
import { ValidationError, type SourceLocation, type ValidationIssue } from '../shared/errors.js';

export type KeyPath = readonly (string | number)[];

/**
 * A parsed YAML file that still knows where every key and value came from, so that any
 * later complaint (schema, unsupported feature, bad path) can name file, line, column and key.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parses YAML text; syntax errors become a ValidationError with every position. */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
    const duplicates = duplicateKeys(doc).map(({ path, offset }) => {
      const { line, col } = lines.linePos(offset);
      return {
        location: { file, line, column: col },
        key: keyName(path),
        message: `duplicate key "${String(path.at(-1))}"`,
      };
    });
    if (doc.errors.length > 0 || duplicates.length > 0) {
      throw new ValidationError([
        ...duplicates,
        ...doc.errors.map((error) => {
          const [line, column] = error.linePos?.[0]
            ? [error.linePos[0].line, error.linePos[0].col]
            : [1, 1];
          return {
            location: { file, line, column },
            key: '',
            message: `invalid YAML: ${firstLine(error.message)}`,
          };
        }),
      ]);
    }
    return new YamlSource(file, doc, lines);
  }

  /** The plain data; an alias bomb or a similar structural problem is a ValidationError. */
  toJS(): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      throw new ValidationError(
        [
          {
            location: { file: this.file, line: 1, column: 1 },
            key: '',
            message: `invalid YAML: ${error instanceof Error ? error.message : String(error)}`,
          },
        ],
        { cause: error },
      );
    }
  }

  /** Position of the value at `path`, or of the nearest ancestor that exists. */
  locate(path: KeyPath): SourceLocation {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true);
      if (isNodeWithRange(node)) return this.position(node.range[0]);
    }
    return { file: this.file, line: 1, column: 1 };
  }

  /** Position of the key itself (not its value) under the map at `parent`. */
  locateKey(parent: KeyPath, key: string): SourceLocation {
    const map = parent.length === 0 ? this.doc.contents : this.doc.getIn(parent, true);
    if (isMap(map)) {
      for (const item of map.items) {
        if (
          isPair(item) &&
          isScalar(item.key) &&
          String(item.key.value) === key &&
          item.key.range
        ) {
          return this.position(item.key.range[0]);
        }
      }
    }
    return this.locate(parent);
  }

  issue(path: KeyPath, message: string): ValidationIssue {
    return { location: this.locate(path), key: keyName(path), message };
  }

  /** Turns zod's issues into located ValidationIssues. */
  zodIssues(issues: readonly ZodIssue[], knownKeys: readonly string[] = []): ValidationIssue[] {
    return issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          location: this.locateKey(issue.path, key),
          key: keyName([...issue.path, key]),
          message: `unknown key "${key}"${suggestion(key, knownKeys)}`,
        }));
      }
      if (issue.code === 'invalid_union') {
        const nested = issue.unionErrors.flatMap((error) => error.issues);
        const deepest = nested.filter((n) => n.path.length > issue.path.length);
        if (deepest.length > 0) return this.zodIssues(deepest.slice(0, 1), knownKeys);
      }
      return [this.issue(issue.path, issue.message)];
    });
  }

  private position(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }
}

export function keyName(path: KeyPath): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : part))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** Keys that appear twice in one mapping, with the second one's position. */
function duplicateKeys(doc: Document.Parsed): { path: (string | number)[]; offset: number }[] {
  const found: { path: (string | number)[]; offset: number }[] = [];
  const walk = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const item of node.items) {
        if (!isScalar(item.key)) continue;
        const key = String(item.key.value);
        if (seen.has(key) && item.key.range)
          found.push({ path: [...path, key], offset: item.key.range[0] });
        seen.add(key);
        walk(item.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    }
  };
  walk(doc.contents, []);
  return found;
}

function isNodeWithRange(node: unknown): node is Node & { range: [number, number, number] } {
  return (
    (isScalar(node) || isMap(node) || isSeq(node)) &&
    node.range !== undefined &&
    node.range !== null
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** Hint for a misspelt key, only when a known key is close. */
function suggestion(key: string, knownKeys: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of knownKeys) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        previous + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length] ?? 0;
}
