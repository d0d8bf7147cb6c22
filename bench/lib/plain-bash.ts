import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** Printed before each section and at the end, with bash's own clock, so sections can be timed. */
const SECTION_MARKER = '\u001ePLAIN-BASH-SECTION';

export interface Section {
  name: string;
  commands: readonly string[];
}

export interface PlainBashRun {
  wallMs: number;
  /** Section name → milliseconds between its start and end markers. */
  sectionMs: Record<string, number>;
}

/** Writes the sections' commands, one after another, as a plain script that stops at the first failure. */
export async function writePlainScript(path: string, sections: readonly Section[]): Promise<void> {
  const mark = (name: string) => `printf '${SECTION_MARKER} %s %s\\n' ${name} "$EPOCHREALTIME"`;
  const lines = ['set -e'];
  for (const section of sections) lines.push(mark(section.name), ...section.commands);
  lines.push(mark('end'));
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** Runs a script written by `writePlainScript` with bash, reading its output as Phoenix reads a build's. */
export async function runPlainScript(options: {
  script: string;
  cwd: string;
  env: Record<string, string>;
}): Promise<PlainBashRun> {
  const started = performance.now();
  const child = spawn('bash', ['--noprofile', '--norc', options.script], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallMs = performance.now() - started;
  const output = Buffer.concat(chunks).toString('utf8');
  if (exitCode !== 0) throw new Error(`plain bash script exited with ${exitCode}\n${output}`);
  return { wallMs, sectionMs: sectionDurations(output) };
}

function sectionDurations(output: string): Record<string, number> {
  const marks: { name: string; seconds: number }[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith(SECTION_MARKER)) continue;
    const [, name = '', time = ''] = line.split(' ');
    // EPOCHREALTIME uses the locale's decimal separator.
    marks.push({ name, seconds: Number(time.replace(',', '.')) });
  }
  const durations: Record<string, number> = {};
  for (const [index, mark] of marks.entries()) {
    const next = marks[index + 1];
    if (next !== undefined) durations[mark.name] = (next.seconds - mark.seconds) * 1000;
  }
  return durations;
}
