import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planBatch } from './batch-plan.js';
import { cachePathIssues } from './cache-step.js';
import type { CacheLocation } from './cache-paths.js';
import { preflight, type PreflightContext } from './preflight.js';
import { resolveBuildSecrets, unconfiguredSecrets, type SecretResolver } from './secrets.js';
import {
  UnsupportedError,
  ValidationError,
  type SourceLocation,
  type ValidationIssue,
} from '../shared/errors.js';
import { parseBuildspec, type Buildspec } from '../config/buildspec.js';

/**
 * What Phoenix makes of a buildspec it is handed unchanged: does it parse, would a build
 * start, and what does Phoenix warn about. The same checks `phoenix build` makes before its
 * first command (preflight, secrets, cache paths), run against a described machine instead of
 * this one, so the verdict for the real-world corpus is the same everywhere.
 */

/** The machine a buildspec is assessed for. */
export interface AssessContext extends PreflightContext {
  secrets: SecretResolver;
  /** Any build folders: cache paths are only checked for leaving them. */
  cacheLocation: CacheLocation;
}

/**
 * A machine with nothing set up for CodeBuild's habits: Phoenix runs as root, there is no
 * `codebuild-user` account and no secret store.
 */
export const BARE_ROOT_MACHINE: AssessContext = {
  lookupUser: async (name) => (name === 'root' ? { user: 'root', uid: 0, gid: 0 } : undefined),
  currentUid: 0,
  secrets: unconfiguredSecrets,
  cacheLocation: { root: '/src', home: '/home' },
};

export interface CorpusNote {
  /** The buildspec key the note is about, e.g. `phases.install.runtime-versions`. */
  key: string;
  text: string;
}

export interface CorpusEntry {
  file: string;
  /** True, or the first line of the parser's refusal. */
  parses: true | string;
  /** Phoenix accepts the buildspec and starts its phases without any change to it. */
  runsAsIs: boolean;
  /** Why `phoenix build` refuses it before any command runs; empty when it starts. */
  refusals: ValidationIssue[];
  /** The parser's warnings and, for a `batch` section, whether `phoenix build --batch` plans it. */
  notes: CorpusNote[];
}

/** Assesses one buildspec's text; `file` names it in every issue. */
export async function assessBuildspec(
  text: string,
  file: string,
  context: AssessContext,
): Promise<CorpusEntry> {
  let spec: Buildspec;
  try {
    spec = parseBuildspec(text, file);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const firstLine = error.message.split('\n')[0] ?? error.message;
    return { file, parses: firstLine, runsAsIs: false, refusals: [...error.issues], notes: [] };
  }
  const checked = await preflight(spec, context);
  const secrets = await resolveBuildSecrets(spec, context.secrets);
  const refusals = [
    ...checked.issues,
    ...secrets.issues,
    ...cachePathIssues(spec.cache, context.cacheLocation),
  ];
  const notes = spec.warnings.map((warning) => ({
    key: warning.key,
    text: brief(warning.message),
  }));
  if (spec.batch !== undefined) notes.push(batchNote(spec));
  if (spec.batch !== undefined && spec.phases.length === 0) {
    notes.push({ key: 'phases', text: 'none: only phoenix build --batch runs commands' });
  }
  return { file, parses: true, runsAsIs: refusals.length === 0, refusals, notes };
}

/** Assesses every file of a folder, in file name order. */
export async function assessFolder(
  directory: string,
  context: AssessContext,
): Promise<CorpusEntry[]> {
  const names = (await readdir(directory, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort(byCodePoint);
  const entries: CorpusEntry[] = [];
  for (const name of names) {
    entries.push(
      await assessBuildspec(await readFile(join(directory, name), 'utf8'), name, context),
    );
  }
  return entries;
}

function batchNote(spec: Buildspec): CorpusNote {
  try {
    const plan = planBatch(spec);
    const tasks = `${plan.tasks.length} ${plan.tasks.length === 1 ? 'task' : 'tasks'}`;
    const ignored =
      plan.warnings.length === 0
        ? ''
        : `; ${plan.warnings.length} machine settings (image, compute type, fleet, privileged mode) do not apply: tasks run on this host`;
    return { key: 'batch', text: `${plan.kind} accepted, ${tasks}${ignored}` };
  } catch (error) {
    if (!(error instanceof UnsupportedError) && !(error instanceof ValidationError)) throw error;
    const issue = error.issues[0];
    if (issue === undefined) return { key: 'batch', text: 'refused' };
    return {
      key: issue.key,
      text: `refused at ${position(issue.location)}: ${brief(issue.message)}`,
    };
  }
}

/** The statement itself, without the advice that follows a semicolon. */
function brief(message: string): string {
  return message.split('; ')[0] ?? message;
}

function position(location: SourceLocation): string {
  return `${location.line}:${location.column}`;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The corpus as a Markdown table, sorted by file name, followed by the counts. Deterministic:
 * no dates, no absolute paths. Columns are padded as Prettier pads them, so the table can be
 * pasted into a formatted document and compared with it byte for byte.
 */
export function renderCorpusTable(entries: readonly CorpusEntry[]): string {
  const sorted = [...entries].sort((a, b) => byCodePoint(a.file, b.file));
  const rows = sorted.map((entry) => [
    code(entry.file),
    entry.parses === true ? 'yes' : `no: ${escapeCell(entry.parses)}`,
    entry.runsAsIs ? 'yes' : 'no',
    says(entry),
  ]);
  const starting = sorted.filter((entry) => entry.runsAsIs).length;
  const total = `${starting} of ${sorted.length} files start as-is; ${sorted.length - starting} are refused before any command runs.`;
  return `${alignedTable(['file', 'parses', 'starts as-is', 'what Phoenix says'], rows)}\n\n${total}\n`;
}

/** Refusals grouped by message (one line per reason), then notes. */
function says(entry: CorpusEntry): string {
  const lines: string[] = [];
  const byMessage = new Map<string, ValidationIssue[]>();
  for (const issue of entry.parses === true ? entry.refusals : []) {
    const message = brief(issue.message);
    byMessage.set(message, [...(byMessage.get(message) ?? []), issue]);
  }
  for (const [message, issues] of byMessage) {
    const where = issues.map((issue) => `${position(issue.location)} ${code(issue.key)}`);
    lines.push(`refused: ${where.join(', ')}: ${escapeCell(message)}`);
  }
  for (const note of entry.notes) lines.push(`${code(note.key)}: ${escapeCell(note.text)}`);
  return lines.length === 0 ? '—' : lines.join('<br>');
}

function code(text: string): string {
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

/** Keeps text literal inside a table cell: no column breaks, no emphasis, no HTML. */
function escapeCell(text: string): string {
  return text.replace(/[\\|*_`<>[\]]/g, (character) => `\\${character}`);
}

function alignedTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - width(cell))).join(' | ')} |`;
  const rule = `| ${widths.map((size) => '-'.repeat(size)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Characters as Prettier counts them for the text in these tables (no wide characters). */
function width(text: string): number {
  return [...text].length;
}
