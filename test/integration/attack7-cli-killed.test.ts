// attack7: `replog member add` killed with SIGKILL mid-way (after its writer is elected, around the
// config entry's write, before or after the install), at a range of delays.
//
// Sequence (real processes, three voters): for delay d in 0.4 s .. 2.2 s: spawn `replog member add N
// ADDR` (N new each time, a learner that never runs), SIGKILL it after d; then `replog append` must
// be acknowledged, every replica must come to the same configuration epoch, and the next change must
// succeed. Rule checked: a change is one log entry (R1): whatever the CLI did before it died, the log
// goes on and the next writer fills or supersedes the entry (R5's fill rule, R4's install by copies).
// Finding if it fails: the cluster stuck after a killed CLI (liveness).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, runCli, spawnCli, waitFor, freePorts, type CliResult } from './helpers.js';

const cluster = await TestCluster.create(3, [1, 2, 3], { admin: true });
after(() => cluster.stop());
const addr = (id: number) => cluster.replica(id).address;
const cli = (args: string[]): Promise<CliResult> =>
  Promise.race([runCli([...args, '--log', [1, 2, 3].map(addr).join(',')]), new Promise<CliResult>((res) => setTimeout(() => res({ code: null, stdout: '', stderr: 'gave up after 40 s' }), 40_000).unref())]);

async function epochOf(id: number): Promise<number | undefined> {
  try {
    const s = (await (await fetch(`http://${cluster.replica(id).adminAddress!}/status`)).json()) as { config?: { epoch: number } };
    return s.config?.epoch;
  } catch {
    return undefined;
  }
}

test('a member change whose CLI is killed at any point leaves the cluster available and in one configuration', async () => {
  await cluster.startAll();
  const spare = await freePorts(12);
  let next = 4;
  for (let d = 400; d <= 2200; d += 200) {
    const id = next++;
    const p = spawnCli(['member', 'add', String(id), `127.0.0.1:${spare[id - 4]}`, '--log', [1, 2, 3].map(addr).join(',')]);
    await new Promise((r) => setTimeout(r, d));
    await p.kill();
    const a = await cli(['append', `after-${d}`]);
    assert.equal(a.code, 0, `append after the CLI was killed at ${d} ms: exit ${a.code} ${a.stderr}`);
    await waitFor(`every replica in one configuration after the kill at ${d} ms`, async () => {
      const es = await Promise.all([1, 2, 3].map(epochOf));
      return es.every((e) => e !== undefined && e === es[0]);
    }, 60_000);
  }
  const last = await cli(['member', 'add', String(next), `127.0.0.1:${spare[next - 4]}`]);
  assert.equal(last.code, 0, `a change after the killed ones: ${last.stderr}`);
  const show = await cli(['config', 'show', '--json']);
  assert.equal(show.code, 0, show.stderr);
  const c = JSON.parse(show.stdout) as { voters: { id: number }[]; learners: { id: number }[] };
  assert.deepEqual(c.voters.map((m) => m.id), [1, 2, 3]);
  assert.ok(c.learners.some((m) => m.id === next), `learner ${next} added: ${show.stdout}`);
});
