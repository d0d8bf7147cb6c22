import { z } from 'zod';
import { appFiles, APP_SERVICE, type AppSettings } from './deploy-app.js';
import type { DeployStack } from './deploy-stack.js';
import { timedPush } from './git-push.js';
import { commitFiles, createGitRepository } from './git-repository.js';

const runSchema = z.object({
  id: z.string(),
  commit: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  stages: z.array(z.object({ name: z.string(), status: z.string() })),
});
const runListSchema = z.object({ runs: z.array(runSchema) });
const runResponseSchema = z.object({ run: runSchema });

/**
 * Pushes one version of the app (the first call creates the working repository) and waits
 * for its run: build, release, and the deployment to the first environment. A run that does
 * not succeed stops the bench, with the run's reason.
 */
export async function pushVersion(
  stack: DeployStack,
  options: {
    work: string;
    pushUrl: string;
    version: string;
    settings: AppSettings;
    first: boolean;
  },
): Promise<void> {
  const files = appFiles(options.version, options.settings);
  const commit = options.first
    ? await createGitRepository(options.work, files)
    : await commitFiles(options.work, files, `Version ${options.version}`);
  await timedPush({
    directory: options.work,
    url: options.pushUrl,
    branch: 'main',
    scratchHome: stack.scratchHome,
  });
  // The server records a push's run before git push returns.
  const { runs } = await stack.api.json(runListSchema, `/api/runs?service=${APP_SERVICE}&limit=1`);
  const run = runs[0];
  if (run?.commit !== commit) throw new Error(`the push of ${options.version} started no run`);
  await stack.api.runEvents(run.id);
  const { run: finished } = await stack.api.json(runResponseSchema, `/api/runs/${run.id}`);
  if (finished.status !== 'succeeded') {
    const stages = finished.stages.map((stage) => `${stage.name}:${stage.status}`).join(', ');
    throw new Error(
      `the run of ${options.version} ended ${finished.status} (${stages}): ${finished.reason ?? 'no reason given'}`,
    );
  }
}
