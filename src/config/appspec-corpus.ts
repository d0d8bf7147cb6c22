import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError, type SourceLocation, type ValidationIssue } from '../shared/errors.js';
import { checkAppspec, type AppspecContext } from './appspec-check.js';
import { hookPlan, type PlannedHook } from './appspec-hooks.js';
import { PLATFORM_NAMES, type ComputePlatform } from './appspec-schema.js';
import { parseAppspec, type Appspec } from './appspec.js';

/**
 * What Phoenix makes of an AppSpec file it is handed unchanged: does it parse, would a
 * deployment accept it, what would run and what does Phoenix warn about. The same checks a
 * deployment makes before its first hook, run against a described machine instead of this one,
 * so the verdict for the real-world corpus is the same everywhere.
 */

/**
 * A machine with nothing set up for CodeDeploy's habits: Phoenix runs as root, there is no
 * `ec2-user` or `ubuntu` account, the deployment is blue/green and phoenix.yml maps no Lambda
 * function to a command. The corpus holds appspecs without their revisions, so scripts and
 * sources are not looked for.
 */
export const CORPUS_MACHINE: AppspecContext = {
  releaseDir: '/srv/phoenix/releases/shop/r1',
  revisionPresent: false,
  currentUid: 0,
  lookupUser: async (name) => (name === 'root' ? { user: 'root', uid: 0, gid: 0 } : undefined),
  lookupGroup: async (name) => (name === 'root' ? 0 : undefined),
  strategy: 'blue-green',
};

export interface AppspecCorpusNote {
  key: string;
  text: string;
}

export interface AppspecCorpusEntry {
  file: string;
  platform?: ComputePlatform;
  parses: boolean;
  /** A deployment would take the appspec as it is and run its hooks. */
  accepted: boolean;
  /** The parser's or the deployment's refusals; empty when accepted. */
  refusals: ValidationIssue[];
  /** The parser's warnings, then the hooks in the order a blue/green deployment runs them. */
  notes: AppspecCorpusNote[];
}

/** Assesses one appspec's text; `file` names it in every issue. */
export async function assessAppspec(
  text: string,
  file: string,
  context: AppspecContext,
): Promise<AppspecCorpusEntry> {
  let spec: Appspec;
  try {
    spec = parseAppspec(text, file);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { file, parses: false, accepted: false, refusals: [...error.issues], notes: [] };
  }
  const refusals = await checkAppspec(spec, context);
  const notes = spec.warnings.map((warning) => ({ key: warning.key, text: warning.message }));
  const hooks = hooksNote(spec);
  if (hooks !== undefined) notes.push(hooks);
  return {
    file,
    platform: spec.platform,
    parses: true,
    accepted: refusals.length === 0,
    refusals,
    notes,
  };
}

/** Assesses every file of a folder, in file name order. */
export async function assessAppspecFolder(
  directory: string,
  context: AppspecContext,
): Promise<AppspecCorpusEntry[]> {
  const names = (await readdir(directory, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort(byCodePoint);
  const entries: AppspecCorpusEntry[] = [];
  for (const name of names) {
    entries.push(await assessAppspec(await readFile(join(directory, name), 'utf8'), name, context));
  }
  return entries;
}

/** The hooks in the order a blue/green deployment runs them, and those run when it is replaced. */
function hooksNote(spec: Appspec): AppspecCorpusNote | undefined {
  const plan = hookPlan(spec, 'blue-green', { previous: spec });
  if (plan.length === 0) return undefined;
  const describe = (hook: PlannedHook): string =>
    hook.steps.length === 1 ? hook.event : `${hook.event} (${hook.steps.length} scripts)`;
  const now = plan.filter((hook) => hook.release === 'new').map(describe);
  const later = plan.filter((hook) => hook.release === 'previous').map(describe);
  const parts = [
    now.join(' → '),
    later.length > 0 ? `${later.join(' → ')} when the release is replaced` : '',
  ].filter((part) => part !== '');
  return { key: 'hooks', text: parts.join(', and ') };
}

/**
 * The corpus as a Markdown table, sorted by file name, followed by the counts. Deterministic:
 * no dates, no absolute paths. Columns are padded as Prettier pads them, so the table can be
 * pasted into a formatted document and compared with it byte for byte.
 */
export function renderAppspecTable(entries: readonly AppspecCorpusEntry[]): string {
  const sorted = [...entries].sort((a, b) => byCodePoint(a.file, b.file));
  const rows = sorted.map((entry) => [
    code(entry.file),
    entry.platform === undefined ? '—' : PLATFORM_NAMES[entry.platform],
    entry.parses ? 'yes' : 'no',
    entry.accepted ? 'yes' : 'no',
    says(entry),
  ]);
  const accepted = sorted.filter((entry) => entry.accepted).length;
  const unparsed = sorted.filter((entry) => !entry.parses).length;
  const total = `${accepted} of ${sorted.length} files are accepted as-is; ${sorted.length - accepted} are refused before any hook runs (${unparsed} of them by the parser).`;
  const header = ['file', 'platform', 'parses', 'accepted as-is', 'what Phoenix says'];
  return `${alignedTable(header, rows)}\n\n${total}\n`;
}

/** Refusals grouped by message (one line per reason), then notes. */
function says(entry: AppspecCorpusEntry): string {
  const lines: string[] = [];
  const byMessage = new Map<string, ValidationIssue[]>();
  for (const issue of entry.refusals) {
    const message = brief(issue.message);
    byMessage.set(message, [...(byMessage.get(message) ?? []), issue]);
  }
  for (const [message, issues] of byMessage) {
    const where = issues.map((issue) =>
      issue.key === ''
        ? position(issue.location)
        : `${position(issue.location)} ${code(issue.key)}`,
    );
    lines.push(`refused: ${where.join(', ')}: ${escapeCell(message)}`);
  }
  for (const note of entry.notes) lines.push(`${code(note.key)}: ${escapeCell(note.text)}`);
  return lines.length === 0 ? '—' : lines.join('<br>');
}

/** The statement itself, without the advice or the list that follows a semicolon. */
function brief(message: string): string {
  return message.split('; ')[0] ?? message;
}

function position(location: SourceLocation): string {
  return `${location.line}:${location.column}`;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
