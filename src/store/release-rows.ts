import { z } from 'zod';
import type { ReleaseConfig, StatusMatcher } from '../config/phoenix-config.js';
import type { Release } from '../release/release.js';
import { isoTime, readJson } from './columns.js';

/** How releases sit in SQLite, and how rows become domain objects. */

export interface ReleaseRow {
  seq: number;
  id: string;
  service: string;
  number: number;
  run_id: string;
  commit_sha: string;
  artifact_name: string;
  artifact_digest: string;
  config_json: string;
  created_at: number;
}

export const RELEASE_COLUMNS =
  'seq, id, service, number, run_id, commit_sha, artifact_name, artifact_digest, config_json, created_at';

const count = z.number().int().positive();
const ms = z.number().int().nonnegative();

const matcherSchema = z.object({
  text: z.string(),
  ranges: z.array(z.object({ from: z.number().int(), to: z.number().int() })).min(1),
}) satisfies z.ZodType<StatusMatcher>;

/** The snapshot of phoenix.yml's release section, as written by `create`. */
export const releaseConfigSchema = z.object({
  start: z.string().min(1),
  portEnv: z.string().min(1),
  instances: count,
  healthCheck: z.object({
    path: z.string(),
    intervalMs: ms,
    timeoutMs: ms,
    healthyThreshold: count,
    unhealthyThreshold: count,
    matcher: matcherSchema,
    gracePeriodMs: ms,
  }),
}) satisfies z.ZodType<ReleaseConfig>;

export function toRelease(row: ReleaseRow): Release {
  return {
    id: row.id,
    service: row.service,
    number: row.number,
    runId: row.run_id,
    commit: row.commit_sha,
    artifact: { name: row.artifact_name, digest: row.artifact_digest },
    config: readJson(releaseConfigSchema, row.config_json, `release ${row.id} config`),
    createdAt: isoTime(row.created_at),
  };
}
