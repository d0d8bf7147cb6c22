import type { z } from 'zod';
import { PlatformError } from '../shared/errors.js';

/** Epoch milliseconds as stored → the ISO 8601 strings the domain types carry. */
export function isoTime(ms: number): string;
export function isoTime(ms: number | null): string | undefined;
export function isoTime(ms: number | null): string | undefined {
  return ms === null ? undefined : new Date(ms).toISOString();
}

/** ISO 8601 from a caller → epoch milliseconds to store. Throws RangeError when unparsable. */
export function epochMs(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO 8601 time: ${iso}`);
  return ms;
}

/**
 * Reads a JSON column through a schema. The database is outside the process's control
 * (edited by hand, written by another version), so a bad value becomes a PlatformError
 * naming the row instead of a malformed object surfacing somewhere far away.
 */
export function readJson<T>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  text: string,
  where: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PlatformError(`${where}: stored JSON is corrupt`, { cause: error });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new PlatformError(`${where}: stored value is invalid: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** `null` columns become absent properties, as the domain types expect. */
export function optional<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

/** better-sqlite3 reports constraint failures through `code`; this checks it without `any`. */
export function isSqliteError(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
