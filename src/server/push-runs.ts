import { resolve } from 'node:path';
import { changedPaths } from '../source/hosted-repository.js';
import type { RefChange } from '../source/ref-changes.js';
import { isZeroCommit, validateRefName } from '../source/ref-name.js';
import type { Logger } from '../shared/logger.js';
import type { ServerDeps } from './server-deps.js';

export interface PushRunsInput {
  /** The hosted bare repository that was pushed to. */
  repository: string;
  pushed: readonly RefChange[];
  /** The pusher's token name. */
  actor: string;
}

/**
 * Starts a run for every branch or tag a push created or moved, for each service built from
 * that repository: the moment git's answer is sent, with no polling in between. Deleted refs
 * start nothing; refs that cannot trigger (notes, odd names) and pushes a trigger ignores are
 * logged. Never rejects: failures are logged here, once.
 */
export async function startPushRuns(
  deps: Pick<ServerDeps, 'store' | 'orchestrator'>,
  logger: Pick<Logger, 'info' | 'error'>,
  input: PushRunsInput,
): Promise<void> {
  const target = resolve(input.repository);
  const services = deps.store.services
    .list()
    .filter((s) => s.repository.kind === 'hosted' && resolve(s.repository.path) === target);
  if (services.length === 0) {
    logger.info({ repository: input.repository }, 'push to a repository no service builds');
    return;
  }
  for (const change of input.pushed) {
    if (isZeroCommit(change.after)) continue;
    const problem = validateRefName(change.ref);
    if (problem !== undefined) {
      logger.info({ ref: change.ref, problem }, 'pushed ref cannot trigger a run');
      continue;
    }
    for (const service of services) {
      try {
        const result = await deps.orchestrator.submit({
          service: service.name,
          ref: change.ref,
          commit: change.after,
          trigger: { type: 'push', actor: input.actor },
          changedPaths: await changedPaths(input.repository, change.before, change.after),
        });
        if ('ignored' in result) {
          logger.info(
            { service: service.name, ref: change.ref, reason: result.ignored },
            'push ignored by trigger',
          );
        }
      } catch (error) {
        logger.error(
          { err: error, service: service.name, ref: change.ref },
          'could not start a run for a push',
        );
      }
    }
  }
}
