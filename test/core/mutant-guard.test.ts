// The mutant guard: a fixed sample of decision-point mutants, each planted by hand in a copy of the
// compiled core and run against the core tests that state its rule; every one must make them fail.
// It keeps the decision points' mutation score from rotting silently in CI in under a minute (a
// Stryker run of a sample takes a quarter of an hour; `npm run mutate:sample` is that, on demand).
//
// Each mutant replaces a fragment of dist/src/core/*.js that must occur exactly once (a space in a
// fragment matches any run of white space, so tsc's line breaks do not matter). When the source
// changes so that a fragment no longer matches, this test fails and names it: update the fragment to
// the new code (and keep the mutant's meaning), never drop it silently. docs/testing.md lists them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Mutant {
  /** What the mutant breaks, as the rule it violates. */
  readonly rule: string;
  /** The compiled file under dist/src/core. */
  readonly file: string;
  /** A fragment of that file, found exactly once, and what replaces it. */
  readonly from: string;
  readonly to: string;
  /** Test files under dist/test/core (without .test.js) of which at least one must fail. */
  readonly tests: readonly string[];
}

const MUTANTS: readonly Mutant[] = [
  // replica.ts: the explicit promise (a fill's phase 1).
  { rule: 'an explicit promise needs a proposal strictly above the promise in force', file: 'replica.js',
    from: 'const refused = rules.strictPromise ? req.proposal <= inForce', to: 'const refused = rules.strictPromise ? req.proposal < inForce', tests: ['explicit-promise'] },
  { rule: 'a refused explicit promise is rejected, not granted', file: 'replica.js',
    from: 'if (refused) highest = Math.max(highest, inForce);', to: 'if (false) highest = Math.max(highest, inForce);', tests: ['explicit-promise'] },
  { rule: 'the reject names the highest promise that blocked', file: 'replica.js',
    from: 'highest = Math.max(highest, inForce); else', to: 'highest = Math.min(highest, inForce); else', tests: ['explicit-promise'] },
  { rule: 'a learned position neither blocks an explicit promise nor is promised again', file: 'replica.js',
    from: 'if (s?.learned) continue; const inForce', to: 'if (false) continue; const inForce', tests: ['explicit-promise'] },
  // replica.ts: the implicit promise speaks for the positions above the learned prefix.
  { rule: 'a lost record inside the learned prefix does not stop an implicit promise', file: 'replica.js',
    from: 'mayVote(store, store.learnedThrough() + 1, Number.MAX_SAFE_INTEGER', to: 'mayVote(store, store.learnedThrough() - 1, Number.MAX_SAFE_INTEGER', tests: ['promise-prefix'] },
  { rule: 'an implicit promise reports the values above the learned prefix only', file: 'replica.js',
    from: 'collectSlots(store, store.learnedThrough() + 1, store.end()', to: 'collectSlots(store, store.learnedThrough() - 1, store.end()', tests: ['promise-prefix'] },
  // replica.ts: commit and learned messages (resent freely: a record only when it teaches something).
  { rule: 'proposal 0 names no proposer: its commit writes nothing', file: 'replica.js',
    from: 'if (msg.proposal < 1) return NOTHING;', to: 'if (false) return NOTHING;', tests: ['commit-bounds'] },
  { rule: 'a commit writes a record only if a position holds its proposal\'s value unlearned', file: 'replica.js',
    from: 'if (s !== undefined && !s.learned && s.accepted === msg.proposal) {', to: 'if (true) {', tests: ['commit-bounds'] },
  { rule: 'a commit teaches only the values accepted under its proposal', file: 'replica.js',
    from: 'if (s !== undefined && !s.learned && s.accepted === msg.proposal) {', to: 'if (s !== undefined && !s.learned && true) {', tests: ['commit-bounds'] },
  { rule: 'a commit learns within its range only', file: 'replica.js',
    from: 'let to = Math.min(msg.to, store.end());', to: 'let to = Math.max(msg.to, store.end());', tests: ['commit-bounds'] },
  { rule: 'a learned entry below begin writes nothing', file: 'replica.js',
    from: 'if (e.position < begin ||', to: 'if (false ||', tests: ['commit-bounds'] },
  { rule: 'a learned position held intact is not written again', file: 'replica.js',
    from: "if (store.slot(e.position)?.learned && store.action(e.position) !== 'lost') continue;", to: 'if (false) continue;', tests: ['commit-bounds'] },
  { rule: 'a learned entry is taken up to the far end inclusive', file: 'replica.js',
    from: 'e.position > far ||', to: 'e.position >= far ||', tests: ['commit-bounds'] },
  // replica.ts: a rule switched off removes exactly that rule (test/sim/rule-switch.test.ts relies on it).
  { rule: 'strictPromise off grants an equal implicit promise', file: 'replica.js',
    from: ': req.proposal < meta.promised', to: ': req.proposal <= meta.promised', tests: ['rule-switches'] },
  { rule: 'strictPromise off still refuses a lower implicit promise', file: 'replica.js',
    from: ': req.proposal < meta.promised', to: ': req.proposal >= meta.promised', tests: ['rule-switches'] },
  { rule: 'strictPromise off grants an equal explicit promise', file: 'replica.js',
    from: ': req.proposal < inForce;', to: ': req.proposal <= inForce;', tests: ['rule-switches'] },
  { rule: 'strictPromise off still refuses a lower explicit promise', file: 'replica.js',
    from: ': req.proposal < inForce;', to: ': false;', tests: ['rule-switches'] },
  // replica.ts: the acceptor's other decision points (stated by replica.test.ts and the rejoin tests).
  { rule: 'an implicit promise needs a proposal strictly above every promise made here', file: 'replica.js',
    from: '? req.proposal <= highest && bindingAtLeast(store, req.proposal) :', to: '? req.proposal < highest && bindingAtLeast(store, req.proposal + 1) :', tests: ['replica'] },
  { rule: 'an accepted or promised position above the learned prefix binds an implicit promise', file: 'replica.js',
    from: 's !== undefined && Math.max(s.promised, s.accepted) >= proposal', to: 's !== undefined && false', tests: ['counted-again'] },
  { rule: 'a learned position above a gap still binds an implicit promise (a fill may hold its number elsewhere)', file: 'replica.js',
    from: 's !== undefined && Math.max(s.promised, s.accepted) >= proposal', to: 's !== undefined && !s.learned && Math.max(s.promised, s.accepted) >= proposal', tests: ['attack-learned-binding'] },
  { rule: 'a write below the promise in force is refused', file: 'replica.js',
    from: 'rules.honourPromise && req.proposal < inForce', to: 'rules.honourPromise && false', tests: ['replica'] },
  { rule: 'a learned position refuses a write of another value', file: 'replica.js',
    from: "stored === undefined || !actionsEqual(stored, action))", to: 'stored === undefined || false)', tests: ['replica'] },
  { rule: 'a replica that is not VOTING ignores promises and writes', file: 'replica.js',
    from: "if (store.metadata().status !== 'VOTING') return", to: "if (store.metadata().status === 'VOTING') return", tests: ['replica'] },
  { rule: 'a write naming a retired disk is refused as stale', file: 'replica.js',
    from: 'if (retired.length > 0 && rules.refuseRetired)', to: 'if (false)', tests: ['rejoin', 'replica'] },
  // replica.ts, configurations (docs/reconfiguration.md, R6).
  { rule: 'a replica that learned a newer configuration answers stale-config above its entry', file: 'replica.js',
    from: 'c < 0 && to > mine.position && rules.staleConfig', to: 'false', tests: ['config-rules'] },
  { rule: 'a replica does not vote for a ballot of a configuration it has not learned', file: 'replica.js',
    from: 'c > 0 && rules.unknownConfig', to: 'false', tests: ['config-rules'] },
  { rule: 'R14: a commit stops below a TRUNCATE past a config entry out of the chain', file: 'replica.js',
    from: 'if (!truncationCovered(store.begin(), chain, t.to, head', to: 'if (false && !truncationCovered(store.begin(), chain, t.to, head', tests: ['commit-truncation-cut'] },
  { rule: 'a writer stops its ballot when a replica names a newer configuration', file: 'writer-state.js',
    from: 'compareHeads(head, this.configHead) <= 0', to: 'true', tests: ['config-rules'] },
  // writer.ts and fill.ts: a stale-config or unknown-config answer is never a promise or an acceptance
  // (attack3 on reconfig3: the simulator cannot see these, with one configuration no replica gives them).
  { rule: 'an unknown-config answer is no promise to a writer', file: 'writer-election.js',
    from: "role.tally.record(from, msg.outcome === 'unknown-config' ? 'ignored' : msg.outcome); if (msg.outcome === 'accept') {",
    to: "role.tally.record(from, msg.outcome === 'unknown-config' ? 'accept' : msg.outcome); if (msg.outcome === 'accept' || msg.outcome === 'unknown-config') {",
    tests: ['attack-config-answers'] },
  { rule: 'an unknown-config answer is no promise to a fill', file: 'fill.js',
    from: "ph.tally.record(from, msg.outcome === 'accept' || msg.outcome === 'reject' ? msg.outcome : 'ignored');",
    to: "ph.tally.record(from, msg.outcome === 'accept' || msg.outcome === 'unknown-config' ? 'accept' : msg.outcome === 'reject' ? msg.outcome : 'ignored'); if (msg.outcome === 'unknown-config') ph.replies.push({ from, reply: msg });",
    tests: ['attack-config-answers'] },
  { rule: 'a stale-config write answer is no acceptance for a fill', file: 'fill.js',
    from: "const counts = msg.outcome === 'accept' && ph.named.some(",
    to: "const counts = (msg.outcome === 'accept' || msg.outcome === 'stale-config') && ph.named.some(",
    tests: ['attack-config-answers'] },
  { rule: 'a stale-config write answer naming a newer head ends the writer\'s ballot', file: 'writer-appends.js',
    from: "if (msg.outcome === 'stale-config') return this.onStaleConfig(msg.config, out); // Neither a vote nor a refusal",
    to: '// Neither a vote nor a refusal',
    tests: ['attack-config-answers'] },
  // writer.ts and fill.ts: what a proposer settles after phase 1.
  { rule: 'the writer re-proposes the highest accepted value (the reviewer\'s mutation: the lowest)', file: 'writer-election.js',
    from: 'if (cur === undefined || rank(s) > rank(cur))', to: 'if (cur === undefined || rank(s) < rank(cur))', tests: ['highest-accepted'] },
  { rule: 'a fill writes the highest accepted value', file: 'fill.js',
    from: 'if (cur === undefined || rank(s) > rank(cur))', to: 'if (cur === undefined || rank(s) < rank(cur))', tests: ['highest-accepted'] },
  { rule: 'a learned value outranks any accepted one', file: 'fill.js',
    from: 'return s.learned ? Number.MAX_SAFE_INTEGER : s.accepted;', to: 'return s.accepted;', tests: ['highest-accepted'] },
  { rule: 'the writer never re-proposes a slot without a value', file: 'writer-election.js',
    from: 's.position <= learnedThrough || s.action === undefined)', to: 's.position <= learnedThrough || false)', tests: ['settle-range'] },
  { rule: 'a fill never lets a slot without a value outrank a value', file: 'fill.js',
    from: 's.position > to || s.action === undefined)', to: 's.position > to || false)', tests: ['settle-range'] },
  { rule: 'a fill settles only the prefix every phase-1 reply covered', file: 'fill.js',
    from: 'Math.min(this.to, ...replies.map((r) => r.reply.coveredThrough))', to: 'Math.max(this.to, ...replies.map((r) => r.reply.coveredThrough))', tests: ['settle-range'] },
  { rule: 'a fill settles without phase 2 only when every value is learned', file: 'fill.js',
    from: 'if (allLearned)', to: 'if (true)', tests: ['fill-commit'] },
  // fill.ts: which answers count, and R3/R5 (fill-rules, fill-config-rules: issue 11's fill.ts survivors).
  { rule: 'a fill\'s next round goes above the proposal that rejected its promise', file: 'fill.js',
    from: "this.proposal = Math.max(this.proposal, msg.proposal); this.enterBackoff(now); return undefined; } if (msg.outcome === 'accept')",
    to: "this.enterBackoff(now); return undefined; } if (msg.outcome === 'accept')", tests: ['fill-rules'] },
  { rule: 'an IGNORED answer is no sign of life for a patient fill', file: 'fill.js',
    from: "if (msg.outcome !== 'ignored') this.liveness.heard(from, now); const ph = this.phase; if (ph.kind !== 'promising'",
    to: "this.liveness.heard(from, now); const ph = this.phase; if (ph.kind !== 'promising'", tests: ['fill-rules'] },
  { rule: 'a fill counts members\' promises only', file: 'fill.js',
    from: 'msg.rid !== ph.rid || ph.tally.has(from) || !this.members.includes(from))', to: 'msg.rid !== ph.rid || ph.tally.has(from))', tests: ['fill-rules'] },
  { rule: 'a fill does not count a write answer to an earlier round', file: 'fill.js',
    from: "if (ph.kind !== 'writing' || msg.rid !== ph.rid)", to: "if (ph.kind !== 'writing')", tests: ['fill-rules'] },
  { rule: 'a fill counts a write acceptance only from the disk that promised', file: 'fill.js',
    from: 'n.generation === msg.generation && n.disk === msg.disk', to: 'n.generation === msg.generation', tests: ['fill-rules'] },
  { rule: 'a \'stale\' write answer sends a fill back to phase 1', file: 'fill.js',
    from: "if (msg.outcome === 'reject' || msg.outcome === 'stale') {", to: "if (msg.outcome === 'reject') {", tests: ['fill-rules'] },
  { rule: 'not-ready is neither a vote nor a refusal to a fill', file: 'fill.js',
    from: "if (msg.outcome === 'not-ready') return undefined;", to: '', tests: ['fill-rules', 'fill-config-rules'] },
  { rule: 'a fill is truncated at the highest beginning among its promises', file: 'fill.js',
    from: 'const begin = Math.max(...replies.map((r) => r.reply.begin));', to: 'const begin = Math.min(...replies.map((r) => r.reply.begin));', tests: ['fill-rules'] },
  { rule: 'a config entry of the next epoch is a fill\'s stop sign (R5)', file: 'fill.js',
    from: 'a.config.epoch !== this.cfg.epoch + 1', to: 'a.config.epoch !== this.cfg.epoch - 1', tests: ['fill-config-rules'] },
  { rule: 'a fill counts a config entry chosen only with a quorum of the next voters (R3)', file: 'fill.js',
    from: 'j.next.voters.filter((m) => j.ready.has(m.id)).length < configQuorum(j.next)', to: 'j.next.voters.filter((m) => j.ready.has(m.id)).length < 1', tests: ['fill-config-rules'] },
  { rule: 'a next voter counts for a config entry only if it holds the log below it (R3)', file: 'fill.js',
    from: 'if (heldBelow(this.from,', to: 'if (true || heldBelow(this.from,', tests: ['fill-config-rules'] },
  // quorum.ts: counting.
  { rule: 'a member counts once', file: 'quorum.js',
    from: 'if (this.accepted.has(from) || this.rejected.has(from) || this.ignored.has(from)) return;', to: 'if (false) return;', tests: ['quorum'] },
  { rule: 'a round is won by a quorum of accepts', file: 'quorum.js',
    from: 'return this.accepted.size >= this.quorum;', to: 'return this.accepted.size >= this.quorum - 1;', tests: ['quorum'] },
  { rule: 'a round is unreachable once too many members ignored', file: 'quorum.js',
    from: 'return this.members - this.ignored.size < this.quorum;', to: 'return this.members + this.ignored.size < this.quorum;', tests: ['quorum'] },
];

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '../..');
const TIMEOUT_MS = 120_000;

/** A copy of dist/src and dist/test that can be mutated without touching the build. */
function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'replog-mutant-guard-'));
  cpSync(join(dist, 'src'), join(dir, 'dist/src'), { recursive: true });
  cpSync(join(dist, 'test'), join(dir, 'dist/test'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(resolve(dist, '../node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs test files in the sandbox; true if all passed. */
function passes(dir: string, tests: readonly string[]): { ok: boolean; output: string } {
  const files = tests.map((t) => join('dist/test/core', `${t}.test.js`));
  // Not a subtest of this run: node --test marks its children with NODE_TEST_CONTEXT, and a child
  // that inherits it reports to a parent that is not listening (and exits 0 whatever failed).
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', '--test-force-exit', '--test-concurrency=1', ...files], { cwd: dir, env, encoding: 'utf8', timeout: TIMEOUT_MS });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A fragment as a pattern: its text literally, any run of white space for each space. */
function fragment(text: string): RegExp {
  return new RegExp(text.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+'), 'g');
}

const only = process.env.REPLOG_MUTANT; // run one mutant, by index (when updating a fragment)

test('mutant guard: every planted decision-point mutant fails the core tests that state its rule', { timeout: 30 * 60_000 }, () => {
  const dir = sandbox();
  try {
    const all = [...new Set(MUTANTS.flatMap((m) => m.tests))];
    const baseline = passes(dir, all);
    assert.ok(baseline.ok, `the unmutated copy passes the guard's tests:\n${baseline.output.slice(-3000)}`);
    const survivors: string[] = [];
    MUTANTS.forEach((m, i) => {
      if (only !== undefined && Number(only) !== i) return;
      const path = join(dir, 'dist/src/core', m.file);
      const original = readFileSync(path, 'utf8');
      const found = [...original.matchAll(fragment(m.from))];
      assert.equal(found.length, 1,
        `mutant ${i} (${m.rule}): its fragment must occur exactly once in dist/src/core/${m.file}; the source changed, update the fragment:\n${m.from}`);
      const at = found[0]!.index;
      writeFileSync(path, original.slice(0, at) + m.to + original.slice(at + found[0]![0].length));
      try {
        if (passes(dir, m.tests).ok) survivors.push(`${i}: ${m.rule} (${m.file}: ${JSON.stringify(m.from)} -> ${JSON.stringify(m.to)})`);
      } finally {
        writeFileSync(path, original);
      }
    });
    assert.deepEqual(survivors, [], 'surviving mutants: a rule no test states any more');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
