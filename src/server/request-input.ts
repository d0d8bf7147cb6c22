import { z } from 'zod';
import { RequestValidationError, type RequestPart } from './http-errors.js';

/**
 * Checks a request value against its zod schema at the boundary. zod rather than fastify's
 * JSON schemas: one schema gives both the runtime check and the handler's static type
 * (no type provider, no casts), as everywhere else in Phoenix that reads outside input, and
 * its issues carry the path of the offending field for the problem response.
 */
export function parseInput<T extends z.ZodTypeAny>(
  schema: T,
  value: unknown,
  part: RequestPart,
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new RequestValidationError(
    parsed.error.issues.map((issue) => ({
      in: part,
      field: issue.path.join('.'),
      message: messageOf(issue),
    })),
  );
}

function messageOf(issue: z.ZodIssue): string {
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return `unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${issue.keys.join(', ')}`;
  }
  if (issue.code === z.ZodIssueCode.invalid_type && issue.received === 'undefined') {
    return 'is required';
  }
  return issue.message;
}

/** A schema refinement from a `(value) => problem | undefined` check, as src/source offers. */
export function checkedBy(check: (value: string) => string | undefined) {
  return (value: string, context: z.RefinementCtx): void => {
    const problem = check(value);
    if (problem !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  };
}
