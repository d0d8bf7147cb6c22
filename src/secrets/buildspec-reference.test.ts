import { describe, expect, it } from 'vitest';
import { parseSecretReference, type SecretReference } from '../config/buildspec.js';
import { buildspecSecret, jsonField, type BuildspecSecret } from './buildspec-reference.js';

function secretsManager(text: string): SecretReference {
  const reference = parseSecretReference(text);
  if (reference === undefined) throw new Error(`not a secrets-manager reference: ${text}`);
  return reference;
}

describe('buildspecSecret', () => {
  it.each<[string, BuildspecSecret]>([
    ['prod/db', { name: 'prod/db' }],
    ['prod/db:password', { name: 'prod/db', jsonKey: 'password' }],
    ['prod/db:password:AWSCURRENT', { name: 'prod/db', jsonKey: 'password' }],
    ['DB_PASSWORD', { name: 'DB_PASSWORD' }],
    ['prod/db::AWSCURRENT', { name: 'prod/db' }],
    [
      'prod/db:password:AWSPREVIOUS',
      {
        problem:
          'secret "prod/db": Phoenix keeps only the current value of a secret, so a version-stage other than AWSCURRENT or a version-id cannot be resolved',
      },
    ],
    [
      'prod/db:password::0f3c1a',
      {
        problem:
          'secret "prod/db": Phoenix keeps only the current value of a secret, so a version-stage other than AWSCURRENT or a version-id cannot be resolved',
      },
    ],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf:password',
      { problem: "Phoenix secrets are named, not ARNs: use the secret's name" },
    ],
    [
      '1password',
      {
        problem:
          '"1password" cannot name a Phoenix secret: the name must start with a letter or an underscore',
      },
    ],
  ])('secrets-manager %s → %j', (text, expected) => {
    expect(buildspecSecret(secretsManager(text))).toEqual(expected);
  });

  it.each<[string, BuildspecSecret]>([
    ['/prod/db/password', { name: 'prod/db/password' }],
    ['prod/db/password', { name: 'prod/db/password' }],
    ['/CodeBuild/dockerLoginPassword', { name: 'CodeBuild/dockerLoginPassword' }],
    [
      '/prod/db/password:3',
      {
        problem:
          '"/prod/db/password:3" names a parameter version or label; Phoenix keeps only the current value of a secret',
      },
    ],
    [
      'arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db',
      { problem: "Phoenix secrets are named, not ARNs: use the parameter's name" },
    ],
    [
      '//double',
      {
        problem:
          '"//double" cannot name a Phoenix secret: the name must start with a letter or an underscore',
      },
    ],
    [
      '/with space',
      {
        problem:
          '"/with space" cannot name a Phoenix secret: the name may hold only letters, digits and _ . / - (no spaces or colons)',
      },
    ],
  ])('parameter-store %s → %j', (reference, expected) => {
    expect(buildspecSecret(reference)).toEqual(expected);
  });
});

describe('jsonField', () => {
  it.each([
    ['{"password":"s3cr3t"}', 'password', { value: 's3cr3t' }],
    ['{"port":5432}', 'port', { value: '5432' }],
    ['{"nested":{"a":1}}', 'nested', { value: '{"a":1}' }],
    ['{"password":null}', 'password', { problem: 'secret "db" has no key "password"' }],
    ['{"user":"app"}', 'password', { problem: 'secret "db" has no key "password"' }],
    ['{"toString":"x"}', 'constructor', { problem: 'secret "db" has no key "constructor"' }],
    ['["password"]', '0', { problem: 'secret "db" has no key "0"' }],
    ['s3cr3t', 'password', { problem: 'secret "db" is not JSON, so it has no key "password"' }],
  ])('%s [%s] → %j', (value, key, expected) => {
    expect(jsonField('db', value, key)).toEqual(expected);
  });
});
