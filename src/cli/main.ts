#!/usr/bin/env node
import { CommanderError } from 'commander';
import { PhoenixError } from '../shared/errors.js';
import { createProgram } from './program.js';

async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof PhoenixError) {
      process.stderr.write(`phoenix: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv);
