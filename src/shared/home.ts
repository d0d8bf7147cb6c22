import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** All Phoenix state lives below this folder: `PHOENIX_HOME`, or `~/.phoenix`. */
export function phoenixHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['PHOENIX_HOME'];
  return configured !== undefined && configured !== ''
    ? resolve(configured)
    : join(homedir(), '.phoenix');
}
