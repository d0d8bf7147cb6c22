// A dependency-free lint: every source file must parse (node --check) and use no `var`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const files = ['src', 'test', 'scripts', 'hooks'].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(dir, f)),
);
let problems = 0;
for (const file of files) {
  execFileSync(process.execPath, ['--check', file]);
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (/^\s*var\s/.test(line)) {
        console.error(`${file}:${index + 1}: use let or const instead of var`);
        problems++;
      }
    });
}
console.log(`lint: ${files.length} files, ${problems} problems`);
process.exit(problems === 0 ? 0 : 1);
