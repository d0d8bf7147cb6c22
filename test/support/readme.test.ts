import { describe, expect, it } from 'vitest';
import {
  cliTableCommands,
  fencedBlocks,
  shellCommands,
  splitShellLine,
  synopsesUnder,
} from './readme.js';

const DOCUMENT = [
  '# Tool', //                                       1
  '', //                                             2
  '```sh', //                                        3
  'npm ci   # install', //                           4
  '', //                                             5
  '# a comment only', //                             6
  'cd ~/x && phoenix init; phoenix validate', //     7
  'phoenix logs -f shop#1   # follow', //            8
  'phoenix build \\', //                             9
  '  --json', //                                    10
  '```', //                                         11
  '', //                                            12
  '```yaml', //                                     13
  'start: npm start # not shell', //                14
  '```', //                                         15
  '', //                                            16
  '## What `phoenix build` does', //                17
  '', //                                            18
  '```', //                                         19
  'phoenix build [--source DIR]', //                20
  '              [--json]', //                      21
  'phoenix validate', //                            22
  '```', //                                         23
  '', //                                            24
  '## CLI', //                                      25
  '', //                                            26
  '| Command | What |', //                          27
  '| ------- | ---- |', //                          28
  '| `phoenix init` / `phoenix validate` | x |', // 29
  '| `phoenix login [--token T\\|-]` | a \\| b |', // 30
  '| `phoenix approve S --env E`, `reject ...` | y |', // 31
  '| `phoenix secret set N` (stdin), `secret rm N` | z |', // 32
  '', //                                            33
  '| `phoenix other` | not the first table |', //  34
  '', //                                            35
  '## Next', //                                     36
  '', //                                            37
  '~~~bash', //                                     38
  'phoenix runs', //                                39
  '~~~', //                                         40
].join('\n');

describe('fencedBlocks', () => {
  it('finds each block with its language and numbered lines', () => {
    const blocks = fencedBlocks(DOCUMENT);

    expect(blocks.map((block) => block.language)).toEqual(['sh', 'yaml', '', 'bash']);
    expect(blocks[1]?.lines).toEqual([{ line: 14, text: 'start: npm start # not shell' }]);
    expect(blocks[3]?.lines).toEqual([{ line: 39, text: 'phoenix runs' }]);
  });

  it('keeps a shorter fence inside a longer one as content', () => {
    const blocks = fencedBlocks(['````md', '```sh', 'x', '```', '````'].join('\n'));

    expect(blocks).toEqual([
      {
        language: 'md',
        info: 'md',
        lines: [
          { line: 2, text: '```sh' },
          { line: 3, text: 'x' },
          { line: 4, text: '```' },
        ],
      },
    ]);
  });
});

describe('shellCommands', () => {
  it('lists the commands of shell blocks with their lines', () => {
    const commands = shellCommands(DOCUMENT);

    expect(commands).toEqual([
      { line: 4, text: 'npm ci' },
      { line: 7, text: 'cd ~/x' },
      { line: 7, text: 'phoenix init' },
      { line: 7, text: 'phoenix validate' },
      { line: 8, text: 'phoenix logs -f shop#1' },
      { line: 9, text: 'phoenix build --json' },
      { line: 39, text: 'phoenix runs' },
    ]);
  });
});

describe('splitShellLine', () => {
  it.each([
    ['a && b', ['a', 'b']],
    ['a || b; c', ['a', 'b', 'c']],
    ["printf '%s' x | phoenix secret set s", ["printf '%s' x", 'phoenix secret set s']],
    ['echo "a && b; c | d"', ['echo "a && b; c | d"']],
    ["echo 'it''s' # comment", ["echo 'it''s'"]],
    ['echo "#not" \'#not\' a#b \\#not', ['echo "#not" \'#not\' a#b \\#not']],
    ['# only a comment', []],
    ['   ', []],
    ['echo "a \\" # b"', ['echo "a \\" # b"']],
  ])('splits %s', (line, expected) => {
    expect(splitShellLine(line)).toEqual(expected);
  });
});

describe('cliTableCommands', () => {
  it('lists the backticked commands of the first table under ## CLI', () => {
    const commands = cliTableCommands(DOCUMENT);

    expect(commands).toEqual([
      { line: 29, text: 'phoenix init' },
      { line: 29, text: 'phoenix validate' },
      { line: 30, text: 'phoenix login [--token T|-]' },
      { line: 31, text: 'phoenix approve S --env E' },
      { line: 31, text: 'phoenix reject S --env E' },
      { line: 32, text: 'phoenix secret set N' },
      { line: 32, text: 'phoenix secret rm N' },
    ]);
  });

  it('finds nothing without the section', () => {
    expect(cliTableCommands('# Tool\n\n| `phoenix x` | y |\n')).toEqual([]);
  });
});

describe('synopsesUnder', () => {
  it('joins continuation lines of the bare block under the heading', () => {
    const synopses = synopsesUnder(DOCUMENT, 'What `phoenix build` does');

    expect(synopses).toEqual([
      { line: 20, text: 'phoenix build [--source DIR] [--json]' },
      { line: 22, text: 'phoenix validate' },
    ]);
  });

  it('finds nothing when the block under the heading has a language', () => {
    expect(synopsesUnder(DOCUMENT, 'Next')).toEqual([]);
    expect(synopsesUnder(DOCUMENT, 'Missing')).toEqual([]);
  });
});
