import { newSortableId } from './sortable-id.js';

/** `r_` + 17 base36 digits: sorts by creation time (see newSortableId). */
export function newRunId(now: number): string {
  return newSortableId('r_', now);
}
