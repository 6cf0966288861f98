// The acceptor's delta checker (src/core/invariants.ts) runs around every step of every simulated
// replica (src/sim/replica-node.ts), not only in the core tests: a replica core planted with a rule
// the other checks would see late or never (its promise or a member's recorded disk going back) fails
// the simulation at the step that broke it, as a core assertion naming the rule. So do the assertions
// that stay on in production at the acceptor's, the recovery's and the node's decision points
// (replica.ts assertStepSound, recovery.ts become, replica-node.ts acceptorStep), each shown by a bug
// it stops. The planted copy of
// dist/src is the planted-bugs machinery's (planted-bugs.ts); these two are not in its table because
// they are caught by an assertion, not by one of the checker's violation kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PlantedBug } from './planted-bugs.js';
import { runPlantedSeeds } from './planted-bugs-run.js';

// Every one of seeds 1..12 caught each when written; three keep the test short and not tied to one seed.
const SEEDS = [1, 2, 3];

const planted: readonly (PlantedBug & { readonly message: RegExp })[] = [
  {
    name: 'promise-goes-back',
    what: "an implicit promise records one below the replica's promise in force",
    file: 'core/replica.js',
    find: 'metadata: { ...meta, promised: req.proposal, promisedBy: req.nonce ?? 0 }',
    replace: 'metadata: { ...meta, promised: meta.promised > 0 ? meta.promised - 1 : req.proposal, promisedBy: req.nonce ?? 0 }',
    // The acceptor asserts this rule on its own output too (below): taken out here, the delta checker must see it.
    also: [{ find: 'assert(m.promised >= meta.promised', replace: 'assert(true' }],
    expect: ['assertion'],
    message: /promise went back/,
  },
  {
    name: 'promise-goes-back-asserted',
    what: "an implicit promise records one below the replica's promise in force (the acceptor asserts it stays on)",
    file: 'core/replica.js',
    find: 'metadata: { ...meta, promised: req.proposal, promisedBy: req.nonce ?? 0 }',
    replace: 'metadata: { ...meta, promised: meta.promised > 0 ? meta.promised - 1 : req.proposal, promisedBy: req.nonce ?? 0 }',
    expect: ['assertion'],
    message: /the acceptor lowered its promise from \d+ to \d+/,
  },
  {
    name: 'recorded-disk-forgotten',
    what: "a rejoin's record of a member's new disk forgets the disks recorded for the other members",
    file: 'core/replica.js',
    find: 'recorded: { ...meta.recorded, [req.member]: next }',
    replace: 'recorded: { [req.member]: next }',
    expect: ['assertion'],
    message: /disk recorded for member \d+ went back from generation \d+ to none/,
  },
  {
    // The planted bug of the checker's table (planted-bugs.ts), with the acceptor's own assertion left in:
    // it stops the replica at the step, before any value is chosen over it.
    name: 'accept-below-promise-asserted',
    what: 'a replica accepts a write below the promise in force (the acceptor asserts it stays on)',
    file: 'core/replica.js',
    find: 'if (rules.honourPromise && req.proposal < inForce) {',
    replace: 'if (rules.honourPromise && req.proposal < 0) {',
    expect: ['assertion'],
    message: /accepted \d+ at \d+ below the promise in force \d+/,
  },
  {
    name: 'rejoin-keeps-generation',
    what: 'a rejoining disk takes the generation recorded for it instead of a newer one (the recovery asserts it)',
    file: 'core/recovery.js',
    find: 'const generation = recorded + 1;',
    replace: 'const generation = recorded;',
    expect: ['assertion'],
    message: /a new disk's generation \d+ is not above \d+/,
  },
  {
    name: 'restart-check-votes',
    what: 'a replica in its restart check answers from its real store (the node asserts it holds its votes)',
    file: 'core/replica-node.js',
    find: 'const store = this.holdsVotes ? new HeldStore(this.config.store) : this.config.store;',
    replace: 'const store = this.config.store;',
    expect: ['assertion'],
    message: /a replica in its restart check voted on a (promise|write)/,
  },
];

for (const bug of planted) {
  test(`the simulator stops at the step of a planted bug: ${bug.what}`, { timeout: 300_000 }, async () => {
    const r = await runPlantedSeeds(bug, SEEDS);
    assert.ok(r.caught > 0, `no seed of ${SEEDS.join(',')} caught ${bug.name}: first message ${r.firstMessage ?? 'none'}`);
    assert.match(r.firstMessage ?? '', bug.message);
  });
}
