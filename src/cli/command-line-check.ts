import type { Command, Option } from 'commander';

/**
 * Checks command lines against a commander program without running anything: the lines
 * that documentation shows, so a renamed option or a removed command fails a test instead
 * of a reader. Structural only: it follows commander 14's parsing rules (subcommands by
 * name or alias, options of the command reached or of an ancestor, option values, operand
 * counts, mandatory options, choices) but calls no action and no argument parser.
 */

/** commander's own options, accepted on every command. */
const HELP_FLAGS = new Set(['-h', '--help']);
const VERSION_FLAGS = new Set(['-V', '--version']);

/** Written like `SERVICE`, `KEY=VALUE` or `<token>`: a placeholder, so not checked against choices. */
const PLACEHOLDER = /^(?:[A-Z][A-Z0-9_=-]*|<[^>]+>)$/;
const NEGATIVE_NUMBER = /^-\d*\.?\d+$/;

/**
 * The problems with running `program` with `words` (what follows the program's name, as
 * `process.argv.slice(2)`); empty when commander would accept them.
 */
export function checkCommandLine(program: Command, words: readonly string[]): string[] {
  const line = new LineState(program);
  let index = 0;
  while (index < words.length && line.problems.length === 0 && !line.stopped) {
    index = line.take(words, index);
  }
  if (line.problems.length === 0 && !line.stopped) line.finish();
  return line.problems;
}

/** One walk through a command line: where it stands, and what it found wrong. */
class LineState {
  readonly problems: string[] = [];
  /** Help or version asked for: commander prints it and stops checking the rest. */
  stopped = false;
  private command: Command;
  private readonly operands: string[] = [];
  private readonly given = new Set<string>();
  private afterDoubleDash = false;
  private variadicOption: Option | undefined;

  constructor(program: Command) {
    this.command = program;
  }

  /** Reads the word at `index` (and its value, if it takes one); returns the next index. */
  take(words: readonly string[], index: number): number {
    const word = words[index] ?? '';
    if (!this.afterDoubleDash && word === '--') {
      this.afterDoubleDash = true;
      return index + 1;
    }
    if (!this.afterDoubleDash && isOptionLike(word) && !this.isNegativeOperand(word)) {
      this.variadicOption = undefined;
      return this.takeOption(words, index);
    }
    if (this.variadicOption !== undefined) {
      this.checkChoice(this.variadicOption, word);
      return index + 1;
    }
    this.takeOperand(word, words.slice(index + 1));
    return index + 1;
  }

  /** What can only be judged at the end: a missing subcommand, operands, mandatory options. */
  finish(): void {
    const command = this.command;
    if (command.commands.length > 0 && !hasAction(command)) {
      const names = command.commands.map((sub) => sub.name()).join(', ');
      this.problems.push(`${commandPath(command)} needs a subcommand (${names})`);
      return;
    }
    this.checkOperands();
    for (const option of optionsInScope(command)) {
      const satisfied = option.defaultValue !== undefined || option.envVar !== undefined;
      if (option.mandatory && !satisfied && !this.given.has(option.attributeName())) {
        this.problems.push(`${commandPath(command)} needs ${option.flags}`);
      }
    }
  }

  private takeOption(words: readonly string[], index: number): number {
    const word = words[index] ?? '';
    if (HELP_FLAGS.has(word)) return this.stop(index);
    const equals = word.startsWith('--') ? word.indexOf('=') : -1;
    if (equals > 0) {
      this.takeInlineValue(word.slice(0, equals), word.slice(equals + 1));
      return index + 1;
    }
    const option = this.findOption(word);
    if (option !== undefined) return this.takeOptionValue(option, words, index + 1);
    if (!word.startsWith('--') && word.length > 2) return this.takeShortGroup(words, index);
    this.problems.push(`unknown option '${word}' for ${commandPath(this.command)}`);
    return index + 1;
  }

  /** `--name=value`: only for an option that takes a value, as commander reads it. */
  private takeInlineValue(flag: string, value: string): void {
    const option = this.findOption(flag);
    if (option === undefined) {
      this.problems.push(`unknown option '${flag}' for ${commandPath(this.command)}`);
    } else if (option.isBoolean()) {
      this.problems.push(`option '${flag}' of ${commandPath(this.command)} takes no value`);
    } else {
      this.given.add(option.attributeName());
      this.checkChoice(option, value);
      this.variadicOption = option.variadic ? option : undefined;
    }
  }

  /** The option at `next - 1` was recognised; consumes its value if it has one. */
  private takeOptionValue(option: Option, words: readonly string[], next: number): number {
    if (VERSION_FLAGS.has(option.long ?? '') || VERSION_FLAGS.has(option.short ?? '')) {
      return this.stop(next);
    }
    this.given.add(option.attributeName());
    this.variadicOption = option.variadic ? option : undefined;
    const value = words[next];
    if (option.required) {
      if (value === undefined) {
        this.problems.push(
          `option '${option.flags}' of ${commandPath(this.command)} needs a value`,
        );
        return next;
      }
      this.checkChoice(option, value);
      return next + 1;
    }
    if (option.optional && value !== undefined && !isOptionLike(value)) {
      this.checkChoice(option, value);
      return next + 1;
    }
    return next;
  }

  /** `-qf` is `-q -f`; `-p8080` is `-p 8080` when `-p` takes a value. */
  private takeShortGroup(words: readonly string[], index: number): number {
    const word = words[index] ?? '';
    const option = this.findOption(word.slice(0, 2));
    if (option === undefined) {
      this.problems.push(`unknown option '${word.slice(0, 2)}' for ${commandPath(this.command)}`);
      return index + 1;
    }
    if (!option.isBoolean()) {
      this.given.add(option.attributeName());
      this.checkChoice(option, word.slice(2));
      return index + 1;
    }
    this.given.add(option.attributeName());
    const rest = [...words];
    rest[index] = `-${word.slice(2)}`;
    return this.take(rest, index);
  }

  private takeOperand(word: string, rest: readonly string[]): void {
    const command = this.command;
    if (this.operands.length === 0 && command.commands.length > 0) {
      const subcommand = command.commands.find(
        (sub) => sub.name() === word || sub.aliases().includes(word),
      );
      if (subcommand !== undefined) {
        this.command = subcommand;
        return;
      }
      if (word === 'help') {
        this.checkHelpTopic(rest);
        return;
      }
      if (!hasAction(command)) {
        this.problems.push(`unknown command '${word}' for ${commandPath(command)}`);
        return;
      }
    }
    this.operands.push(word);
  }

  /** `phoenix help deploy`: commander's implicit help command, naming a real command. */
  private checkHelpTopic(rest: readonly string[]): void {
    this.stopped = true;
    const topic = rest[0];
    if (topic === undefined) return;
    const known = this.command.commands.some(
      (sub) => sub.name() === topic || sub.aliases().includes(topic),
    );
    if (!known) this.problems.push(`unknown command '${topic}' for ${commandPath(this.command)}`);
  }

  private checkOperands(): void {
    const registered = this.command.registeredArguments;
    const path = commandPath(this.command);
    const missing = registered.slice(this.operands.length).filter((argument) => argument.required);
    if (missing.length > 0) {
      const names = missing
        .map((argument) => `<${argument.name()}${argument.variadic ? '...' : ''}>`)
        .join(' ');
      this.problems.push(`${path} needs ${names}`);
    }
    const last = registered.at(-1);
    if (this.operands.length > registered.length && last?.variadic !== true) {
      const extra = this.operands.slice(registered.length).join(' ');
      this.problems.push(`${path} takes ${registered.length} operand(s), also given: ${extra}`);
    }
    for (const [position, operand] of this.operands.entries()) {
      const argument = registered[Math.min(position, registered.length - 1)];
      const choices = argument?.argChoices;
      if (choices !== undefined && !PLACEHOLDER.test(operand) && !choices.includes(operand)) {
        this.problems.push(`${path}: '${operand}' is not one of ${choices.join(', ')}`);
      }
    }
  }

  private checkChoice(option: Option, value: string): void {
    const choices = option.argChoices;
    if (choices === undefined || PLACEHOLDER.test(value) || choices.includes(value)) return;
    this.problems.push(
      `option '${option.flags}' of ${commandPath(this.command)}: '${value}' is not one of ${choices.join(', ')}`,
    );
  }

  private findOption(flag: string): Option | undefined {
    return optionsInScope(this.command).find(
      (option) => option.long === flag || option.short === flag,
    );
  }

  /** A leaf command takes `-5` as an operand, as commander does. */
  private isNegativeOperand(word: string): boolean {
    return (
      this.command.commands.length === 0 &&
      NEGATIVE_NUMBER.test(word) &&
      this.findOption(word) === undefined
    );
  }

  private stop(next: number): number {
    this.stopped = true;
    return next;
  }
}

function isOptionLike(word: string): boolean {
  return word.length > 1 && word.startsWith('-');
}

/** The command's options, then its ancestors': commander reads an ancestor's anywhere after it. */
function optionsInScope(command: Command): Option[] {
  const options: Option[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) {
    options.push(...current.options);
  }
  return options;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) {
    names.unshift(current.name());
  }
  return `'${names.join(' ')}'`;
}

/**
 * Whether `.action()` was called. commander has no public accessor; `_actionHandler` is the
 * field its own parser tests (lib/command.js), and a unit test pins this reading.
 */
function hasAction(command: Command): boolean {
  return typeof Reflect.get(command, '_actionHandler') === 'function';
}

/** A synopsis that cannot be read: unbalanced brackets or quotes. */
export class SynopsisError extends Error {
  constructor(
    readonly synopsis: string,
    reason: string,
  ) {
    super(`${reason} in: ${synopsis}`);
    this.name = 'SynopsisError';
  }
}

type SynopsisNode =
  { kind: 'word'; alternatives: string[] } | { kind: 'group'; alternatives: SynopsisNode[][] };

/**
 * The concrete command lines a synopsis stands for, as word lists: every optional group
 * present (once per combination of `|` alternatives), plus the line with none of them.
 * Notation: `[...]` optional (nests), ` | ` between alternatives of a group or of the
 * whole line, `A|B` (no spaces) alternatives for one word, `...` after a word or as a word
 * of its own means repeatable and is dropped. Words split as a shell splits them: quotes
 * and backslashes, no expansion. UPPERCASE and `<name>` placeholders stay as words.
 */
export function synopsisVariants(synopsis: string): string[][] {
  const lines = parseSynopsis(synopsis);
  const variants = [
    ...lines.flatMap((sequence) => expandAll(sequence)),
    ...lines.map((sequence) => minimal(sequence)),
  ];
  const seen = new Set<string>();
  return variants.filter((words) => {
    const key = JSON.stringify(words);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function expandAll(sequence: readonly SynopsisNode[]): string[][] {
  let lines: string[][] = [[]];
  for (const node of sequence) {
    const choices =
      node.kind === 'word'
        ? node.alternatives.map((word) => [word])
        : node.alternatives.flatMap((inner) => expandAll(inner));
    lines = lines.flatMap((line) => choices.map((choice) => [...line, ...choice]));
  }
  return lines;
}

function minimal(sequence: readonly SynopsisNode[]): string[] {
  return sequence.flatMap((node) =>
    node.kind === 'word' && node.alternatives[0] !== undefined ? [node.alternatives[0]] : [],
  );
}

function parseSynopsis(synopsis: string): SynopsisNode[][] {
  const parser = new SynopsisParser(synopsis);
  return parser.parse();
}

/** A character scanner for synopses: quotes, brackets, `|` and `...`. */
class SynopsisParser {
  /** Open groups, innermost last; each holds its alternatives, the current one last. */
  private readonly groups: SynopsisNode[][][] = [[[]]];
  private word: string[] = [''];
  private inWord = false;
  private literalBrackets = 0;
  private position = 0;

  constructor(private readonly text: string) {}

  parse(): SynopsisNode[][] {
    while (this.position < this.text.length) this.step();
    this.endWord();
    const top = this.groups[0];
    if (this.groups.length !== 1 || top === undefined) {
      throw new SynopsisError(this.text, "'[' not closed");
    }
    return top;
  }

  private step(): void {
    const char = this.text.charAt(this.position);
    this.position += 1;
    if (char === "'" || char === '"') return this.quoted(char);
    if (char === '\\') return this.append(this.text.charAt(this.position++));
    if (/\s/.test(char)) return this.endWord();
    if (char === '[') return this.openBracket();
    if (char === ']') return this.closeBracket();
    if (char === '|') return this.bar();
    if (char === '.' && this.isEllipsis()) {
      this.position += 2;
      return this.endWord();
    }
    this.append(char);
  }

  private quoted(quote: string): void {
    this.inWord = true;
    while (this.position < this.text.length) {
      const char = this.text.charAt(this.position);
      this.position += 1;
      if (char === quote) return;
      const escapable =
        quote === '"' && char === '\\' && /["\\$`]/.test(this.text.charAt(this.position));
      this.appendText(escapable ? this.text.charAt(this.position++) : char);
    }
    throw new SynopsisError(this.text, `${quote} not closed`);
  }

  /** `...` ending a word or standing alone; `../x` and `a...b` are plain text. */
  private isEllipsis(): boolean {
    if (!this.text.startsWith('...', this.position - 1)) return false;
    const after = this.text.charAt(this.position + 2);
    return after === '' || /[\s\]|]/.test(after);
  }

  private openBracket(): void {
    if (this.inWord) {
      this.literalBrackets += 1;
      return this.append('[');
    }
    this.groups.push([[]]);
  }

  private closeBracket(): void {
    if (this.literalBrackets > 0) {
      this.literalBrackets -= 1;
      return this.append(']');
    }
    this.endWord();
    const group = this.groups.pop();
    if (group === undefined || this.groups.length === 0) {
      throw new SynopsisError(this.text, "']' without '['");
    }
    this.current().push({ kind: 'group', alternatives: group });
  }

  /** Inside a word, another spelling of the word; between words, another sequence. */
  private bar(): void {
    if (this.inWord) {
      this.word.push('');
      return;
    }
    this.groups.at(-1)?.push([]);
  }

  private append(char: string): void {
    this.inWord = true;
    this.appendText(char);
  }

  private appendText(text: string): void {
    const last = this.word.length - 1;
    this.word[last] = `${this.word[last] ?? ''}${text}`;
  }

  private endWord(): void {
    if (this.inWord) this.current().push({ kind: 'word', alternatives: this.word });
    this.word = [''];
    this.inWord = false;
    this.literalBrackets = 0;
  }

  private current(): SynopsisNode[] {
    const alternatives = this.groups.at(-1);
    const sequence = alternatives?.at(-1);
    if (sequence === undefined) throw new SynopsisError(this.text, 'unbalanced brackets');
    return sequence;
  }
}
