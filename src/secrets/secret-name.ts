/**
 * Secret names: letters, digits and `_ . / -`, starting with a letter or underscore, up to
 * 128 characters. Wide enough for buildspec references (`prod/db`, `/app/db/password` minus
 * its leading slash), narrow enough to be safe in URLs, logs and shell variables' company.
 */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_./-]{0,127}$/;

export const MAX_SECRET_NAME_LENGTH = 128;

/** Why `name` is not a secret name, or undefined when it is one. */
export function secretNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_SECRET_NAME_LENGTH)
    return `is ${name.length} characters long; at most ${MAX_SECRET_NAME_LENGTH}`;
  if (!/^[A-Za-z_]/.test(name)) return 'must start with a letter or an underscore';
  if (!SECRET_NAME_PATTERN.test(name))
    return 'may hold only letters, digits and _ . / - (no spaces or colons)';
  return undefined;
}
