import { describe, expect, it } from 'vitest';
import { ApiError, ServerUnreachableError } from './api-client.js';
import { formatFailure, plainColors } from './api-command.js';

const colors = plainColors();

describe('formatFailure', () => {
  it('prints the title and detail of a problem', () => {
    const error = new ApiError(404, 'Not Found', 'run shop#9 not found', []);

    expect(formatFailure(error, 'file', colors)).toBe('phoenix: Not Found: run shop#9 not found\n');
  });

  it('lists field errors, once, when the detail only repeats them', () => {
    const error = new ApiError(
      400,
      'Invalid request',
      'body.name: is required; body.role: is invalid',
      [
        { location: 'body', field: 'name', message: 'is required' },
        { location: 'body', field: 'role', message: 'is invalid' },
      ],
    );

    expect(formatFailure(error, 'file', colors)).toBe(
      'phoenix: Invalid request:\n  name: is required\n  role: is invalid\n',
    );
  });

  it("names a user's file and key, and keeps a detail that says more", () => {
    const error = new ApiError(400, 'Invalid input', 'the pushed phoenix.yml is invalid', [
      { location: 'phoenix.yml:3:5', field: 'build.timeout', message: 'is not a duration' },
    ]);

    expect(formatFailure(error, 'file', colors)).toBe(
      'phoenix: Invalid input: the pushed phoenix.yml is invalid\n  phoenix.yml:3:5: build.timeout: is not a duration\n',
    );
  });

  it('says which token was refused', () => {
    const error = new ApiError(401, 'Unauthorized', 'the API token is not valid', []);

    expect(formatFailure(error, 'env', colors)).toContain(
      '(the token from PHOENIX_TOKEN was refused; `phoenix login` saves a working one)',
    );
  });

  it('prints an unreachable server as it is', () => {
    const error = new ServerUnreachableError('http://127.0.0.1:8800', 'ECONNREFUSED');

    expect(formatFailure(error)).toBe(
      'phoenix: cannot reach the Phoenix server at http://127.0.0.1:8800 (ECONNREFUSED): is `phoenix server` running?\n',
    );
  });
});
