// The core is pure logic: it imports nothing that does I/O or reads the clock,
// and nothing from the layers above it. This test fails if it ever does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const coreDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/core');

test('src/core imports only src/core, and uses no clock, randomness, timers or I/O', () => {
  const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10, 'found the core sources');
  for (const f of files) {
    const src = readFileSync(join(coreDir, f), 'utf8');
    for (const m of src.matchAll(/from\s+'([^']+)'/g)) {
      assert.ok(m[1]!.startsWith('./'), `${f} imports '${m[1]}': the core may import only its own modules`);
    }
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    for (const banned of ['Date.now', 'new Date', 'Math.random', 'setTimeout', 'setInterval', 'setImmediate', 'performance.now', 'process.', 'require(']) {
      assert.ok(!code.includes(banned), `${f} uses ${banned}`);
    }
  }
});
