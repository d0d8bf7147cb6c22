import { planBatch } from './batch-plan.js';
import { cachePathIssues } from './cache-step.js';
import type { CacheLocation } from './cache-paths.js';
import { preflight, type PreflightContext } from './preflight.js';
import { resolveBuildSecrets, unconfiguredSecrets, type SecretResolver } from './secrets.js';
import { UnsupportedError, ValidationError, type ValidationIssue } from '../shared/errors.js';
import { parseBuildspec, type Buildspec } from '../config/buildspec.js';
import {
  alignedTable,
  assessEachFile,
  brief,
  codeCell,
  escapeCell,
  position,
  saysCell,
  sortedByFile,
  type CorpusNote,
} from '../config/corpus-table.js';

/**
 * What Phoenix makes of a buildspec it is handed unchanged: does it parse, would a build
 * start, and what does Phoenix warn about. The same checks `phoenix build` makes before its
 * first command (preflight, secrets, cache paths), run against a described machine instead of
 * this one, so the verdict for the real-world corpus is the same everywhere.
 */

/** The machine a buildspec is assessed for. */
export interface AssessContext extends PreflightContext {
  secrets: SecretResolver;
  /** Any build folders: cache paths are only checked for leaving them. */
  cacheLocation: CacheLocation;
}

/**
 * A machine with nothing set up for CodeBuild's habits: Phoenix runs as root, there is no
 * `codebuild-user` account and no secret store.
 */
export const BARE_ROOT_MACHINE: AssessContext = {
  lookupUser: async (name) => (name === 'root' ? { user: 'root', uid: 0, gid: 0 } : undefined),
  currentUid: 0,
  secrets: unconfiguredSecrets,
  cacheLocation: { root: '/src', home: '/home' },
};

export interface CorpusEntry {
  file: string;
  /** True, or the first line of the parser's refusal. */
  parses: true | string;
  /** Phoenix accepts the buildspec and starts its phases without any change to it. */
  runsAsIs: boolean;
  /** Why `phoenix build` refuses it before any command runs; empty when it starts. */
  refusals: ValidationIssue[];
  /** The parser's warnings and, for a `batch` section, whether `phoenix build --batch` plans it. */
  notes: CorpusNote[];
}

/** Assesses one buildspec's text; `file` names it in every issue. */
export async function assessBuildspec(
  text: string,
  file: string,
  context: AssessContext,
): Promise<CorpusEntry> {
  let spec: Buildspec;
  try {
    spec = parseBuildspec(text, file);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const firstLine = error.message.split('\n')[0] ?? error.message;
    return { file, parses: firstLine, runsAsIs: false, refusals: [...error.issues], notes: [] };
  }
  const checked = await preflight(spec, context);
  const secrets = await resolveBuildSecrets(spec, context.secrets);
  const refusals = [
    ...checked.issues,
    ...secrets.issues,
    ...cachePathIssues(spec.cache, context.cacheLocation),
  ];
  const notes = spec.warnings.map((warning) => ({
    key: warning.key,
    text: brief(warning.message),
  }));
  if (spec.batch !== undefined) notes.push(batchNote(spec));
  if (spec.batch !== undefined && spec.phases.length === 0) {
    notes.push({ key: 'phases', text: 'none: only phoenix build --batch runs commands' });
  }
  return { file, parses: true, runsAsIs: refusals.length === 0, refusals, notes };
}

/** Assesses every file of a folder, in file name order. */
export function assessFolder(directory: string, context: AssessContext): Promise<CorpusEntry[]> {
  return assessEachFile(directory, (text, file) => assessBuildspec(text, file, context));
}

function batchNote(spec: Buildspec): CorpusNote {
  try {
    const plan = planBatch(spec);
    const tasks = `${plan.tasks.length} ${plan.tasks.length === 1 ? 'task' : 'tasks'}`;
    const ignored =
      plan.warnings.length === 0
        ? ''
        : `; ${plan.warnings.length} machine settings (image, compute type, fleet, privileged mode) do not apply: tasks run on this host`;
    return { key: 'batch', text: `${plan.kind} accepted, ${tasks}${ignored}` };
  } catch (error) {
    if (!(error instanceof UnsupportedError) && !(error instanceof ValidationError)) throw error;
    const issue = error.issues[0];
    if (issue === undefined) return { key: 'batch', text: 'refused' };
    return {
      key: issue.key,
      text: `refused at ${position(issue.location)}: ${brief(issue.message)}`,
    };
  }
}

/**
 * The corpus as a Markdown table (deterministic and padded as Prettier pads it, see
 * corpus-table.ts), sorted by file name, followed by the counts.
 */
export function renderCorpusTable(entries: readonly CorpusEntry[]): string {
  const sorted = sortedByFile(entries);
  const rows = sorted.map((entry) => [
    codeCell(entry.file),
    entry.parses === true ? 'yes' : `no: ${escapeCell(entry.parses)}`,
    entry.runsAsIs ? 'yes' : 'no',
    saysCell(entry.parses === true ? entry.refusals : [], entry.notes),
  ]);
  const starting = sorted.filter((entry) => entry.runsAsIs).length;
  const total = `${starting} of ${sorted.length} files start as-is; ${sorted.length - starting} are refused before any command runs.`;
  return `${alignedTable(['file', 'parses', 'starts as-is', 'what Phoenix says'], rows)}\n\n${total}\n`;
}
