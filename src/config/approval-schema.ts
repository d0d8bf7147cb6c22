import { z } from 'zod';
import { duration, integer } from './schema-parts.js';

/** CodePipeline's manual approval: a gate not answered in 7 days fails. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 7 * 24 * 3_600_000;
export const MAX_APPROVAL_TIMEOUT_MS = 30 * 24 * 3_600_000;
/** Who may approve when phoenix.yml does not say: tokens with the approver or admin role. */
export const DEFAULT_APPROVERS = ['role:approver', 'role:admin'] as const;
const APPROVER = /^(?:role:(?:approver|admin|developer)|[A-Za-z0-9][A-Za-z0-9._@-]{0,62})$/;

/**
 * An environment's approval gate: before a run deploys there, `count` people among
 * `approvers` (token names, or `role:approver`, `role:admin`, `role:developer`) must approve,
 * within `timeout`; one rejection fails it. The one who pushed may not approve their own
 * change unless `self-approval: true`.
 */
export interface ApprovalConfig {
  approvers: string[];
  count: number;
  timeoutMs: number;
  reviewUrl?: string;
  message?: string;
  allowSelfApproval: boolean;
}

const approvalObject = z
  .object(
    {
      approvers: z
        .array(
          z
            .string()
            .regex(APPROVER, 'expected a token name, or role:approver, role:admin, role:developer'),
          { invalid_type_error: 'expected a list such as [role:approver, alice]' },
        )
        .min(1, 'name at least one approver, or leave approvers out')
        .optional(),
      count: integer('count', 1, 10).optional(),
      timeout: duration({ min: 60_000, max: MAX_APPROVAL_TIMEOUT_MS }).optional(),
      'review-url': z
        .string()
        .url('expected a URL such as https://review.example.com/shop')
        .optional(),
      message: z.string().max(500, 'at most 500 characters').optional(),
      'self-approval': z.boolean({ invalid_type_error: 'expected true or false' }).optional(),
    },
    { invalid_type_error: 'expected true, or a mapping such as { approvers: [role:approver] }' },
  )
  .strict();

/**
 * `approval: true` (the defaults) or `approval: { approvers, count, timeout, ... }`. Not a
 * zod union, so that a bad key is reported as itself, at its own key.
 */
export const approvalSchema = z.unknown().transform((value, ctx): ApprovalConfig => {
  const parsed = approvalObject.safeParse(value === true ? {} : value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue(issue);
    return z.NEVER;
  }
  const given = parsed.data;
  return {
    approvers: given.approvers ?? [...DEFAULT_APPROVERS],
    count: given.count ?? 1,
    timeoutMs: given.timeout ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    ...(given['review-url'] === undefined ? {} : { reviewUrl: given['review-url'] }),
    ...(given.message === undefined ? {} : { message: given.message }),
    allowSelfApproval: given['self-approval'] ?? false,
  };
});

export const APPROVAL_KEYS = [
  'approval',
  'approvers',
  'count',
  'timeout',
  'review-url',
  'message',
  'self-approval',
] as const;
