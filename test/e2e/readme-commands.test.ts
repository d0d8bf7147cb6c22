import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkCommandLine, synopsisVariants } from '../../src/cli/command-line-check.js';
import { createProgram } from '../../src/cli/program.js';
import {
  cliTableCommands,
  shellCommands,
  splitShellLine,
  synopsesUnder,
  type SourceLine,
} from '../support/readme.js';

/**
 * Every command README.md shows is checked against the real CLI definition and
 * package.json, without running it (another test runs them). A kind of command this test
 * does not know fails, so none slips in unchecked.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const SYNOPSIS_HEADING = 'What `phoenix build` does';
const SCRIPTS = z
  .object({ scripts: z.record(z.string()) })
  .parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))).scripts;
const PROGRAM = createProgram();

/** npm commands that need nothing from package.json. */
const NPM_BUILT_INS = new Set(['ci', 'test', 'link']);
/** Commands run by the test that runs the README; here they only need to be known. */
const RUN_ELSEWHERE = new Set(['git', 'curl', 'cd', 'mkdir', 'cp']);

/** The arguments given to the phoenix CLI, or undefined when `words` do not run it. */
function cliArguments(words: readonly string[]): string[] | undefined {
  if (words[0] === 'phoenix') return words.slice(1);
  if (words[0] === 'node' && words[1] === 'dist/cli/main.js') return words.slice(2);
  return undefined;
}

function npmScriptProblems(name: string, args: readonly string[]): string[] {
  const script = SCRIPTS[name];
  if (script === undefined) return [`npm script '${name}' is not in package.json`];
  const extra = args[0] === '--' ? args.slice(1) : args;
  const scriptCommands = splitShellLine(script);
  const only = scriptCommands.length === 1 ? scriptCommands[0] : undefined;
  const cli = only === undefined ? undefined : cliArguments(synopsisVariants(only)[0] ?? []);
  if (cli === undefined) return [];
  return checkCommandLine(PROGRAM, [...cli, ...extra]).map((problem) => `${script}: ${problem}`);
}

function wordsProblems(words: readonly string[]): string[] {
  const cli = cliArguments(words);
  if (cli !== undefined) return checkCommandLine(PROGRAM, cli);
  const [first = '', second = '', third, ...rest] = words;
  if (first === 'npm' && second === 'run' && third !== undefined) {
    return npmScriptProblems(third, rest);
  }
  if (first === 'npm' && second === 'start') return npmScriptProblems('start', words.slice(2));
  if (first === 'npm' && NPM_BUILT_INS.has(second) && words.length === 2) return [];
  if (first === 'npx' && second === 'tsx' && third !== undefined) {
    return existsSync(join(ROOT, third)) ? [] : [`${third} does not exist`];
  }
  if (RUN_ELSEWHERE.has(first)) return [];
  return ['not a kind of command this test checks: teach test/e2e/readme-commands.test.ts'];
}

/** What is wrong with a documented command line, in every variant its synopsis stands for. */
function commandProblems(text: string): string[] {
  const variants = synopsisVariants(text);
  const problems = variants.flatMap((words) =>
    wordsProblems(words).map((problem) =>
      variants.length > 1 ? `${problem} (as: ${words.join(' ')})` : problem,
    ),
  );
  return [...new Set(problems)];
}

function runsCli(text: string): boolean {
  const words = synopsisVariants(text)[0] ?? [];
  return cliArguments(words) !== undefined || (words[0] === 'npm' && words[2] === 'phoenix');
}

/** Every command of a README: shell blocks, the CLI table, the `phoenix build` synopses. */
function readmeCommands(markdown: string): SourceLine[] {
  return [
    ...shellCommands(markdown),
    ...cliTableCommands(markdown),
    ...synopsesUnder(markdown, SYNOPSIS_HEADING),
  ];
}

function readmeProblems(markdown: string): string[] {
  return readmeCommands(markdown).flatMap(({ line, text }) =>
    commandProblems(text).map((problem) => `README.md:${line}: ${text}: ${problem}`),
  );
}

function docsCommands(): (SourceLine & { file: string })[] {
  const folder = join(ROOT, 'docs');
  const files = readdirSync(folder).filter((name) => name.endsWith('.md'));
  return files.flatMap((name) =>
    shellCommands(readFileSync(join(folder, name), 'utf8'))
      .filter(({ text }) => runsCli(text))
      .map((command) => ({ ...command, file: `docs/${name}` })),
  );
}

describe('README.md commands', () => {
  it('finds commands in each place it reads', () => {
    expect(shellCommands(README).length).toBeGreaterThan(0);
    expect(cliTableCommands(README).length).toBeGreaterThan(0);
    expect(synopsesUnder(README, SYNOPSIS_HEADING).length).toBeGreaterThan(0);
  });

  for (const { line, text } of readmeCommands(README)) {
    it(`README.md:${line}: ${text}`, () => {
      const problems = commandProblems(text);

      expect(problems, `README.md:${line}: ${text}`).toEqual([]);
    });
  }
});

describe('docs/*.md phoenix commands', () => {
  for (const { file, line, text } of docsCommands()) {
    it(`${file}:${line}: ${text}`, () => {
      const problems = commandProblems(text);

      expect(problems, `${file}:${line}: ${text}`).toEqual([]);
    });
  }
});

describe('the README check itself', () => {
  const lastLine = README.split('\n').length;

  it.each([
    ['phoenix deploy shop --envv dev', "unknown option '--envv' for 'phoenix deploy'"],
    ['phoenix nosuch', "unknown command 'nosuch' for 'phoenix'"],
    ['phoenix logs', "'phoenix logs' needs <run>"],
    ['npm run phoenix -- deploy shop', "'phoenix deploy' needs --env <environment>"],
    ['npm run nosuch', "npm script 'nosuch' is not in package.json"],
    ['npx tsx bench/nosuch.ts', 'bench/nosuch.ts does not exist'],
    ['make all', 'not a kind of command this test checks'],
  ])('fails a README that shows %s', (command, problem) => {
    const markdown = `${README}\n\`\`\`sh\n${command}   # added\n\`\`\`\n`;

    const problems = readmeProblems(markdown).filter((found) =>
      found.startsWith(`README.md:${lastLine + 2}: `),
    );

    expect(problems).toEqual([expect.stringContaining(problem)]);
  });

  it('fails a CLI table entry or a synopsis that names an unknown option', () => {
    const markdown = [
      `## ${SYNOPSIS_HEADING}`,
      '',
      '```',
      'phoenix build [--source DIR]',
      '              [--jsn]',
      '```',
      '',
      '## CLI',
      '',
      '| Command | What it does |',
      '| ------- | ------------ |',
      '| `phoenix audit`, `runs [--statuss S]` | x |',
    ].join('\n');

    const problems = readmeProblems(markdown);

    expect(problems).toEqual([
      expect.stringMatching(/^README.md:12: .*unknown option '--statuss' for 'phoenix runs'/),
      expect.stringMatching(/^README.md:4: .*unknown option '--jsn' for 'phoenix build'/),
    ]);
  });
});
