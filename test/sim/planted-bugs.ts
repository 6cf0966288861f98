/**
 * Planted bugs: small mutations of the compiled core (and of the simulator's
 * replica shell) that the simulator's checker must catch. Each is applied to
 * a temporary copy of dist/src, never to the source tree; then seeds run
 * against the mutated copy (planted-bugs-cli.ts, planted-bugs.test.ts).
 *
 * A mutation's `find` must occur exactly once in its file: `plantedCopy`
 * throws otherwise, so a refactoring that moves the line makes the table fail
 * loudly instead of testing nothing.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViolationKind } from '../../src/sim/checker.js';

export interface PlantedBug {
  readonly name: string;
  /** What the mutation breaks, in a few words. */
  readonly what: string;
  /** Under dist/src. */
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /**
   * Further replacements in the same file, each also found exactly once: an
   * assertion of the core that states the same rule is taken out with it, so
   * that the simulator's checker, not the core's own assertion, must see it.
   */
  readonly also?: readonly { readonly find: string; readonly replace: string }[];
  /** Seeds of 200 that caught it when issue 20 was filed (the first ten), for the docs' table. */
  readonly before?: number;
  /**
   * The checks that must catch it: a seed counts as caught only if one of its
   * violations is of these kinds (a liveness timeout or a core assertion that
   * a mutation happens to cause is not the checker seeing the broken rule).
   */
  readonly expect: readonly ViolationKind[];
}

/** A wrong value chosen, or told to a client or a learner, or written over one counted. */
const SAFETY: readonly ViolationKind[] = ['agreement', 'durability', 'proposal', 'ack-order', 'read-consistency', 'validity'];

export const PLANTED_BUGS: readonly PlantedBug[] = [
  {
    name: 'ack-after-one-acceptance',
    expect: ['durability', 'ack-order', 'agreement'],
    what: 'a writer acknowledges a batch after one acceptance',
    file: 'core/writer-changes.js',
    find: 'if (batch.tally.won)',
    replace: 'if (batch.tally.acceptCount >= 1)',
    before: 102,
  },
  {
    name: 'results-out-of-order',
    expect: ['ack-order'],
    what: 'a writer resolves any chosen batch, not only the first in flight',
    file: 'core/writer-appends.js',
    find: 'while (role.inflight.length > 0 && role.inflight[0].chosen) {\n            const b = role.inflight.shift();',
    replace: 'while (role.inflight.some((x) => x.chosen)) {\n            const b = role.inflight.splice(role.inflight.findIndex((x) => x.chosen), 1)[0];',
    before: 11,
  },
  {
    name: 'read-stops-at-pending',
    expect: ['read-consistency'],
    what: 'a reader stops at the first position held but not learned',
    file: 'core/reader.js',
    find: "return seen ? { kind: 'pending' } : { kind: 'unknown' };",
    replace: "return { kind: 'unknown' };",
    before: 66,
  },
  {
    name: 'read-returns-unlearned',
    expect: ['read-consistency', 'agreement'],
    what: 'a reader returns an accepted, unlearned value as chosen',
    file: 'core/reader.js',
    find: 'if (s.learned)\n                return { kind: \'chosen\', action: s.action };',
    replace: 'if (s.learned || s.accepted > 0)\n                return { kind: \'chosen\', action: s.action };',
    before: 39,
  },
  {
    name: 'read-minimum-end',
    expect: ['read-consistency'],
    what: 'a reader bounds its scan by the lowest end heard',
    file: 'core/reader.js',
    find: 'op.endBound ??= Math.max(...replies.map((r) => r.end));',
    replace: 'op.endBound ??= Math.min(...replies.map((r) => r.end));',
    before: 63,
  },
  {
    name: 'election-end-from-one-reply',
    expect: ['proposal', 'agreement', 'durability'],
    what: "an election takes E (the highest position held) from one promise reply",
    file: 'core/writer-election.js',
    find: 'const end = Math.max(learnedThrough, ...replies.flatMap((r) => r.slots.map((s) => s.position)));',
    replace: 'const end = Math.max(learnedThrough, ...replies[0].slots.map((s) => s.position));',
    before: 67,
  },
  {
    name: 'ignored-counts-as-accept',
    expect: SAFETY,
    what: 'a quorum tally counts an IGNORED answer as an acceptance',
    file: 'core/quorum.js',
    find: "if (outcome === 'accept')",
    replace: "if (outcome !== 'reject')",
    before: 6,
  },
  {
    name: 'commit-covers-next-batch',
    expect: ['agreement', 'durability'],
    what: "a writer's commit reaches over the next batch in flight",
    file: 'core/writer-appends.js',
    find: "const commit = { type: 'commit', proposal: role.proposal, from: commitFrom, to: commitTo };",
    replace: "const commit = { type: 'commit', proposal: role.proposal, from: commitFrom, to: commitTo + (role.inflight[0]?.actions.length ?? 0) };",
    before: 14,
  },
  {
    name: 'commit-learns-any-proposal',
    expect: ['agreement', 'durability'],
    what: 'a commit marks learned a value accepted under any proposal',
    file: 'core/position-index.js',
    find: 'if ((f & LEARNED) !== 0 || accepted === 0 || accepted !== record.proposal)',
    replace: 'if ((f & LEARNED) !== 0 || accepted === 0)',
    before: 2,
  },
  {
    name: 'reply-before-sync',
    expect: ['reply-before-sync'],
    what: "the simulator's replica shell sends replies before their records are durable",
    file: 'sim/replica-node.js',
    find: 'this.queue.release(this.disk.durable)',
    replace: 'this.queue.release(this.disk.appended)',
    before: 1,
  },
  {
    name: 'repropose-lowest-accepted',
    expect: ['proposal', 'agreement', 'durability'],
    what: 'an election re-proposes the lowest accepted value, not the highest',
    file: 'core/writer-election.js',
    find: 'if (cur === undefined || rank(s) > rank(cur))',
    replace: 'if (cur === undefined || rank(s) < rank(cur))',
  },
  {
    name: 'fill-lowest-accepted',
    expect: ['proposal', 'agreement', 'durability'],
    what: 'a fill writes the lowest accepted value, not the highest',
    file: 'core/fill.js',
    find: 'if (cur === undefined || rank(s) > rank(cur))',
    replace: 'if (cur === undefined || rank(s) < rank(cur))',
  },
  {
    name: 'promise-not-strict',
    expect: ['agreement', 'proposal', 'durability'],
    what: 'a replica grants an implicit promise equal to the highest it made',
    file: 'core/replica.js',
    find: 'rules.strictPromise ? req.proposal <= highest && bindingAtLeast(store, req.proposal) : req.proposal < meta.promised',
    replace: 'rules.strictPromise ? req.proposal < highest && bindingAtLeast(store, req.proposal + 1) : req.proposal < meta.promised',
  },
  {
    name: 'accept-below-promise',
    expect: ['proposal', 'agreement', 'durability'],
    what: 'a replica accepts a write below the promise in force',
    file: 'core/replica.js',
    find: 'if (rules.honourPromise && req.proposal < inForce) {',
    replace: 'if (rules.honourPromise && req.proposal < 0) {',
    also: [{ find: 'assert(!rules.honourPromise || r.proposal >= promiseAt(store, r.position)', replace: 'assert(true' }],
  },
];

/** The project's dist/ (this file is dist/test/sim/planted-bugs.js). */
export const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** How often `find` occurs in `text`. */
export function occurrences(text: string, find: string): number {
  let n = 0;
  for (let i = text.indexOf(find); i >= 0; i = text.indexOf(find, i + 1)) n++;
  return n;
}

/** Throws unless the mutation's `find` (and each of `also`) occurs exactly once in its file of `dist`; returns the file mutated. */
export function checkFind(bug: PlantedBug, dist = DIST): string {
  const path = join(dist, 'src', bug.file);
  if (!existsSync(path)) throw new Error(`planted bug ${bug.name}: ${path} does not exist (run npm run build)`);
  let out = readFileSync(path, 'utf8');
  for (const m of [{ find: bug.find, replace: bug.replace }, ...(bug.also ?? [])]) {
    const n = occurrences(out, m.find);
    if (n !== 1) throw new Error(`planted bug ${bug.name}: its find string occurs ${n} times in dist/src/${bug.file}, not once: ${JSON.stringify(m.find)}`);
    out = out.replace(m.find, () => m.replace);
  }
  return out;
}

/**
 * A temporary copy of dist/src with the mutation applied (undefined: none),
 * runnable as ES modules. Returns the copy's root and a function removing it.
 */
export function plantedCopy(bug: PlantedBug | undefined, dist = DIST): { root: string; simulation: string; remove: () => void } {
  const text = bug === undefined ? undefined : checkFind(bug, dist);
  const root = mkdtempSync(join(tmpdir(), `replog-planted-${bug?.name ?? 'none'}-`));
  cpSync(join(dist, 'src'), join(root, 'dist', 'src'), { recursive: true, filter: (p) => !p.endsWith('.map') && !p.endsWith('.d.ts') });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  const modules = resolve(dist, '..', 'node_modules');
  if (existsSync(modules)) symlinkSync(modules, join(root, 'node_modules'), 'dir');
  if (bug !== undefined) writeFileSync(join(root, 'dist', 'src', bug.file), text!);
  return { root, simulation: join(root, 'dist', 'src', 'sim', 'simulation.js'), remove: () => rmSync(root, { recursive: true, force: true }) };
}
