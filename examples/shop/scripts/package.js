// Packages the release: the server's files and a manifest naming the commit it came from.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
cpSync('src', 'dist/src', { recursive: true });
cpSync('package.json', 'dist/package.json');
writeFileSync(
  'dist/release.json',
  `${JSON.stringify({ commit: process.env.CODEBUILD_RESOLVED_SOURCE_VERSION ?? 'local', build: process.env.CODEBUILD_BUILD_NUMBER ?? '0' }, null, 2)}\n`,
);
console.log('packaged dist/');
