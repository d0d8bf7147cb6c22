import { constants } from 'node:os';

/** Aborted on SIGINT or SIGTERM, with the exit code a shell expects (128 + signal). */
export function interruptController(): AbortController {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.exitCode = 128 + constants.signals[signal];
      controller.abort(signal);
    });
  }
  return controller;
}

/** Runs a benchmark; an interruption is reported as such, any other failure exits 1. */
export async function runInterruptible(
  controller: AbortController,
  run: () => Promise<void>,
  cleanedUp: string,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (controller.signal.aborted) {
      console.error(`Interrupted (${String(controller.signal.reason)}): ${cleanedUp}`);
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  }
}
