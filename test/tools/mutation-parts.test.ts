// The full mutation run in parts (scripts/mutate-in-parts.js) must give every file npm run mutate mutates to
// exactly one part: a file added to src/core and forgotten there would drop out of the full run unnoticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the parts of the full mutation run cover every file to mutate, each once', () => {
  const r = spawnSync(process.execPath, ['scripts/mutate-in-parts.js', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /every file to mutate, each once/);
});
