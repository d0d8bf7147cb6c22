// Overhead of a Phoenix build per phase and per command, against the same commands in one
// plain bash script on the same machine in the same run.
//
//   npx tsx bench/build-overhead.ts [--rounds 5] [--commands-per-phase 50]
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { PhaseType } from '../src/build/build-result.js';
import { PHASE_TYPES } from '../src/build/phase-runner.js';
import { bubblewrapWorks } from '../src/build/sandbox.js';
import { PHASE_NAMES, type PhaseName } from '../src/config/buildspec.js';
import type { Phoenix } from '../src/main.js';
import { createGitRepository } from './lib/git-repository.js';
import { describeMachine, formatMachine } from './lib/machine.js';
import { positiveInteger } from './lib/options.js';
import { benchPhoenix, outsidePhasesMs, phaseMs, runTimedBuild } from './lib/phoenix-build.js';
import { runPlainScript, writePlainScript, type Section } from './lib/plain-bash.js';
import { median, round } from './lib/stats.js';
import { formatTable, type Cell } from './lib/table.js';
import { withTempDirectory } from './lib/temp-directory.js';

/** Measured rounds; one unmeasured warm-up round comes first. */
const DEFAULT_ROUNDS = 5;
const DEFAULT_COMMANDS_PER_PHASE = 50;
/** Cheap commands, so what is measured is the cost of running a command, not its work. */
const COMMAND_CYCLE = ['true', 'x=$((x+1))', 'echo "line $x"'] as const;

type Variant = 'bash' | 'phoenix' | 'sandbox';

interface Sample {
  wallMs: number;
  phaseMs: Record<PhaseName, number>;
  downloadSourceMs: number;
  finalizingMs: number;
  /** Wall time in no phase: source inspection, build folder, summary. */
  otherMs: number;
}

interface Options {
  rounds: number;
  commandsPerPhase: number;
}

interface Setup {
  repository: string;
  script: string;
  scratch: string;
  phoenix: Phoenix;
}

try {
  await main(parseOptions());
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}

async function main({ rounds, commandsPerPhase }: Options): Promise<void> {
  const machine = describeMachine();
  const sections = phaseCommands(commandsPerPhase);
  const commands = sections.reduce((total, section) => total + section.commands.length, 0);
  const variants: Variant[] = (await bubblewrapWorks())
    ? ['bash', 'phoenix', 'sandbox']
    : ['bash', 'phoenix'];
  const samples = await withTempDirectory('phoenix-bench-overhead-', async (directory) => {
    const setup = await prepare(directory, sections);
    return measure(setup, variants, rounds);
  });
  const medians = summarize(samples);
  const report = overheadReport(medians, commands);
  console.log(
    `Build overhead: ${commands} commands in ${sections.length} phases (${commandsPerPhase} per phase)`,
  );
  console.log(`Median of ${rounds} rounds after 1 warm-up round, variants interleaved`);
  console.log(formatMachine(machine));
  if (!variants.includes('sandbox')) console.log('bubblewrap does not work here: no sandbox run');
  console.log('');
  console.log(formatTable(['milliseconds', ...columnNames(medians)], tableRows(medians)));
  console.log('');
  for (const line of reportLines(report, commandsPerPhase)) console.log(line);
  console.log(
    JSON.stringify({
      bench: 'build-overhead',
      machine,
      phases: sections.length,
      commandsPerPhase,
      commands,
      rounds,
      ...report,
    }),
  );
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: String(DEFAULT_ROUNDS) },
      'commands-per-phase': { type: 'string', default: String(DEFAULT_COMMANDS_PER_PHASE) },
    },
  });
  return {
    rounds: positiveInteger('--rounds', values.rounds),
    commandsPerPhase: positiveInteger('--commands-per-phase', values['commands-per-phase']),
  };
}

/** The commands of each phase; the very last one checks that `x` carried across all of them. */
function phaseCommands(perPhase: number): Section[] {
  const all: string[] = Array.from(
    { length: PHASE_NAMES.length * perPhase - 1 },
    (_, index) => COMMAND_CYCLE[index % COMMAND_CYCLE.length] ?? 'true',
  );
  const increments = all.filter((command) => command.startsWith('x=')).length;
  all.push(`test "$x" -eq ${increments}`);
  return PHASE_NAMES.map((name, index) => ({
    name,
    commands: all.slice(index * perPhase, (index + 1) * perPhase),
  }));
}

async function prepare(directory: string, sections: readonly Section[]): Promise<Setup> {
  const repository = join(directory, 'repository');
  const scratch = join(directory, 'plain-bash-home');
  const phases = Object.fromEntries(
    sections.map((section) => [section.name, { commands: section.commands }]),
  );
  await createGitRepository(repository, {
    'buildspec.yml': stringify({ version: 0.2, phases }),
  });
  await mkdir(scratch);
  const script = join(directory, 'script.sh');
  await writePlainScript(script, sections);
  return { repository, script, scratch, phoenix: benchPhoenix(join(directory, 'phoenix-home')) };
}

/** Runs every variant once per round, in a rotating order so none always goes first; round 0 warms up. */
async function measure(
  setup: Setup,
  variants: readonly Variant[],
  rounds: number,
): Promise<Map<Variant, Sample[]>> {
  const samples = new Map<Variant, Sample[]>(variants.map((variant) => [variant, []]));
  for (let index = 0; index <= rounds; index++) {
    const order = [...variants.slice(index % variants.length), ...variants];
    for (const variant of order.slice(0, variants.length)) {
      const sample = await runVariant(setup, variant);
      if (index > 0) samples.get(variant)?.push(sample);
    }
  }
  return samples;
}

async function runVariant(setup: Setup, variant: Variant): Promise<Sample> {
  if (variant === 'bash') {
    const run = await runPlainScript({
      script: setup.script,
      cwd: setup.repository,
      env: { PATH: process.env['PATH'] ?? '', HOME: setup.scratch },
    });
    const phases = byPhase((name) => run.sectionMs[name] ?? 0);
    return {
      wallMs: run.wallMs,
      phaseMs: phases,
      downloadSourceMs: 0,
      finalizingMs: 0,
      otherMs: 0,
    };
  }
  const build = await runTimedBuild(setup.phoenix, {
    sourceDirectory: setup.repository,
    sandbox: variant === 'sandbox',
  });
  return {
    wallMs: build.wallMs,
    phaseMs: byPhase((name) => phaseMs(build.summary, PHASE_TYPES[name])),
    downloadSourceMs: phaseMs(build.summary, 'DOWNLOAD_SOURCE'),
    finalizingMs: phaseMs(build.summary, 'FINALIZING'),
    otherMs: outsidePhasesMs(build),
  };
}

function byPhase(pick: (name: PhaseName) => number): Record<PhaseName, number> {
  return {
    install: pick('install'),
    pre_build: pick('pre_build'),
    build: pick('build'),
    post_build: pick('post_build'),
  };
}

/** Each figure's median over the rounds, taken separately. */
function summarize(samples: Map<Variant, Sample[]>): Map<Variant, Sample> {
  const medians = new Map<Variant, Sample>();
  for (const [variant, list] of samples) {
    const of = (pick: (sample: Sample) => number) => median(list.map(pick));
    medians.set(variant, {
      wallMs: of((sample) => sample.wallMs),
      phaseMs: byPhase((name) => of((sample) => sample.phaseMs[name])),
      downloadSourceMs: of((sample) => sample.downloadSourceMs),
      finalizingMs: of((sample) => sample.finalizingMs),
      otherMs: of((sample) => sample.otherMs),
    });
  }
  return medians;
}

interface OverheadReport {
  medianMs: Record<Variant, number | null>;
  /** Phoenix's median wall time over plain bash's. */
  ratio: number;
  /** (Phoenix − bash) / commands: everything Phoenix adds, spread over the commands. */
  perCommandOverheadMs: number;
  /** The same counting only time inside the command phases. */
  perCommandInPhasesOverheadMs: number;
  /** Each command phase's duration minus the same section's in plain bash. */
  perPhaseOverheadMs: Partial<Record<PhaseType, number>>;
  /** What a build costs whatever its commands. */
  fixedMs: { downloadSource: number; finalizing: number; other: number };
  sandboxExtraMs: { build: number; perCommand: number } | null;
}

function overheadReport(medians: Map<Variant, Sample>, commands: number): OverheadReport {
  const bash = required(medians, 'bash');
  const phoenix = required(medians, 'phoenix');
  const sandbox = medians.get('sandbox');
  const inPhases = (sample: Sample) =>
    PHASE_NAMES.reduce((sum, name) => sum + sample.phaseMs[name], 0);
  const perPhase: Partial<Record<PhaseType, number>> = {};
  for (const name of PHASE_NAMES) {
    perPhase[PHASE_TYPES[name]] = round(phoenix.phaseMs[name] - bash.phaseMs[name]);
  }
  return {
    medianMs: {
      bash: round(bash.wallMs),
      phoenix: round(phoenix.wallMs),
      sandbox: sandbox === undefined ? null : round(sandbox.wallMs),
    },
    ratio: round(phoenix.wallMs / bash.wallMs, 1),
    perCommandOverheadMs: round((phoenix.wallMs - bash.wallMs) / commands, 3),
    perCommandInPhasesOverheadMs: round((inPhases(phoenix) - inPhases(bash)) / commands, 3),
    perPhaseOverheadMs: perPhase,
    fixedMs: {
      downloadSource: round(phoenix.downloadSourceMs),
      finalizing: round(phoenix.finalizingMs),
      other: round(phoenix.otherMs),
    },
    sandboxExtraMs:
      sandbox === undefined
        ? null
        : {
            build: round(sandbox.wallMs - phoenix.wallMs),
            perCommand: round((inPhases(sandbox) - inPhases(phoenix)) / commands, 3),
          },
  };
}

function required(medians: Map<Variant, Sample>, variant: Variant): Sample {
  const sample = medians.get(variant);
  if (sample === undefined) throw new Error(`no ${variant} samples`);
  return sample;
}

function columnNames(medians: Map<Variant, Sample>): string[] {
  const names = ['bash', 'phoenix', 'phoenix − bash'];
  return medians.has('sandbox') ? [...names, 'sandbox', 'sandbox − phoenix'] : names;
}

function tableRows(medians: Map<Variant, Sample>): Cell[][] {
  const bash = required(medians, 'bash');
  const phoenix = required(medians, 'phoenix');
  const sandbox = medians.get('sandbox');
  const row = (label: string, pick: (sample: Sample) => number, inBash = true): Cell[] => {
    const cells: Cell[] = [
      label,
      inBash ? ms(pick(bash)) : '–',
      ms(pick(phoenix)),
      ms(pick(phoenix) - (inBash ? pick(bash) : 0)),
    ];
    if (sandbox === undefined) return cells;
    return [...cells, ms(pick(sandbox)), ms(pick(sandbox) - pick(phoenix))];
  };
  return [
    row('whole build (wall)', (sample) => sample.wallMs),
    row('DOWNLOAD_SOURCE', (sample) => sample.downloadSourceMs, false),
    ...PHASE_NAMES.map((name) => row(PHASE_TYPES[name], (sample) => sample.phaseMs[name])),
    row('FINALIZING', (sample) => sample.finalizingMs, false),
    row('outside phases', (sample) => sample.otherMs, false),
  ];
}

function reportLines(report: OverheadReport, commandsPerPhase: number): string[] {
  const perPhase = Object.values(report.perPhaseOverheadMs).filter((value) => value !== undefined);
  const lines = [
    `Phoenix / bash: ${report.ratio.toFixed(1)}×`,
    `Overhead per command: ${report.perCommandOverheadMs} ms overall, ${report.perCommandInPhasesOverheadMs} ms inside the phases`,
    `Overhead per phase (${commandsPerPhase} per phase): ${Math.min(...perPhase)}–${Math.max(...perPhase)} ms`,
    `Fixed cost per build: checkout ${report.fixedMs.downloadSource} ms, finalize ${report.fixedMs.finalizing} ms, outside phases ${report.fixedMs.other} ms`,
  ];
  const sandbox = report.sandboxExtraMs;
  if (sandbox !== null) {
    lines.push(
      `Sandbox extra: ${sandbox.build} ms per build, ${sandbox.perCommand} ms per command`,
    );
  }
  return lines;
}

function ms(value: number): string {
  return value.toFixed(1);
}
