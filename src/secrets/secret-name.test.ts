import { describe, expect, it } from 'vitest';
import { SECRET_NAME_PATTERN, secretNameProblem } from './secret-name.js';

describe('secretNameProblem', () => {
  it.each([
    ['DB_PASSWORD', undefined],
    ['_private', undefined],
    ['prod/db', undefined],
    ['prod/db/password', undefined],
    ['app.v2-key_3', undefined],
    ['a', undefined],
    ['a'.repeat(128), undefined],
    ['', 'is empty'],
    ['a'.repeat(129), 'is 129 characters long; at most 128'],
    ['1st', 'must start with a letter or an underscore'],
    ['/prod/db', 'must start with a letter or an underscore'],
    ['.hidden', 'must start with a letter or an underscore'],
    ['-flag', 'must start with a letter or an underscore'],
    ['prod/db:password', 'may hold only letters, digits and _ . / - (no spaces or colons)'],
    ['two words', 'may hold only letters, digits and _ . / - (no spaces or colons)'],
    ['naïve', 'may hold only letters, digits and _ . / - (no spaces or colons)'],
    ['line\nbreak', 'may hold only letters, digits and _ . / - (no spaces or colons)'],
  ])('%j → %j', (name, problem) => {
    expect(secretNameProblem(name)).toBe(problem);
    expect(SECRET_NAME_PATTERN.test(name)).toBe(problem === undefined);
  });
});
