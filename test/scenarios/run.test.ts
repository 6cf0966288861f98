// Runs every scenario file (test/scenarios/*.txt, read from the source tree)
// and compares each command's output with the expected output written under
// it. REPLOG_REWRITE=1 writes the actual output into the files instead, so
// that a change to the protocol shows as a diff a reviewer reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Interpreter } from './commands.js';
import { lineDiff } from './diff.js';
import { formatScenario, parseScenario } from './parse.js';

// dist/test/scenarios/run.test.js -> <root>/test/scenarios/
const dir = fileURLToPath(new URL('../../../test/scenarios/', import.meta.url));
const rewrite = process.env.REPLOG_REWRITE === '1';

/** Runs a scenario; returns the file rewritten with the actual output, and a diff per step that differs. */
function runScenario(text: string, name: string): { text: string; failures: string[] } {
  const file = parseScenario(text, name);
  const interp = new Interpreter();
  const actual: string[][] = [];
  const failures: string[] = [];
  for (const b of file.blocks) {
    let lines: string[];
    try {
      lines = interp.run(b);
    } catch (err) {
      lines = [`error: ${(err as Error).message.split('\n')[0]}`];
    }
    actual.push(lines);
    if (lines.join('\n') !== b.expected.join('\n')) failures.push(`${name}:${b.line}: ${b.text}\n${lineDiff(b.expected, lines).join('\n')}`);
  }
  // A file with every safety rule on must show no violation, whatever its expected output says (a
  // rewrite must not bless one); files that switch a rule off (cluster off=...) show what it prevents.
  const rulesOn = file.blocks[0]?.name === 'cluster' && !file.blocks[0].args.has('off');
  actual.forEach((lines, k) => {
    const v = lines.find((l) => l.startsWith('VIOLATION'));
    if (rulesOn && v !== undefined) failures.push(`${name}:${file.blocks[k]!.line}: ${file.blocks[k]!.text}\nevery safety rule is on, yet: ${v}`);
  });
  return { text: formatScenario(file, actual), failures };
}

for (const name of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`scenario ${name}`, () => {
    const path = join(dir, name);
    const before = readFileSync(path, 'utf8');
    const { text, failures } = runScenario(before, path);
    if (rewrite) {
      if (text !== before) writeFileSync(path, text);
      const violations = failures.filter((f) => f.includes('every safety rule is on'));
      if (violations.length > 0) throw new Error(violations.join('\n\n'));
      return;
    }
    if (failures.length > 0) {
      throw new Error(`${failures.length} step(s) differ from the expected output ('-' expected, '+' actual; REPLOG_REWRITE=1 rewrites the file):\n\n${failures.join('\n\n')}`);
    }
  });
}

test('the runner fails a scenario whose expected output is wrong, and rewriting restores it', () => {
  const good = 'cluster replicas=1\n----\nr1: VOTING b0 g0 begin 0 end -1 learned -1\n\nelect w\n----\nsend w>r1 promise#1 b1\n';
  assert.deepEqual(runScenario(good, 'good').failures, []);
  const wrong = good.replace('promise#1 b1', 'promise#1 b2');
  const r = runScenario(wrong, 'wrong');
  assert.equal(r.failures.length, 1);
  assert.match(r.failures[0]!, /wrong:5: elect w\n- send w>r1 promise#1 b2\n\+ send w>r1 promise#1 b1/);
  assert.equal(r.text, good, 'the rewrite is the file with the actual output');
});

test('a file with every rule on fails on a VIOLATION even if its expected output shows it', () => {
  // Two fake proposers misuse one proposal number (5) for two values: the checker sees both chosen at 0.
  const write = (rid: number, v: string) => `{"type":"write","rid":${rid},"proposal":5,"from":0,"actions":[{"kind":"append","data":"${v}"}],"named":[]}`;
  const steps = [
    ['cluster replicas=3', ''],
    [`inject p>r1 ${write(1, 'X')}`, ''],
    [`inject p>r2 ${write(1, 'X')}`, ''],
    [`inject q>r2 ${write(2, 'Y')}`, ''],
    [`inject q>r3 ${write(2, 'Y')}`, ''],
    ['deliver p>* q>* all', ''],
  ];
  const text = steps.map(([c]) => `${c}\n----\n`).join('\n');
  const once = runScenario(text, 'planted');
  assert.ok(once.text.includes('VIOLATION agreement: two values chosen at 0'), once.text);
  const blessed = runScenario(once.text, 'planted');
  assert.equal(blessed.failures.length, 1, 'the rewritten file still fails');
  assert.match(blessed.failures[0]!, /every safety rule is on, yet: VIOLATION agreement/);
  const ruleOff = runScenario(once.text.replace('cluster replicas=3', 'cluster replicas=3 off=refuseRetired'), 'planted');
  assert.deepEqual(ruleOff.failures, [], 'a file that switches a rule off may show a violation');
});

test('scenario files are deterministic: a second run prints the same', () => {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.txt'))) {
    const text = readFileSync(join(dir, name), 'utf8');
    assert.equal(runScenario(text, name).text, runScenario(text, name).text, name);
  }
});
