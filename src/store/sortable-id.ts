import { randomBytes } from 'node:crypto';

/** Base36 digits for a millisecond timestamp; 9 cover dates until the year 5188. */
const TIME_DIGITS = 9;
const RANDOM_DIGITS = 8;

/**
 * `prefix` + creation time in base36 + random: ids sort by creation time as strings, are
 * unique without coordination between processes, and never repeat an earlier id.
 */
export function newSortableId(prefix: string, now: number): string {
  const time = Math.max(0, Math.floor(now)).toString(36).padStart(TIME_DIGITS, '0');
  const random = randomBytes(5).readUIntBE(0, 5).toString(36).padStart(RANDOM_DIGITS, '0');
  return `${prefix}${time}${random}`;
}
