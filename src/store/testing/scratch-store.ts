import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../store.js';

/** Test fixture (not shipped): a store on a new database file in its own temporary folder. */
export interface ScratchStore {
  /** The temporary folder; the store's database file is `phoenix.db` in it. */
  readonly folder: string;
  readonly store: Store;
  /** Closes the store and removes the folder. */
  close(): Promise<void>;
}

/** Opens the scratch store with a hosted repository per name in `services` already created. */
export async function openScratchStore(options: {
  /** Start of the temporary folder's name. */
  prefix: string;
  now: () => number;
  services: readonly string[];
}): Promise<ScratchStore> {
  const folder = await mkdtemp(join(tmpdir(), options.prefix));
  const store = openStore(join(folder, 'phoenix.db'), options.now);
  for (const name of options.services) {
    store.services.create({ name, repository: { kind: 'hosted', path: `/${name}` } });
  }
  return {
    folder,
    store,
    close: async () => {
      store.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
