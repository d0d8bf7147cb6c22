import {
  findMarkedProcesses as findMarked,
  reapMarkedProcesses,
} from '../shared/marked-processes.js';

/**
 * Every process a build starts carries `PHOENIX_BUILD_ID` in its environment (see
 * shared/marked-processes.ts), so reaping by that mark leaves nothing behind when a build
 * ends, times out or is stopped.
 */
export const BUILD_MARK_VARIABLE = 'PHOENIX_BUILD_ID';

export function findMarkedProcesses(buildId: string): Promise<number[]> {
  return findMarked({ variable: BUILD_MARK_VARIABLE, value: buildId });
}

export function reapBuildProcesses(buildId: string, processGroup?: number): Promise<number> {
  return reapMarkedProcesses({ variable: BUILD_MARK_VARIABLE, value: buildId }, processGroup);
}
