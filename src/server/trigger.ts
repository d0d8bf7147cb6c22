import { z } from 'zod';
import type { SubmitResult } from '../pipeline/orchestrator.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { branchOf, isCommitId, validateRefName } from '../source/ref-name.js';
import type { Service } from '../store/service-repository.js';
import { RequestValidationError } from './http-errors.js';
import type { RouteContext } from './route-context.js';
import { hasCommit, resolveRef } from './service-source.js';

export const triggerBody = z
  .object({
    /** A branch name (`main`, `release/1.x`), or... */
    branch: z.string().min(1).max(255).optional(),
    /** ...a full ref (`refs/heads/main`, `refs/tags/v1.0.0`). Neither: the default branch. */
    ref: z.string().min(1).max(255).optional(),
    /** A full commit id; defaults to the ref's head. */
    commit: z.string().refine(isCommitId, 'is a full commit id (40 or 64 hex digits)').optional(),
  })
  .strict()
  .refine((body) => body.branch === undefined || body.ref === undefined, {
    message: 'give branch or ref, not both',
    path: ['ref'],
  });

export type TriggerBody = z.infer<typeof triggerBody>;

/**
 * A manual run: the branch's head (or the given commit) in the repository Phoenix builds
 * the service from, whatever the trigger's filters say. Refs are checked before use and
 * never reach git as arguments (resolveRef lists refs instead).
 */
export async function triggerRun(
  context: RouteContext,
  input: { service: Service; body: TriggerBody; actor: string },
): Promise<SubmitResult> {
  const { service, body } = input;
  const { ref, field } = refOf(service, body);
  const problem = validateRefName(ref);
  if (problem !== undefined)
    throw new RequestValidationError([{ in: 'body', field, message: problem }]);
  const repository = context.repositoryOf(service);
  if (repository === undefined) {
    throw new ConflictError(
      `service ${service.name} has no local copy of its repository yet: wait for the first poll`,
    );
  }
  const commit = body.commit ?? (await resolveRef(repository, ref));
  if (commit === undefined) {
    throw new NotFoundError(`service ${service.name} has no ${describeRef(ref)} (push it first)`);
  }
  if (body.commit !== undefined && !(await hasCommit(repository, body.commit))) {
    throw new NotFoundError(`service ${service.name}'s repository has no commit ${body.commit}`);
  }
  return context.deps.orchestrator.submit({
    service: service.name,
    ref,
    commit,
    trigger: { type: 'manual', actor: input.actor },
    ignoreFilters: true,
  });
}

function refOf(service: Service, body: TriggerBody): { ref: string; field: string } {
  if (body.ref !== undefined) return { ref: body.ref, field: 'ref' };
  if (body.branch !== undefined) return { ref: `refs/heads/${body.branch}`, field: 'branch' };
  return { ref: `refs/heads/${service.defaultBranch}`, field: 'branch' };
}

function describeRef(ref: string): string {
  const branch = branchOf(ref);
  return branch === undefined ? `ref ${ref}` : `branch ${branch}`;
}
