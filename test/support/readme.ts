/**
 * Reading the commands a Markdown document shows: in shell code blocks, in the CLI table,
 * and in synopsis blocks. Pure functions over the text, so tests can feed them variants.
 */

/** One line of the document (or a command that starts on it), numbered from 1. */
export interface SourceLine {
  line: number;
  text: string;
}

export interface FencedBlock {
  /** The info string's first word (`sh`, `yaml`), or '' for a bare fence. */
  language: string;
  info: string;
  /** The content, without the fences. */
  lines: SourceLine[];
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

export function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  let open: { fence: string; block: FencedBlock } | undefined;
  for (const [index, text] of markdown.split('\n').entries()) {
    const line = index + 1;
    const match = FENCE.exec(text);
    if (open === undefined) {
      const fence = match?.[1];
      const info = (match?.[2] ?? '').trim();
      // A backtick fence's info string may not hold backticks (CommonMark).
      if (fence === undefined || (fence.startsWith('`') && info.includes('`'))) continue;
      open = { fence, block: { language: info.split(/\s+/)[0] ?? '', info, lines: [] } };
      blocks.push(open.block);
    } else if (isClosingFence(match, open.fence)) {
      open = undefined;
    } else {
      open.block.lines.push({ line, text });
    }
  }
  return blocks;
}

function isClosingFence(match: RegExpExecArray | null, fence: string): boolean {
  const candidate = match?.[1];
  return (
    candidate !== undefined &&
    candidate[0] === fence[0] &&
    candidate.length >= fence.length &&
    (match?.[2] ?? '').trim() === ''
  );
}

/**
 * Every command in `sh`/`bash`/`shell` blocks, one per line, with its comment removed;
 * `&&`, `||`, `;` and `|` split a line into several commands, and a line ending in `\`
 * goes on on the next one.
 */
export function shellCommands(markdown: string): SourceLine[] {
  const commands: SourceLine[] = [];
  for (const block of fencedBlocks(markdown)) {
    if (!SHELL_LANGUAGES.has(block.language)) continue;
    for (const { line, text } of joinContinuations(block.lines)) {
      for (const command of splitShellLine(text)) commands.push({ line, text: command });
    }
  }
  return commands;
}

function joinContinuations(lines: readonly SourceLine[]): SourceLine[] {
  const joined: SourceLine[] = [];
  let pending: SourceLine | undefined;
  for (const { line, text } of lines) {
    const current: SourceLine = pending
      ? { line: pending.line, text: `${pending.text.trimEnd()} ${text.trimStart()}` }
      : { line, text };
    if (/(^|[^\\])(\\\\)*\\$/.test(current.text)) {
      pending = { line: current.line, text: current.text.slice(0, -1) };
    } else {
      joined.push(current);
      pending = undefined;
    }
  }
  if (pending) joined.push(pending);
  return joined;
}

/**
 * A shell line's commands: split on `&&`, `||`, `;` and `|` outside quotes, up to a
 * comment (a `#` at the start of a word: `shop#1` and `'#'` are not comments). Blank
 * commands are dropped.
 */
export function splitShellLine(text: string): string[] {
  const commands: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text.charAt(index);
    if (quote !== undefined) {
      if (char === '\\' && quote === '"') {
        current += char + text.charAt(++index);
        continue;
      }
      if (char === quote) quote = undefined;
      current += char;
      continue;
    }
    if (char === '\\') {
      current += char + text.charAt(++index);
      continue;
    }
    if (char === '#' && (index === 0 || /\s/.test(text.charAt(index - 1)))) break;
    const operator = /^(?:&&|\|\||;|\|)/.exec(text.slice(index))?.[0];
    if (operator !== undefined) {
      commands.push(current);
      current = '';
      index += operator.length - 1;
      continue;
    }
    if (char === "'" || char === '"') quote = char;
    current += char;
  }
  commands.push(current);
  return commands.map((command) => command.trim()).filter((command) => command !== '');
}

/**
 * The backticked commands in the first column of the table under `## CLI`. An entry
 * without the `phoenix` prefix (`token list`) is a `phoenix` subcommand; one ending in
 * `...` (`reject ...`) takes the same operands and options as the entry before it.
 */
export function cliTableCommands(markdown: string): SourceLine[] {
  const commands: SourceLine[] = [];
  let previous: string[] = [];
  for (const row of tableRows(sectionLines(markdown, 'CLI')).slice(2)) {
    const firstCell = splitTableRow(row.text)[0] ?? '';
    for (const span of firstCell.matchAll(/`([^`]+)`/g)) {
      const entry = (span[1] ?? '').replaceAll('\\|', '|').trim();
      const words = expandEntry(entry.split(/\s+/), previous);
      commands.push({ line: row.line, text: words.join(' ') });
      previous = words;
    }
  }
  return commands;
}

function expandEntry(words: string[], previous: readonly string[]): string[] {
  if (words[0] === 'phoenix') return words;
  if (words.at(-1) !== '...' || previous.length === 0) return ['phoenix', ...words];
  const named = words.slice(0, -1);
  return ['phoenix', ...named, ...previous.slice(1 + named.length)];
}

/** The first table's rows in a section, header and delimiter rows included. */
function tableRows(lines: readonly SourceLine[]): SourceLine[] {
  const start = lines.findIndex(({ text }) => text.trimStart().startsWith('|'));
  if (start < 0) return [];
  const end = lines.findIndex(
    ({ text }, index) => index > start && !text.trimStart().startsWith('|'),
  );
  return lines.slice(start, end < 0 ? undefined : end);
}

/** A table row's cells, trimmed; `\|` does not split a cell. */
function splitTableRow(text: string): string[] {
  const inner = text
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/**
 * The synopses in the bare code block right under the heading `heading` (its text, without
 * the `#`s): one per line, a line starting with whitespace continuing the one before.
 */
export function synopsesUnder(markdown: string, heading: string): SourceLine[] {
  const section = sectionLines(markdown, heading);
  const first = section[0]?.line ?? 0;
  const last = section.at(-1)?.line ?? 0;
  const block = fencedBlocks(markdown).find(
    (candidate) =>
      (candidate.lines[0]?.line ?? 0) > first && (candidate.lines[0]?.line ?? 0) <= last,
  );
  if (block === undefined || block.language !== '') return [];
  const synopses: SourceLine[] = [];
  for (const { line, text } of block.lines) {
    const previous = synopses.at(-1);
    if (text.trim() === '') continue;
    if (/^\s/.test(text) && previous !== undefined) previous.text += ` ${text.trim()}`;
    else synopses.push({ line, text: text.trim() });
  }
  return synopses;
}

/**
 * The lines of the section under a heading whose text is `heading`, up to the next heading
 * of the same level or above; empty when there is no such heading. Lines inside fenced
 * blocks never count as headings.
 */
function sectionLines(markdown: string, heading: string): SourceLine[] {
  const lines = markdown.split('\n').map((text, index) => ({ line: index + 1, text }));
  const fenced = new Set(fencedBlocks(markdown).flatMap((block) => block.lines.map((l) => l.line)));
  const headingAt = (index: number): { level: number; title: string } | undefined => {
    const entry = lines[index];
    if (entry === undefined || fenced.has(entry.line)) return undefined;
    const match = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(entry.text);
    return match ? { level: match[1]?.length ?? 0, title: match[2] ?? '' } : undefined;
  };
  const start = lines.findIndex((_, index) => headingAt(index)?.title === heading);
  const level = headingAt(start)?.level;
  if (level === undefined) return [];
  const after = lines.findIndex((_, index) => {
    const next = headingAt(index);
    return index > start && next !== undefined && next.level <= level;
  });
  return lines.slice(start + 1, after < 0 ? undefined : after);
}
