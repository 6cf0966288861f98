/**
 * The `replace` fault: a membership change made the way an operator makes it,
 * with the CLI, while the workload runs and the other faults go on. The member
 * of a slot is removed (`replog member remove`), its process stopped and its
 * disk wiped, and a new member (a fresh id: ids are never reused) is started at
 * the same address with `--join` and added as a voter (`replog member add
 * --voter`: a learner that catches up, then is promoted). The address stays
 * the slot's, so the workload's address list stays a valid set of seeds.
 *
 * A step the faults make fail is not a finding (a change may be refused, or
 * time out, while a partition holds); what the log holds decides what happens
 * next, and `settle` finishes an interrupted change once the faults are
 * healed, so the run ends with every slot a voter. The checker judges the
 * history as for any other fault: nothing acknowledged may be lost across it.
 */
import { spawn } from 'node:child_process';
import { LogClient } from '../client/index.js';
import { REPLOG_BIN, type Replicas } from './replicas.js';

/** A CLI command from the root namespace (never cut), ended after `timeoutMs`. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [REPLOG_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 124 : 1), stderr });
    });
  });
}

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

/** The highest configuration epoch read so far, per cluster: configurations only move forward. */
const epochSeen = new WeakMap<Replicas, number>();

/**
 * The voters and learners the log holds now, or undefined if no replica answered in time, or if the
 * answer is older than one read before: a wiped replica answers with its flags' configuration (epoch 0)
 * until it rejoins, and the others may be restarting. Seed 504 took such an answer for the log's, found
 * slot 1's voter missing from it, "replaced" it (its disk wiped) while another voter's disk was lost,
 * and two of the three voters' disks were gone.
 */
async function configuration(replicas: Replicas): Promise<{ voters: Set<number>; learners: Set<number> } | undefined> {
  let log: LogClient | undefined;
  try {
    log = await LogClient.connect(replicas.addresses, { connectTimeoutMs: 5000 });
    const c = await log.configuration({ timeoutMs: 10_000 });
    if (c.epoch < (epochSeen.get(replicas) ?? 0)) return undefined;
    epochSeen.set(replicas, c.epoch);
    return { voters: new Set(c.voters.map((m) => m.id)), learners: new Set(c.learners.map((m) => m.id)) };
  } catch {
    return undefined;
  } finally {
    await log?.close();
  }
}

/** Slot `slot`'s member removed (its disk wiped), a new member started there; returns its id. */
async function newMemberAt(replicas: Replicas, slot: number): Promise<number> {
  const next = replicas.nextMember();
  await replicas.stop(slot, 'SIGKILL');
  replicas.wipe(slot);
  replicas.assign(slot, next);
  replicas.start(slot);
  return next;
}

/** `member add ID ADDR --voter` for slot `slot`'s member (a learner that catches up, then is promoted). */
function addVoter(replicas: Replicas, slot: number, env: NodeJS.ProcessEnv) {
  return cli(['member', 'add', String(replicas.member(slot)), replicas.address(slot), '--voter', '--log', replicas.addresses.join(',')], env, 90_000);
}

/** Applies a `replace` fault to `slot`; returns what happened, in one line for the summary. */
export async function replaceMember(replicas: Replicas, slot: number, env: NodeJS.ProcessEnv): Promise<string> {
  const old = replicas.member(slot);
  const rm = await cli(['member', 'remove', String(old), '--log', replicas.addresses.join(',')], env, 60_000);
  // The log decides, not the exit code: a remove that timed out may still have been chosen (or be
  // finished by a later writer: settle() finds that).
  const after = await configuration(replicas);
  if (after === undefined || after.voters.has(old) || after.learners.has(old)) {
    return `member ${old} not removed (exit ${rm.code}: ${lastLine(rm.stderr)})`;
  }
  const next = await newMemberAt(replicas, slot);
  const add = await addVoter(replicas, slot, env);
  if (add.code === 0) {
    replicas.added(slot);
    await configuration(replicas); // its epoch: an older answer later is stale, not a removal
  }
  return add.code === 0
    ? `member ${old} removed; member ${next} added at its address, caught up and promoted`
    : `member ${old} removed; member ${next} at its address not yet a voter (exit ${add.code}: ${lastLine(add.stderr)}), settled later`;
}

/**
 * Once every fault is healed: each slot's member a voter again. An add or a
 * promotion a fault interrupted is made now; a member whose removal a later
 * writer finished (its change's outcome was unknown) is replaced as the
 * fault meant. Returns what it did, and a liveness note for a slot it could
 * not settle in time.
 */
export async function settle(replicas: Replicas, env: NodeJS.ProcessEnv, deadlineMs: number): Promise<string[]> {
  const done: string[] = [];
  const until = Date.now() + deadlineMs;
  for (const slot of replicas.ids) {
    let last = '';
    for (;;) {
      const member = replicas.member(slot);
      const c = await configuration(replicas);
      if (c?.voters.has(member)) {
        replicas.added(slot);
        break;
      }
      if (Date.now() > until) {
        done.push(`LIVENESS: member ${member} (slot ${slot}) is not a voter after the faults were healed${last === '' ? '' : ` (last: ${last})`}`);
        break;
      }
      let step: string;
      if (c === undefined) step = 'no configuration read';
      else if (c.learners.has(member)) step = `promote ${member}: exit ${(await cli(['member', 'promote', String(member), '--log', replicas.addresses.join(',')], env, 60_000)).code}`;
      else if (replicas.awaitingAdd(slot)) step = `add ${member}: exit ${(await addVoter(replicas, slot, env)).code}`;
      else step = `member ${member} was removed by a change finished later; member ${await newMemberAt(replicas, slot)} started in its place`;
      if (step !== last) done.push(`settle slot ${slot}: ${step}`);
      last = step;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return done;
}
