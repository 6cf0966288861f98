// The bed: a cut drops exactly the packets of the pairs it names (a TCP connection across it times out,
// every other link still works), heal restores them, destroy() leaves nothing behind; without
// namespaces the bed says it is on loopback and refuses link faults instead of pretending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createBed, netnsUnavailable, type Bed, type Host } from '../../src/nemesis/bed.js';

const PORT = 7301;
const SERVER = `require('net').createServer((s) => s.end('hi')).listen(${PORT}, process.argv[1], () => console.log('up'))`;
const CLIENT = `const s = require('net').connect(${PORT}, process.argv[1]); s.setTimeout(1500); s.on('data', () => { console.log('ok'); process.exit(0); }); s.on('timeout', () => { console.log('timeout'); process.exit(0); }); s.on('error', (e) => { console.log(e.code); process.exit(0); });`;

function serve(bed: Bed, host: Host): Promise<ChildProcess> {
  const { file, args } = bed.command(host, [process.execPath, '-e', SERVER, bed.address(host)]);
  const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res) => p.stdout!.once('data', () => res(p)));
}

/** 'ok' when `from` reaches `to`'s server, 'timeout' when the packets are dropped. */
function reach(bed: Bed, from: Host, to: Host): string {
  const { file, args } = bed.command(from, [process.execPath, '-e', CLIENT, bed.address(to)]);
  return spawnSync(file, args, { encoding: 'utf8' }).stdout.trim();
}

const why = netnsUnavailable();

test('a cut drops the named links only; healing restores them; destroy removes the bed', { skip: why === undefined ? false : `NO NETWORK NAMESPACES (${why}): the bed is on loopback, link faults untested` }, async () => {
  const bed = createBed([1, 2, 3]);
  const servers: ChildProcess[] = [];
  try {
    assert.equal(bed.mode, 'netns');
    servers.push(await serve(bed, 1), await serve(bed, 2));
    assert.equal(reach(bed, 'client', 1), 'ok');
    assert.equal(reach(bed, 3, 2), 'ok');
    bed.cut([['client', 1], [3, 2]]);
    assert.equal(reach(bed, 'client', 1), 'timeout', 'client cut from replica 1');
    assert.equal(reach(bed, 3, 2), 'timeout', 'replica 3 cut from replica 2');
    assert.equal(reach(bed, 'client', 2), 'ok', 'client still reaches replica 2');
    assert.equal(reach(bed, 3, 1), 'ok', 'replica 3 still reaches replica 1');
    bed.cut([]);
    assert.equal(reach(bed, 'client', 1), 'ok', 'healed');
    assert.equal(reach(bed, 3, 2), 'ok', 'healed');
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    bed.destroy();
  }
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['link'], { encoding: 'utf8' }).stdout;
  for (const r of bed.resources) assert.ok(!left.includes(r), `${r} was removed`);
  bed.destroy(); // twice is fine
});

test('the loopback fallback says so and refuses link faults', () => {
  const bed = createBed([1, 2, 3], { forceLoopback: true });
  assert.equal(bed.mode, 'loopback');
  assert.match(bed.fallbackReason ?? '', /loopback/);
  assert.equal(bed.address(1), '127.0.0.1');
  assert.throws(() => bed.cut([[1, 2]]), /link faults need network namespaces/);
  bed.cut([]); // healing nothing is fine
  bed.destroy();
});
