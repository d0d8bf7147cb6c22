import { stat } from 'node:fs/promises';
import { NotFoundError, ValidationError, type ValidationIssue } from '../../shared/errors.js';
import type { StartRequest } from '../runtime.js';
import { INSTANCE_MARK_VARIABLE } from './instance-reaper.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set([
  'PHOENIX_SERVICE',
  'PHOENIX_ENVIRONMENT',
  'PHOENIX_RELEASE',
  'PHOENIX_INSTANCE',
  INSTANCE_MARK_VARIABLE,
]);

/**
 * Checks a start request before anything runs. The config layer validates phoenix.yml with
 * file and line; this guards the runtime against callers that skipped it.
 */
export async function checkStartRequest(request: StartRequest): Promise<void> {
  const issues: ValidationIssue[] = [];
  const problem = (key: string, message: string): void => {
    issues.push({ location: { file: 'start request', line: 1, column: 1 }, key, message });
  };
  if (!Number.isInteger(request.instances) || request.instances < 0) {
    problem('instances', 'must be a whole number, 0 or more');
  }
  if (request.command.trim() === '') problem('command', 'must not be empty');
  if (!NAME.test(request.portEnv)) problem('portEnv', 'must be a shell identifier');
  if (RESERVED.has(request.portEnv)) problem('portEnv', 'this name is set by the runtime');
  for (const [name, value] of Object.entries(request.env)) {
    if (!NAME.test(name)) problem(`env.${name}`, 'must be a shell identifier');
    if (value.includes('\0')) problem(`env.${name}`, 'must not contain a NUL character');
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const directory = await stat(request.directory).catch(() => undefined);
  if (directory?.isDirectory() !== true) {
    throw new NotFoundError(`release directory ${request.directory} does not exist`);
  }
}
