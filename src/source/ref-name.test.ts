import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  branchOf,
  isCommitId,
  isZeroCommit,
  tagOf,
  validateRefName,
  zeroCommitLike,
} from './ref-name.js';

describe('validateRefName', () => {
  it.each([
    'refs/heads/main',
    'refs/heads/feature/login-form',
    'refs/heads/release-1.2',
    'refs/heads/user@example',
    'refs/heads/été',
    'refs/heads/a.b',
    'refs/tags/v1.2.0',
    'refs/tags/2026-01-01',
    `refs/heads/${'a'.repeat(255 - 'refs/heads/'.length)}`,
  ])('accepts %j', (ref) => {
    expect(validateRefName(ref)).toBeUndefined();
  });

  it.each([
    ['', /empty/],
    ['main', /refs\/heads\/ or refs\/tags\//],
    ['refs/notes/commits', /refs\/heads\/ or refs\/tags\//],
    ['refs/pull/1/head', /refs\/heads\/ or refs\/tags\//],
    ['refs/heads/', /ends with "\/"/],
    ['refs/heads/$(rm -rf ~)', /forbidden character " "/],
    ['refs/heads/$(id)~1', /forbidden character "~"/],
    ['refs/heads/;touch x', /forbidden character " "/],
    ['refs/heads/a\nb', /control character/],
    ['refs/heads/a\rb', /control character/],
    ['refs/heads/a\u0000b', /control character/],
    ['refs/heads/a\u007fb', /control character/],
    ['refs/heads/a\tb', /control character/],
    ['--upload-pack=x', /starts with "-"/],
    ['refs/heads/--upload-pack=x', /must not start with "-"/],
    ['refs/tags/-v1', /must not start with "-"/],
    ['-refs/heads/x', /starts with "-"/],
    ['/refs/heads/x', /starts with "\/"/],
    ['refs/heads/x/', /ends with "\/"/],
    ['refs/heads//x', /contains "\/\/"/],
    ['refs/heads/a..b', /contains "\.\."/],
    ['refs/heads/../../etc/passwd', /contains "\.\."/],
    ['refs/heads/a@{1}', /contains "@\{"/],
    ['@', /is "@"/],
    ['refs/heads/a^b', /forbidden character "\^"/],
    ['refs/heads/a:b', /forbidden character ":"/],
    ['refs/heads/a?b', /forbidden character "\?"/],
    ['refs/heads/a*', /forbidden character "\*"/],
    ['refs/heads/a[b', /forbidden character "\["/],
    ['refs/heads/a\\b', /forbidden character "\\\\"/],
    ['refs/heads/main.lock', /ending with "\.lock"/],
    ['refs/heads/x.lock/y', /ending with "\.lock"/],
    ['refs/heads/.hidden', /starting with "\."/],
    ['refs/heads/a/.b', /starting with "\."/],
    ['refs/heads/a.', /ends with "\."/],
    ['refs/heads/HEAD', /HEAD/],
    [`refs/heads/${'a'.repeat(256 - 'refs/heads/'.length)}`, /longer than 255/],
  ])('refuses %j', (ref, reason) => {
    expect(validateRefName(ref)).toMatch(reason);
  });
});

describe('validateRefName and git check-ref-format', () => {
  // Names that only Phoenix refuses (leading "-", HEAD, other namespaces) are left out.
  it.each([
    'refs/heads/main',
    'refs/heads/été',
    'refs/heads/user@example',
    'refs/tags/v1.2.0',
    'refs/heads/$(rm -rf ~)',
    'refs/heads/;touch x',
    'refs/heads/a\nb',
    'refs/heads/a..b',
    'refs/heads/a@{1}',
    'refs/heads/main.lock',
    'refs/heads/x.lock/y',
    'refs/heads/.hidden',
    'refs/heads/a/.b',
    'refs/heads/a.',
    'refs/heads//x',
    'refs/heads/x/',
    'refs/heads/a\\b',
    'refs/heads/a[b',
    'refs/heads/a:b',
  ])('agree on %j', (ref) => {
    const git = spawnSync('git', ['check-ref-format', ref]);

    expect(validateRefName(ref) === undefined).toBe(git.status === 0);
  });
});

describe('branchOf and tagOf', () => {
  it.each([
    ['refs/heads/main', 'main', undefined],
    ['refs/heads/feature/x', 'feature/x', undefined],
    ['refs/tags/v1.0.0', undefined, 'v1.0.0'],
    ['refs/tags/', undefined, undefined],
    ['refs/heads/', undefined, undefined],
    ['refs/notes/x', undefined, undefined],
    ['main', undefined, undefined],
  ])('%j is branch %j, tag %j', (ref, branch, tag) => {
    expect(branchOf(ref)).toBe(branch);
    expect(tagOf(ref)).toBe(tag);
  });
});

describe('commit ids', () => {
  it.each([
    ['6113728f27ae82c7b1a177c8d03f9e96e0adf246', true],
    ['a'.repeat(64), true],
    ['0'.repeat(40), true],
    ['6113728', false],
    ['6113728F27AE82C7B1A177C8D03F9E96E0ADF246', false],
    ['g'.repeat(40), false],
    ['a'.repeat(41), false],
    ['--all', false],
    ['', false],
  ])('isCommitId(%j) is %s', (value, expected) => {
    expect(isCommitId(value)).toBe(expected);
  });

  it('knows the zero id of either hash', () => {
    expect(isZeroCommit('0'.repeat(40))).toBe(true);
    expect(isZeroCommit('0'.repeat(64))).toBe(true);
    expect(isZeroCommit('0'.repeat(39))).toBe(false);
    expect(isZeroCommit(undefined)).toBe(false);
    expect(zeroCommitLike('a'.repeat(64))).toBe('0'.repeat(64));
    expect(zeroCommitLike('a'.repeat(40))).toBe('0'.repeat(40));
  });
});
