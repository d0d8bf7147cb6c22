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
  await pushFiles(stack, {
    work: options.work,
    pushUrl: options.pushUrl,
    files: appFiles(options.version, options.settings),
    label: options.version,
    branch: 'main',
    first: options.first,
  });
}

/**
 * Commits `files` (the first call creates the working repository), pushes them to `branch`
 * of the hosted repository and waits for the run the push started; a run that does not
 * succeed stops the bench, with the run's reason. Answers the run's id and commit.
 */
export async function pushFiles(
  stack: DeployStack,
  options: {
    work: string;
    pushUrl: string;
    files: Record<string, string>;
    /** Names the version in the commit message and in errors. */
    label: string;
    branch: string;
    first: boolean;
  },
): Promise<{ runId: string; commit: string }> {
  const { files, label } = options;
  const commit = options.first
    ? await createGitRepository(options.work, files)
    : await commitFiles(options.work, files, `Version ${label}`);
  await timedPush({
    directory: options.work,
    url: options.pushUrl,
    branch: options.branch,
    scratchHome: stack.scratchHome,
  });
  // The server records a push's run before git push returns.
  const { runs } = await stack.api.json(runListSchema, `/api/runs?service=${APP_SERVICE}&limit=1`);
  const run = runs[0];
  if (run?.commit !== commit) throw new Error(`the push of ${label} started no run`);
  await stack.api.runEvents(run.id);
  const { run: finished } = await stack.api.json(runResponseSchema, `/api/runs/${run.id}`);
  if (finished.status !== 'succeeded') {
    const stages = finished.stages.map((stage) => `${stage.name}:${stage.status}`).join(', ');
    throw new Error(
      `the run of ${label} ended ${finished.status} (${stages}): ${finished.reason ?? 'no reason given'}`,
    );
  }
  return { runId: run.id, commit };
}
