import { writeFile } from 'node:fs/promises';
import { basename, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { initFiles } from '../config/init-template.js';
import { PHOENIX_CONFIG_FILE } from '../config/phoenix-config.js';

interface InitOptions {
  dir: string;
  service?: string;
  force?: boolean;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'write a commented starter phoenix.yml, and a buildspec.yml when there is none, for this repository',
    )
    .option('--service <name>', 'service name (default: the folder name, made valid)')
    .option('--dir <dir>', 'folder to write to', '.')
    .option(
      '--force',
      'overwrite an existing phoenix.yml (an existing buildspec.yml is always kept)',
    )
    .action(async (options: InitOptions) => {
      await runInit(options);
    });
}

async function runInit(options: InitOptions): Promise<void> {
  const files = await initFiles({ directory: resolve(options.dir), serviceName: options.service });
  for (const file of files) {
    const shown = relative(process.cwd(), file.path) || file.path;
    // A user's own buildspec is never replaced: the starter one only guesses from package.json.
    const overwrite = options.force === true && basename(file.path) === PHOENIX_CONFIG_FILE;
    if (file.skipped !== undefined && !overwrite) {
      const hint = basename(file.path) === PHOENIX_CONFIG_FILE ? ' (--force overwrites it)' : '';
      process.stdout.write(`skipped ${shown}: ${file.skipped}${hint}\n`);
      continue;
    }
    try {
      await writeFile(file.path, file.content, { flag: overwrite ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      process.stdout.write(`skipped ${shown}: it appeared while writing, left as it is\n`);
      continue;
    }
    process.stdout.write(`wrote ${shown}\n`);
  }
  process.stdout.write('next: review the files, then run phoenix validate\n');
}
