import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PlatformError } from '../../shared/errors.js';
import { StateFileSchema, type InstanceRecord } from './instance-record.js';

/** The state file carries the request's variables (maybe secrets): its owner only may read it. */
const STATE_FILE_MODE = 0o600;

/**
 * The runtime's instance records as one JSON file, replaced atomically (write a temporary file,
 * then rename), so a crash mid-write leaves the previous version. Saves are serialised and
 * coalesced: `save` resolves once a write that includes the state passed has landed.
 */
export class StateFile {
  private writing: Promise<void> = Promise.resolve();
  private pending: { records: InstanceRecord[]; done: Promise<void> } | undefined;

  constructor(readonly path: string) {}

  /** The recorded instances; none when the file does not exist yet. */
  async load(): Promise<InstanceRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return [];
      throw new PlatformError(`cannot read the runtime state file ${this.path}`, { cause: error });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new PlatformError(`the runtime state file ${this.path} is not valid JSON`, {
        cause: error,
      });
    }
    const parsed = StateFileSchema.safeParse(value);
    if (!parsed.success) {
      throw new PlatformError(`the runtime state file ${this.path} has unexpected content`, {
        cause: parsed.error,
      });
    }
    return parsed.data.instances;
  }

  save(records: readonly InstanceRecord[]): Promise<void> {
    const snapshot = structuredClone([...records]);
    if (this.pending !== undefined) {
      this.pending.records = snapshot;
      return this.pending.done;
    }
    const pending = { records: snapshot, done: Promise.resolve() };
    pending.done = this.writing.then(() => {
      this.pending = undefined;
      return this.write(pending.records);
    });
    this.pending = pending;
    // A failed write must not block the ones after it; the caller of that save sees the error.
    this.writing = pending.done.catch(() => undefined);
    return pending.done;
  }

  private async write(records: InstanceRecord[]): Promise<void> {
    const temporary = `${this.path}.${process.pid}.tmp`;
    const text = `${JSON.stringify({ version: 1, instances: records }, null, 2)}\n`;
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await writeFile(temporary, text, { mode: STATE_FILE_MODE });
      await chmod(temporary, STATE_FILE_MODE);
      await rename(temporary, this.path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw new PlatformError(`cannot write the runtime state file ${this.path}`, { cause: error });
    }
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
