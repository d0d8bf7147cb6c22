import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

type ProfileNode = z.infer<typeof profileSchema>['nodes'][number];

/** Where a sampled frame's code comes from. */
export type Area =
  | 'phoenix router'
  | 'other phoenix code'
  | 'dependencies'
  | 'node http and streams'
  | 'node other'
  | 'garbage collector'
  | 'idle'
  | 'native / program';

export interface ProfileSummary {
  /** Sampled time, idle included. */
  totalMs: number;
  /** Self time per area, busiest first, idle included. */
  areas: { area: Area; ms: number; share: number }[];
  /** Phoenix's router modules (src/router/NAME) by inclusive time: their frames and callees. */
  phoenixFiles: { file: string; ms: number; share: number }[];
  /** The frames with the most self time, idle left out. */
  topFrames: { frame: string; area: Area; ms: number; share: number }[];
}

/** Reads the one `.cpuprofile` that `node --cpu-prof --cpu-prof-dir directory` wrote. */
export async function readCpuProfile(directory: string): Promise<ProfileSummary> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.cpuprofile'));
  const [file] = files;
  if (file === undefined) throw new Error(`no .cpuprofile in ${directory}`);
  const profile = profileSchema.parse(JSON.parse(await readFile(join(directory, file), 'utf8')));
  return summarise(profile.nodes, profile.samples, profile.timeDeltas);
}

/** Self time per node, then grouped by frame, by area, and by router file (inclusive). */
export function summarise(
  nodes: readonly ProfileNode[],
  samples: readonly number[],
  timeDeltas: readonly number[],
  top = 15,
): ProfileSummary {
  const selfUs = new Map<number, number>();
  for (const [index, id] of samples.entries()) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, timeDeltas[index] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((sum, us) => sum + us, 0);
  const byFrame = new Map<string, { area: Area; us: number }>();
  const byArea = new Map<Area, number>();
  for (const node of nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const area = areaOf(node.callFrame);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    if (area === 'idle') continue;
    const frame = frameName(node.callFrame);
    const entry = byFrame.get(frame) ?? { area, us: 0 };
    entry.us += us;
    byFrame.set(frame, entry);
  }
  const share = (us: number): number => (totalUs === 0 ? 0 : us / totalUs);
  return {
    totalMs: totalUs / 1000,
    areas: [...byArea.entries()]
      .map(([area, us]) => ({ area, ms: us / 1000, share: share(us) }))
      .sort((a, b) => b.ms - a.ms),
    phoenixFiles: inclusiveByRouterFile(nodes, selfUs).map(({ file, us }) => ({
      file,
      ms: us / 1000,
      share: share(us),
    })),
    topFrames: [...byFrame.entries()]
      .map(([frame, { area, us }]) => ({ frame, area, ms: us / 1000, share: share(us) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}

/**
 * Time under each src/router file's frames, callees included, counted once per sample even
 * when the file appears several times on the stack.
 */
function inclusiveByRouterFile(
  nodes: readonly ProfileNode[],
  selfUs: ReadonlyMap<number, number>,
): { file: string; us: number }[] {
  const parent = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const files = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      const match = /\/(?:src|dist)\/router\/([\w-]+)\.[jt]s$/.exec(url);
      if (match?.[1] !== undefined) files.add(match[1]);
    }
    for (const file of files) totals.set(file, (totals.get(file) ?? 0) + us);
  }
  return [...totals.entries()].map(([file, us]) => ({ file, us })).sort((a, b) => b.us - a.us);
}

function areaOf(frame: ProfileNode['callFrame']): Area {
  const { functionName, url } = frame;
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(idle)') return 'idle';
  if (url === '') return 'native / program';
  if (url.includes('/node_modules/')) return 'dependencies';
  // src/ under tsx, dist/ when the compiled CLI runs the router.
  if (/\/(src|dist)\/router\//.test(url)) return 'phoenix router';
  if (/\/(src|dist)\//.test(url)) return 'other phoenix code';
  if (/^node:(_http|http|net|stream|internal\/(streams|http))/.test(url)) {
    return 'node http and streams';
  }
  return 'node other';
}

function frameName(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const file = frame.url.replace(/^file:\/\//, '').replace(PROJECT_ROOT, '');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}
