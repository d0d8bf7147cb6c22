import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LocalUser } from '../config/appspec-check.js';

const run = promisify(execFile);

/** Users and groups of this machine, for appspec `runas`, `owner` and `group`. */
export interface LocalAccounts {
  lookupUser(name: string): Promise<LocalUser | undefined>;
  lookupGroup(name: string): Promise<number | undefined>;
}

/** Asks the system (`id`, `getent`), so that NSS users (LDAP...) count as well. */
export const systemAccounts: LocalAccounts = {
  async lookupUser(name) {
    try {
      const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
        run('id', ['-u', '--', name]),
        run('id', ['-g', '--', name]),
      ]);
      return { user: name, uid: Number(uid.trim()), gid: Number(gid.trim()) };
    } catch {
      return undefined;
    }
  },
  async lookupGroup(name) {
    try {
      const { stdout } = await run('getent', ['group', '--', name]);
      const gid = Number(stdout.split(':')[2]);
      return Number.isInteger(gid) ? gid : undefined;
    } catch {
      return undefined;
    }
  },
};
