import { describe, expect, it } from 'vitest';
import { parsePhoenixConfig, type TriggerConfig } from './phoenix-config.js';
import { environmentsFor, matchPatterns, matchTrigger } from './trigger-match.js';

function trigger(overrides: Partial<TriggerConfig>): TriggerConfig {
  return {
    branches: ['**'],
    branchesIgnore: [],
    tags: [],
    tagsIgnore: [],
    pathsIgnore: [],
    ...overrides,
  };
}

describe('matchPatterns (GitHub Actions glob rules)', () => {
  it.each([
    [['main'], 'main', true],
    [['main'], 'maintenance', false],
    [['*'], 'feature/x', false],
    [['*'], 'main', true],
    [['**'], 'feature/a/b', true],
    [['feature/*'], 'feature/a', true],
    [['feature/*'], 'feature/a/b', false],
    [['feature/**'], 'feature/a/b', true],
    [['release/v[0-9]*'], 'release/v2', true],
    [['release/v[0-9]*'], 'release/vx', false],
    [['v*'], 'v1.2.3', true],
    [['v?'], 'v1', true],
    [['{main,develop}'], 'develop', true],
    [['**/*.md'], 'README.md', true],
    [['**/*.md'], 'docs/guide/setup.md', true],
    [['**'], '.github/workflows/ci.yml', true],
    [['docs/**'], 'docs/a/b.png', true],
    [['src/**', '!src/**/*.test.ts'], 'src/a/b.test.ts', false],
    [['src/**', '!src/**/*.test.ts'], 'src/a/b.ts', true],
    [['src/**', '!src/gen/**', 'src/gen/keep.ts'], 'src/gen/keep.ts', true],
    [['src/**', '!src/gen/**', 'src/gen/keep.ts'], 'src/gen/other.ts', false],
  ])('%j on %s: %s', (patterns, value, expected) => {
    expect(matchPatterns(patterns, value).matched).toBe(expected);
  });

  it('names the pattern that decided', () => {
    expect(matchPatterns(['src/**', '!src/gen/**'], 'src/gen/x.ts')).toEqual({
      matched: false,
      pattern: '!src/gen/**',
    });
    expect(matchPatterns(['main', 'release/**'], 'release/1')).toEqual({
      matched: true,
      pattern: 'release/**',
    });
  });
});

describe('matchTrigger', () => {
  it.each<[string, Partial<TriggerConfig>, string, readonly string[] | undefined, boolean, string]>(
    [
      [
        'default: every branch',
        {},
        'refs/heads/feature/x',
        undefined,
        true,
        'branch feature/x matches branches "**"',
      ],
      [
        'listed branch',
        { branches: ['main', 'release/**'] },
        'refs/heads/release/1.2',
        undefined,
        true,
        'branch release/1.2 matches branches "release/**"',
      ],
      [
        'unlisted branch',
        { branches: ['main', 'release/**'] },
        'refs/heads/dev',
        undefined,
        false,
        'branch dev matches none of branches "main", "release/**"',
      ],
      [
        'ignore wins over include',
        { branches: ['**'], branchesIgnore: ['wip/**'] },
        'refs/heads/wip/x',
        undefined,
        false,
        'branch wip/x matches branches-ignore "wip/**"',
      ],
      [
        'a "!" pattern excludes',
        { branches: ['release/**', '!release/**-alpha'] },
        'refs/heads/release/2-alpha',
        undefined,
        false,
        'branch release/2-alpha is excluded by branches "!release/**-alpha"',
      ],
      [
        'tags do not run by default',
        {},
        'refs/tags/v1.0',
        undefined,
        false,
        'tag v1.0: tags run only when listed in tags',
      ],
      [
        'listed tag',
        { tags: ['v*'] },
        'refs/tags/v1.0',
        undefined,
        true,
        'tag v1.0 matches tags "v*"',
      ],
      [
        'unlisted tag',
        { tags: ['v*'] },
        'refs/tags/nightly',
        undefined,
        false,
        'tag nightly matches none of tags "v*"',
      ],
      [
        'ignored tag',
        { tags: ['v*'], tagsIgnore: ['v*-rc*'] },
        'refs/tags/v2-rc1',
        undefined,
        false,
        'tag v2-rc1 matches tags-ignore "v*-rc*"',
      ],
      [
        'path filters do not apply to tags',
        { tags: ['v*'], paths: ['src/**'] },
        'refs/tags/v1',
        ['docs/a.md'],
        true,
        'tag v1 matches tags "v*"',
      ],
      [
        'a changed file matches paths',
        { paths: ['src/**'] },
        'refs/heads/main',
        ['README.md', 'src/app.ts'],
        true,
        'branch main matches branches "**"; src/app.ts matches paths "src/**"',
      ],
      [
        'no changed file matches paths',
        { paths: ['src/**'] },
        'refs/heads/main',
        ['README.md'],
        false,
        'no changed file matches paths "src/**"',
      ],
      [
        'every changed file is ignored',
        { pathsIgnore: ['docs/**', '**/*.md'] },
        'refs/heads/main',
        ['docs/x.png', 'README.md'],
        false,
        'every changed file matches paths-ignore (README.md matches "**/*.md")',
      ],
      [
        'one changed file is not ignored',
        { pathsIgnore: ['docs/**'] },
        'refs/heads/main',
        ['docs/x.png', 'src/a.ts'],
        true,
        'branch main matches branches "**"; src/a.ts matches no paths-ignore pattern',
      ],
      [
        'paths-ignore wins over paths, file by file',
        { paths: ['src/**'], pathsIgnore: ['**/*.md'] },
        'refs/heads/main',
        ['src/README.md'],
        false,
        'no changed file matches paths "src/**" outside paths-ignore',
      ],
      [
        'unknown changes (a new branch) never block',
        { paths: ['src/**'] },
        'refs/heads/new',
        undefined,
        true,
        'branch new matches branches "**"; changed files unknown, so path filters do not apply',
      ],
      [
        'no changed files with path filters',
        { paths: ['src/**'] },
        'refs/heads/main',
        [],
        false,
        'the push changed no files, and path filters are set',
      ],
      ['no path filters', {}, 'refs/heads/main', [], true, 'branch main matches branches "**"'],
      [
        'branch rules come before path rules',
        { branchesIgnore: ['wip/**'], paths: ['src/**'] },
        'refs/heads/wip/a',
        ['src/a.ts'],
        false,
        'branch wip/a matches branches-ignore "wip/**"',
      ],
      [
        'other refs never run',
        {},
        'refs/pull/1/head',
        undefined,
        false,
        'ref refs/pull/1/head is neither a branch (refs/heads/...) nor a tag (refs/tags/...)',
      ],
      [
        'a bare branch name is not a ref',
        {},
        'main',
        undefined,
        false,
        'ref main is neither a branch (refs/heads/...) nor a tag (refs/tags/...)',
      ],
      [
        'an empty branch name',
        {},
        'refs/heads/',
        undefined,
        false,
        'ref refs/heads/ is neither a branch (refs/heads/...) nor a tag (refs/tags/...)',
      ],
    ],
  )('%s', (_name, overrides, ref, changedPaths, matches, reason) => {
    const result = matchTrigger(trigger(overrides), { ref, changedPaths });

    expect(result).toEqual({ matches, reason });
  });

  it('works on a parsed phoenix.yml', () => {
    const config = parsePhoenixConfig(
      "service: shop\ntrigger:\n  branches: [main]\n  paths-ignore: ['docs/**']\n",
      'phoenix.yml',
    );

    expect(
      matchTrigger(config.trigger, { ref: 'refs/heads/main', changedPaths: ['docs/a'] }).matches,
    ).toBe(false);
    expect(
      matchTrigger(config.trigger, { ref: 'refs/heads/main', changedPaths: ['a.ts'] }).matches,
    ).toBe(true);
  });
});

describe('environmentsFor', () => {
  const config = parsePhoenixConfig(
    [
      'service: shop',
      'release: {start: npm start}',
      'environments:',
      '  - name: dev',
      '  - name: staging',
      "    branches: [main, 'release/**']",
      '  - name: prod',
      '    branches: main',
    ].join('\n'),
    'phoenix.yml',
  );

  it.each([
    ['main', ['dev', 'staging', 'prod']],
    ['release/1.0', ['dev', 'staging']],
    ['feature/x', ['dev']],
  ])('%s deploys to %j', (branch, expected) => {
    expect(environmentsFor(config, branch)).toEqual(expected);
  });

  it('is empty without environments', () => {
    expect(environmentsFor(parsePhoenixConfig('service: shop\n', 'p.yml'), 'main')).toEqual([]);
  });
});
