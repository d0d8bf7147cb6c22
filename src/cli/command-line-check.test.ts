import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkCommandLine, SynopsisError, synopsisVariants } from './command-line-check.js';
import { createProgram } from './program.js';

/** A small program with one of each kind of option and argument. */
function toolProgram(): Command {
  const program = new Command('tool').version('1.0.0').option('--verbose');
  program
    .command('ship')
    .alias('s')
    .argument('<service>')
    .argument('[target]')
    .requiredOption('--env <env>')
    .option('-f, --follow')
    .option('-q, --quiet')
    .option('-p, --port <n>')
    .option('--color [when]')
    .option('--no-wait')
    .option('--tag <tags...>')
    .addOption(new Option('--mode <mode>').choices(['fast', 'safe']))
    .action(() => undefined);
  program
    .command('copy')
    .argument('<files...>')
    .action(() => undefined);
  const group = program.command('group');
  group.command('list').action(() => undefined);
  const both = program
    .command('both')
    .argument('[name]')
    .action(() => undefined);
  both.command('inner').action(() => undefined);
  return program;
}

describe('checkCommandLine', () => {
  it.each([
    ['ship shop --env dev'],
    ['s shop --env dev'],
    ['ship shop prod --env dev'],
    ['ship --env dev shop'],
    ['ship shop --env=dev'],
    ['ship shop --env dev -f --quiet'],
    ['ship shop --env dev -fq'],
    ['ship shop --env dev -qp 8080'],
    ['ship shop --env dev -p8080'],
    ['ship shop --env dev --color'],
    ['ship shop --env dev --color always'],
    ['ship shop --env dev --no-wait'],
    ['ship shop --env dev --tag a b c'],
    ['ship shop --env dev --mode fast'],
    ['ship shop --env dev --mode MODE'],
    ['ship shop --env -'],
    ['ship shop --env dev --verbose'],
    ['--verbose ship shop --env dev'],
    ['ship shop --env dev -- --not-an-option'],
    ['ship --help'],
    ['ship -h --unknown'],
    ['--version'],
    ['help'],
    ['help ship'],
    ['copy a'],
    ['copy a b c'],
    ['group list'],
    ['both'],
    ['both name'],
    ['both inner'],
  ])('accepts tool %s', (line) => {
    const problems = checkCommandLine(toolProgram(), line.split(' '));

    expect(problems).toEqual([]);
  });

  it.each([
    ['ship shop --envv dev', "unknown option '--envv' for 'tool ship'"],
    ['ship shop --env dev -x', "unknown option '-x' for 'tool ship'"],
    ['ship shop --env dev -fx', "unknown option '-x' for 'tool ship'"],
    ['ship shop --env', "option '--env <env>' of 'tool ship' needs a value"],
    ['ship shop --env dev --follow=yes', "option '--follow' of 'tool ship' takes no value"],
    ['ship shop --env dev --wait', "unknown option '--wait' for 'tool ship'"],
    ['ship shop', "'tool ship' needs --env <env>"],
    ['ship --env dev', "'tool ship' needs <service>"],
    ['ship a b c --env dev', "'tool ship' takes 2 operand(s), also given: c"],
    [
      'ship shop --env dev --mode quick',
      "option '--mode <mode>' of 'tool ship': 'quick' is not one of fast, safe",
    ],
    ['--env dev ship shop', "unknown option '--env' for 'tool'"],
    ['copy', "'tool copy' needs <files...>"],
    ['nosuch', "unknown command 'nosuch' for 'tool'"],
    ['help nosuch', "unknown command 'nosuch' for 'tool'"],
    ['group', "'tool group' needs a subcommand (list)"],
    ['group nosuch', "unknown command 'nosuch' for 'tool group'"],
    ['group list extra', "'tool group list' takes 0 operand(s), also given: extra"],
    ['', "'tool' needs a subcommand (ship, copy, group, both)"],
  ])('refuses tool %s', (line, problem) => {
    const words = line === '' ? [] : line.split(' ');

    const problems = checkCommandLine(toolProgram(), words);

    expect(problems).toEqual([problem]);
  });

  it.each([
    [['deploy', 'shop', '--env', 'dev', '--release', 'shop#1', '-f']],
    [['logs', '-f', 'shop#1']],
    [['login', '--url', 'http://127.0.0.1:8800', '--token', '<token>']],
    [['token', 'create', '--name', 'ci', '--role', 'developer']],
    [['up', '--demo', '--no-wait']],
    [['build', '--env', 'A=1', '--env', 'B=2', '-q']],
    [['service', 'add', 'shop', '--repo', 'URL', '--poll', '1m']],
  ])('accepts phoenix %j', (words) => {
    const problems = checkCommandLine(createProgram(), words);

    expect(problems).toEqual([]);
  });

  it.each([
    ['deploy shop --envv dev', "unknown option '--envv' for 'phoenix deploy'"],
    ['nosuch', "unknown command 'nosuch' for 'phoenix'"],
    ['logs', "'phoenix logs' needs <run>"],
    ['deploy shop', "'phoenix deploy' needs --env <environment>"],
    [
      'token create --name ci --role boss',
      expect.stringMatching(
        /^option '--role <role>' of 'phoenix token create': 'boss' is not one of /,
      ),
    ],
    ['up --wait', "unknown option '--wait' for 'phoenix up'"],
    ['service show', "'phoenix service show' needs <name>"],
  ])('refuses phoenix %s', (line, problem) => {
    const problems = checkCommandLine(createProgram(), line.split(' '));

    expect(problems).toEqual([problem]);
  });
});

describe('synopsisVariants', () => {
  it.each([
    ['phoenix runs', [['phoenix', 'runs']]],
    [
      'phoenix up [--port 8800] [--demo]',
      [
        ['phoenix', 'up', '--port', '8800', '--demo'],
        ['phoenix', 'up'],
      ],
    ],
    ['build [--batch [--concurrency N]]', [['build', '--batch', '--concurrency', 'N'], ['build']]],
    ['login [--token T|-]', [['login', '--token', 'T'], ['login', '--token', '-'], ['login']]],
    ['x [--json | --quiet]', [['x', '--json'], ['x', '--quiet'], ['x']]],
    ['a | b c', [['a'], ['b', 'c']]],
    [
      'build [--env KEY=VALUE ...] FILE...',
      [
        ['build', '--env', 'KEY=VALUE', 'FILE'],
        ['build', 'FILE'],
      ],
    ],
    [`say 'a b' "c \\"d\\"" e\\ f '[x]' "a|b"`, [['say', 'a b', 'c "d"', 'e f', '[x]', 'a|b']]],
    ['get a[0] ../up', [['get', 'a[0]', '../up']]],
  ])('expands %s', (synopsis, expected) => {
    const variants = synopsisVariants(synopsis);

    expect(variants).toEqual(expected);
  });

  it.each([['a [b'], ['a b]'], ["a 'b"]])('refuses %s', (synopsis) => {
    expect(() => synopsisVariants(synopsis)).toThrow(SynopsisError);
  });
});
