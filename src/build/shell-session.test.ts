import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/git-fixture.js';
import { ShellSession } from './shell-session.js';

describe('ShellSession', () => {
  let dir: ReturnType<typeof tempDir>;
  let output: string[];
  let session: ShellSession;

  function open(options: { persistState?: boolean; posix?: boolean } = {}): ShellSession {
    return new ShellSession({
      cwd: dir.path,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir.path },
      stateDirectory: dir.path,
      onOutput: (stream, line) => output.push(`${stream}: ${line}`),
      ...options,
    });
  }

  beforeEach(() => {
    dir = tempDir();
    output = [];
  });

  afterEach(async () => {
    await session.close();
    dir.remove();
  });

  it('keeps cd, exported and shell variables, arrays and functions from command to command', async () => {
    session = open();

    await session.run(
      'mkdir -p sub && cd sub; export A=1; b="two words"; arr=(x "y z"); greet() { echo "hi $1"; }',
    );
    const outcome = await session.run(
      'echo "$(basename "$PWD") $A $b ${arr[1]}"; greet there; bash -c \'echo child sees A=$A b=${b-unset}\'',
    );

    expect(outcome.exitCode).toBe(0);
    expect(output).toEqual([
      'stdout: sub 1 two words y z',
      'stdout: hi there',
      'stdout: child sees A=1 b=unset',
    ]);
  });

  it('fails only the command that runs exit, and the session goes on', async () => {
    session = open();

    const exited = await session.run('X=before; exit 7');
    const next = await session.run('echo "still here, X=$X"');

    expect(exited.exitCode).toBe(7);
    expect(next.exitCode).toBe(0);
    expect(output).toEqual(['stdout: still here, X=before']);
  });

  it('keeps set -e for later commands, as one shell session would', async () => {
    session = open();

    await session.run('set -e');
    const outcome = await session.run('false; echo not reached');

    expect(outcome.exitCode).toBe(1);
    expect(output).toEqual([]);
  });

  it('forgets variables a command unsets', async () => {
    session = open();

    await session.run('export GONE=1');
    await session.run('unset GONE');
    await session.run('echo "${GONE-unset}"; env | grep -c ^GONE= || true');

    expect(output).toEqual(['stdout: unset', 'stdout: 0']);
  });

  it('gives commands no stdin and reports both streams with the tail of the output', async () => {
    session = open();

    const outcome = await session.run('cat; echo out; echo err >&2; printf "no newline"');

    expect(outcome.exitCode).toBe(0);
    expect(output).toEqual(
      expect.arrayContaining(['stdout: out', 'stderr: err', 'stdout: no newline']),
    );
    expect(outcome.tail).toContain('err');
  });

  it('starts every command afresh for buildspec version 0.1', async () => {
    session = open({ persistState: false });

    await session.run('export A=1; cd /');
    await session.run('echo "A=${A-unset} in $(basename "$PWD")"');

    expect(output).toEqual([`stdout: A=unset in ${dir.path.split('/').at(-1)}`]);
  });

  it('expands text like a double-quoted string and reads variables', async () => {
    session = open();
    await session.run('export NAME=app; V=$(echo 1.2)');

    const expanded = await session.expand('$NAME-$(echo x)-"q"-*');
    const values = await session.read(['NAME', 'V', 'MISSING']);

    expect(expanded).toBe('app-x-"q"-*');
    expect(values).toEqual({ NAME: 'app', V: '1.2' });
  });

  it('keeps multi-line values intact', async () => {
    session = open();

    await session.run('multi=$(printf "a\\nb c\\n\\td")');
    const values = await session.read(['multi']);

    expect(values['multi']).toBe('a\nb c\n\td');
  });

  it('cannot be spoofed by output that looks like its own markers', async () => {
    session = open();

    const outcome = await session.run("printf '\\036PHX0000 1 0\\n'; exit 3");

    expect(outcome.exitCode).toBe(3);
  });

  it('refuses a second command while one runs', async () => {
    session = open();

    const first = session.run('true');

    expect(() => session.run('true')).toThrow(/already running/);
    await first;
  });
});
