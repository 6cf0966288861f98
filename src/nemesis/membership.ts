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

/** The voters and learners the log holds now, or undefined if no replica answered in time. */
async function configuration(replicas: Replicas): Promise<{ voters: Set<number>; learners: Set<number> } | undefined> {
  let log: LogClient | undefined;
  try {
    log = await LogClient.connect(replicas.addresses, { connectTimeoutMs: 5000 });
    const c = await log.configuration({ timeoutMs: 10_000 });
    return { voters: new Set(c.voters.map((m) => m.id)), learners: new Set(c.learners.map((m) => m.id)) };
  } catch {
    return undefined;
  } finally {
    await log?.close();
  }
}

/** Applies a `replace` fault to `slot`; returns what happened, in one line for the summary. */
export async function replaceMember(replicas: Replicas, slot: number, env: NodeJS.ProcessEnv): Promise<string> {
  const old = replicas.member(slot);
  const seeds = replicas.addresses.join(',');
  const rm = await cli(['member', 'remove', String(old), '--log', seeds], env, 60_000);
  // The log decides, not the exit code: a remove that timed out may still have been chosen.
  const after = await configuration(replicas);
  if (after === undefined || after.voters.has(old) || after.learners.has(old)) {
    return `member ${old} not removed (exit ${rm.code}: ${lastLine(rm.stderr)})`;
  }
  const next = replicas.nextMember();
  await replicas.stop(slot, 'SIGKILL');
  replicas.wipe(slot);
  replicas.assign(slot, next);
  replicas.start(slot);
  const add = await cli(['member', 'add', String(next), replicas.address(slot), '--voter', '--log', seeds], env, 90_000);
  return add.code === 0
    ? `member ${old} removed; member ${next} added at its address, caught up and promoted`
    : `member ${old} removed; member ${next} at its address not yet a voter (exit ${add.code}: ${lastLine(add.stderr)}), settled later`;
}

/**
 * Once every fault is healed: each slot's member a voter again (an add or a
 * promotion a fault interrupted is made now). Returns what it did, or why it
 * could not (a liveness note).
 */
export async function settle(replicas: Replicas, env: NodeJS.ProcessEnv, deadlineMs: number): Promise<string[]> {
  const done: string[] = [];
  const seeds = replicas.addresses.join(',');
  const until = Date.now() + deadlineMs;
  for (const slot of replicas.ids) {
    const member = replicas.member(slot);
    for (;;) {
      const c = await configuration(replicas);
      if (c?.voters.has(member)) break;
      if (Date.now() > until) {
        done.push(`LIVENESS: member ${member} (slot ${slot}) is not a voter after the faults were healed`);
        break;
      }
      const args = c?.learners.has(member) ? ['member', 'promote', String(member)] : ['member', 'add', String(member), replicas.address(slot), '--voter'];
      const r = await cli([...args, '--log', seeds], env, 60_000);
      done.push(`settled member ${member}: ${args.slice(0, 2).join(' ')} exit ${r.code}${r.code === 0 ? '' : ` (${lastLine(r.stderr)})`}`);
    }
  }
  return done;
}
