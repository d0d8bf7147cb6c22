import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceLocation, ValidationIssue } from '../shared/errors.js';

/**
 * What the buildspec and appspec corpus reports share: assessing every file of a corpus
 * folder, and the Markdown table they are rendered as. Tables are deterministic (no dates, no
 * absolute paths) and padded as Prettier pads them, so a generated table can be pasted into a
 * formatted document and compared with it byte for byte.
 */

/** Something Phoenix says about one key of an assessed file. */
export interface CorpusNote {
  /** The key the note is about, e.g. `phases.install.runtime-versions`. */
  key: string;
  text: string;
}

/** Assesses every file of a folder, in file name order; `assess` gets a file's text and name. */
export async function assessEachFile<Entry>(
  directory: string,
  assess: (text: string, file: string) => Promise<Entry>,
): Promise<Entry[]> {
  const names = (await readdir(directory, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort(byCodePoint);
  const entries: Entry[] = [];
  for (const name of names) {
    entries.push(await assess(await readFile(join(directory, name), 'utf8'), name));
  }
  return entries;
}

/** Entries in file name order, as the table lists them. */
export function sortedByFile<Entry extends { file: string }>(entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => byCodePoint(a.file, b.file));
}

/** The "what Phoenix says" cell: refusals grouped by message (one line per reason), then notes. */
export function saysCell(
  refusals: readonly ValidationIssue[],
  notes: readonly CorpusNote[],
): string {
  const lines: string[] = [];
  const byMessage = new Map<string, ValidationIssue[]>();
  for (const issue of refusals) {
    const message = brief(issue.message);
    byMessage.set(message, [...(byMessage.get(message) ?? []), issue]);
  }
  for (const [message, issues] of byMessage) {
    const where = issues.map((issue) =>
      issue.key === ''
        ? position(issue.location)
        : `${position(issue.location)} ${codeCell(issue.key)}`,
    );
    lines.push(`refused: ${where.join(', ')}: ${escapeCell(message)}`);
  }
  for (const note of notes) lines.push(`${codeCell(note.key)}: ${escapeCell(note.text)}`);
  return lines.length === 0 ? '—' : lines.join('<br>');
}

/** The statement itself, without the advice or the list that follows a semicolon. */
export function brief(message: string): string {
  return message.split('; ')[0] ?? message;
}

/** `line:column`, without the file: each table row already names it. */
export function position(location: SourceLocation): string {
  return `${location.line}:${location.column}`;
}

/** Text as inline code inside a table cell. */
export function codeCell(text: string): string {
  return `\`${text.replace(/\|/g, '\\|')}\``;
}

/** Keeps text literal inside a table cell: no column breaks, no emphasis, no HTML. */
export function escapeCell(text: string): string {
  return text.replace(/[\\|*_`<>[\]]/g, (character) => `\\${character}`);
}

/** A Markdown table with every column padded to its widest cell. */
export function alignedTable(header: readonly string[], rows: readonly string[][]): string {
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

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
