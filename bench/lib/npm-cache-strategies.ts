import { stringify } from 'yaml';

const NPM_CI = 'npm ci --prefer-offline --no-audit --no-fund';
const LOCK_HASH = '$(codebuild-hash-files package-lock.json)';
/** Printed by the node_modules strategy's install when it keeps what the cache restored. */
export const KEPT_MARKER = 'node_modules restored for this lockfile';
/** Loads two of the bench project's dependencies, so a broken install fails the build. */
const BUILD_COMMAND = `node -e "require('express'); require('lodash'); console.log('ok')"`;

export type StrategyName = 'no cache' | '~/.npm' | 'node_modules';

/** One way to cache an npm project's dependencies: an install command and a `cache:` section. */
export interface Strategy {
  name: StrategyName;
  /** For file and folder names. */
  id: string;
  install: string;
  cache?: { key: string; 'fallback-keys': string[]; paths: string[] };
}

/** The same install everywhere, except that node_modules skips it when the lock file matches. */
export const STRATEGIES: readonly Strategy[] = [
  { name: 'no cache', id: 'no-cache', install: NPM_CI },
  {
    name: '~/.npm',
    id: 'npm-cache',
    install: NPM_CI,
    cache: { key: `npm-${LOCK_HASH}`, 'fallback-keys': ['npm-'], paths: ['~/.npm/**/*'] },
  },
  {
    name: 'node_modules',
    id: 'node-modules',
    // ~/.npm rides along so that after a lock file change (a fallback hit) npm ci downloads
    // only what changed.
    install:
      `if [ -f node_modules/.lock-hash ] && [ "$(cat node_modules/.lock-hash)" = "${LOCK_HASH}" ]; ` +
      `then echo "${KEPT_MARKER}"; ` +
      `else ${NPM_CI} && codebuild-hash-files package-lock.json > node_modules/.lock-hash; fi`,
    cache: {
      key: `modules-${LOCK_HASH}`,
      'fallback-keys': ['modules-'],
      paths: ['node_modules/**/*', '~/.npm/**/*'],
    },
  },
];

/** Where the strategy's buildspec sits in the bench repository. */
export function buildspecPath(strategy: Strategy): string {
  return `buildspec-${strategy.id}.yml`;
}

export function buildspec(strategy: Strategy): string {
  const spec = {
    version: 0.2,
    phases: {
      install: { commands: [strategy.install] },
      build: { commands: [BUILD_COMMAND] },
    },
    ...(strategy.cache === undefined ? {} : { cache: strategy.cache }),
  };
  return stringify(spec, { lineWidth: 0 });
}
