// Packages the release: the server's files, its appspec and hooks, and a manifest naming the
// commit it came from.
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
cpSync('src', 'dist/src', { recursive: true });
cpSync('hooks', 'dist/hooks', { recursive: true });
cpSync('appspec.yml', 'dist/appspec.yml');
cpSync('package.json', 'dist/package.json');
// Hooks are run as programs, as CodeDeploy runs them: a checkout may not keep the x bit.
for (const hook of readdirSync('dist/hooks')) chmodSync(`dist/hooks/${hook}`, 0o755);
writeFileSync(
  'dist/release.json',
  `${JSON.stringify({ commit: process.env.CODEBUILD_RESOLVED_SOURCE_VERSION ?? 'local', build: process.env.CODEBUILD_BUILD_NUMBER ?? '0' }, null, 2)}\n`,
);
console.log('packaged dist/');
