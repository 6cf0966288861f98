// attack7: two processes join as one member id, one of them at an address the configuration does not
// list (an operator's typo in --listen, or a copy of a unit file with the id left unchanged).
//
// Sequence (real processes): voters 1,2,3; `member add 4 A4`; a replica with --id 4 --listen B (B != A4)
// --join A1 starts: join.ts checks only that id 4 is in the configuration, not the address, so it
// starts EMPTY and rejoins as a new disk of member 4 (recorded by a quorum). Then the real replica 4
// starts at A4 with --join A1, and `member promote 4` runs, and appends go on.
// Rule checked: R9e, a joiner is a new disk *of its member*: the member at A4. A disk at B is not that
// member (peers and writers reach 4 at A4 only), yet it can take the member's newest generation and
// retire the real disk's (and back, as each rejoins). Expected: the process at B refuses to start
// ("member 4 is at A4 in the configuration, not at B") or never becomes member 4's disk; the promote
// and the appends succeed.
// Observed: the process at B becomes VOTING as member 4, generation 1, recorded by a quorum, and
// catches up the log (it serves reads of it); the real replica then rejoins with a newer generation,
// and promote and appends succeed (nobody sends B writes). Usability/hardening, not a lost write.
// Suggested fix: join.ts waitUntilAdded compares the configuration's address of the id with --listen
// (port, and host unless --listen is a wildcard) and refuses a mismatch in one line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, TestCluster, freePorts, runCli, waitFor, type CliResult } from './helpers.js';

const cluster = await TestCluster.create(4, [1, 2, 3, 4], { admin: true });
const [impPort, impAdmin] = await freePorts(2);
let impostor: ReturnType<typeof spawn> | undefined;
let impErr = '';
after(async () => {
  impostor?.kill('SIGKILL');
  await cluster.stop();
});
const addr = (id: number) => cluster.replica(id).address;
const cli = (args: string[], log: number[]): Promise<CliResult> =>
  Promise.race([runCli([...args, '--log', log.map(addr).join(',')]), new Promise<CliResult>((res) => setTimeout(() => res({ code: null, stdout: '', stderr: 'gave up after 60 s' }), 60_000).unref())]);
async function impStatus(): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${impAdmin}/status`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

test('a second process joining as member 4 at an address the configuration does not list never becomes its disk', async () => {
  const founders = ['--members', [1, 2, 3].map((id) => `${id}=${addr(id)}`).join(',')];
  for (const id of [1, 2, 3]) cluster.startWith(id, founders);
  await cluster.waitStatus([1, 2, 3], 'VOTING', 60_000);
  assert.equal((await cli(['member', 'add', '4', addr(4)], [1, 2, 3])).code, 0);
  impostor = spawn(process.execPath, [BIN, 'replica', '--id', '4', '--dir', join(cluster.root, 'imp'), '--listen', `127.0.0.1:${impPort}`, '--admin', `127.0.0.1:${impAdmin}`, '--join', addr(1)], { stdio: ['ignore', 'ignore', 'pipe'] });
  impostor.stderr!.on('data', (d: Buffer) => (impErr += d.toString()));
  let impExited = false;
  impostor.on('exit', () => (impExited = true));
  await waitFor('the impostor exits or becomes VOTING', async () => impExited || (await impStatus())?.['status'] === 'VOTING', 60_000);
  const impostorVoting = !impExited;
  cluster.startWith(4, ['--join', addr(1)]);
  const promote = await cli(['member', 'promote', '4', '--wait', '40'], [1, 2, 3]);
  // The promotion is chosen once a quorum holds it and installed a moment later: an append right after may
  // elect in the configuration before and meet the newer one; its writer starts again there (R12).
  const append = await cli(['append', 'z'], [1, 2, 3, 4]);
  assert.deepEqual(
    { impostorVoting, promote: promote.code, append: append.code },
    { impostorVoting: false, promote: 0, append: 0 },
    `impostor stderr tail: ${impErr.slice(-1500)}\npromote: ${promote.stderr}\nappend: ${append.stderr}`,
  );
});
