import { ValidationError, type ValidationIssue } from '../shared/errors.js';
import { checkAppspec, type AppspecContext } from './appspec-check.js';
import { hookPlan, type PlannedHook } from './appspec-hooks.js';
import { PLATFORM_NAMES, type ComputePlatform } from './appspec-schema.js';
import { parseAppspec, type Appspec } from './appspec.js';
import {
  alignedTable,
  assessEachFile,
  codeCell,
  saysCell,
  sortedByFile,
  type CorpusNote,
} from './corpus-table.js';

/**
 * What Phoenix makes of an AppSpec file it is handed unchanged: does it parse, would a
 * deployment accept it, what would run and what does Phoenix warn about. The same checks a
 * deployment makes before its first hook, run against a described machine instead of this one,
 * so the verdict for the real-world corpus is the same everywhere.
 */

/**
 * A machine with nothing set up for CodeDeploy's habits: Phoenix runs as root, there is no
 * `ec2-user` or `ubuntu` account, the deployment is blue/green and phoenix.yml maps no Lambda
 * function to a command. The corpus holds appspecs without their revisions, so scripts and
 * sources are not looked for.
 */
export const CORPUS_MACHINE: AppspecContext = {
  releaseDir: '/srv/phoenix/releases/shop/r1',
  revisionPresent: false,
  currentUid: 0,
  lookupUser: async (name) => (name === 'root' ? { user: 'root', uid: 0, gid: 0 } : undefined),
  lookupGroup: async (name) => (name === 'root' ? 0 : undefined),
};

export interface AppspecCorpusEntry {
  file: string;
  platform?: ComputePlatform;
  parses: boolean;
  /** A deployment would take the appspec as it is and run its hooks. */
  accepted: boolean;
  /** The parser's or the deployment's refusals; empty when accepted. */
  refusals: ValidationIssue[];
  /** The parser's warnings, then the hooks in the order a blue/green deployment runs them. */
  notes: CorpusNote[];
}

/** Assesses one appspec's text; `file` names it in every issue. */
export async function assessAppspec(
  text: string,
  file: string,
  context: AppspecContext,
): Promise<AppspecCorpusEntry> {
  let spec: Appspec;
  try {
    spec = parseAppspec(text, file);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { file, parses: false, accepted: false, refusals: [...error.issues], notes: [] };
  }
  const refusals = await checkAppspec(spec, context);
  const notes = spec.warnings.map((warning) => ({ key: warning.key, text: warning.message }));
  const hooks = hooksNote(spec);
  if (hooks !== undefined) notes.push(hooks);
  return {
    file,
    platform: spec.platform,
    parses: true,
    accepted: refusals.length === 0,
    refusals,
    notes,
  };
}

/** Assesses every file of a folder, in file name order. */
export function assessAppspecFolder(
  directory: string,
  context: AppspecContext,
): Promise<AppspecCorpusEntry[]> {
  return assessEachFile(directory, (text, file) => assessAppspec(text, file, context));
}

/** The hooks in the order a blue/green deployment runs them, and those run when it is replaced. */
function hooksNote(spec: Appspec): CorpusNote | undefined {
  const plan = hookPlan(spec, { previous: spec });
  if (plan.length === 0) return undefined;
  const describe = (hook: PlannedHook): string =>
    hook.steps.length === 1 ? hook.event : `${hook.event} (${hook.steps.length} scripts)`;
  const now = plan.filter((hook) => hook.release === 'new').map(describe);
  const later = plan.filter((hook) => hook.release === 'previous').map(describe);
  const parts = [
    now.join(' → '),
    later.length > 0 ? `${later.join(' → ')} when the release is replaced` : '',
  ].filter((part) => part !== '');
  return { key: 'hooks', text: parts.join(', and ') };
}

/**
 * The corpus as a Markdown table (deterministic and padded as Prettier pads it, see
 * corpus-table.ts), sorted by file name, followed by the counts.
 */
export function renderAppspecTable(entries: readonly AppspecCorpusEntry[]): string {
  const sorted = sortedByFile(entries);
  const rows = sorted.map((entry) => [
    codeCell(entry.file),
    entry.platform === undefined ? '—' : PLATFORM_NAMES[entry.platform],
    entry.parses ? 'yes' : 'no',
    entry.accepted ? 'yes' : 'no',
    saysCell(entry.refusals, entry.notes),
  ]);
  const accepted = sorted.filter((entry) => entry.accepted).length;
  const unparsed = sorted.filter((entry) => !entry.parses).length;
  const total = `${accepted} of ${sorted.length} files are accepted as-is; ${sorted.length - accepted} are refused before any hook runs (${unparsed} of them by the parser).`;
  const header = ['file', 'platform', 'parses', 'accepted as-is', 'what Phoenix says'];
  return `${alignedTable(header, rows)}\n\n${total}\n`;
}
