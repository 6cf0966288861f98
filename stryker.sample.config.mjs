// The fixed sample of decision-point mutants (npm run mutate:sample; docs/testing.md), against the fast
// core tests. The decision points are named here by function, and their line ranges are found in the
// source when Stryker loads this file (with TypeScript's own parser): line numbers written by hand
// drifted away from the code they meant as soon as the core changed around them. npm test plants a
// hand-picked subset itself (test/core/mutant-guard.test.ts), without Stryker; the full run is
// stryker.config.json (npm run mutate).
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** Per file, the functions and methods that decide: promise and accept checks, learned-value
 * protection, commit and learned bounds, membership and floors, highest-accepted selection, counting. */
const DECISION_POINTS = {
  'src/core/replica.ts': ['configStanding', 'mayVote', 'membershipRefusal', 'implicitPromiseIn', 'bindingAtLeast', 'explicitPromiseIn', 'write', 'commit', 'learned'],
  'src/core/acceptor-chain.ts': ['extendChain', 'ownAcceptance', 'voterStanding', 'floorOver'],
  'src/core/writer-election.ts': ['becomeElected'],
  'src/core/writer-appends.ts': ['onWriteReply'],
  'src/core/writer-changes.ts': ['jointDone', 'noteJoint'],
  'src/core/fill.ts': ['onPromiseReply', 'onWriteReply', 'wonWrite', 'startWrite'],
  'src/core/quorum.ts': ['record', 'won', 'unreachable'],
};

/** `file:start-end` for each named function or method (or getter), failing loudly on a name not found once. */
function ranges(file, names) {
  const src = ts.createSourceFile(file, readFileSync(new URL(file, import.meta.url), 'utf8'), ts.ScriptTarget.Latest, true);
  const found = new Map(names.map((n) => [n, []]));
  const visit = (node) => {
    const named = ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node);
    if (named && node.name !== undefined && found.has(node.name.getText(src)) && node.body !== undefined) {
      const line = (pos) => src.getLineAndCharacterOfPosition(pos).line + 1;
      found.get(node.name.getText(src)).push(`${file}:${line(node.body.getStart(src))}-${line(node.body.getEnd())}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return names.map((n) => {
    const hits = found.get(n);
    if (hits.length !== 1) throw new Error(`stryker.sample.config.mjs: ${n} found ${hits.length} times in ${file}; update DECISION_POINTS`);
    return hits[0];
  });
}

const base = JSON.parse(readFileSync(new URL('./stryker.sample.base.json', import.meta.url), 'utf8'));
export default {
  ...base,
  mutate: Object.entries(DECISION_POINTS).flatMap(([file, names]) => ranges(file, names)),
};
