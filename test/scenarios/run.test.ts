// Runs every scenario file (test/scenarios/*.txt, read from the source tree)
// and compares each command's output with the expected output written under
// it. REPLOG_REWRITE=1 writes the actual output into the files instead, so
// that a change to the protocol shows as a diff a reviewer reads.
import { test } from 'node:test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Interpreter } from './commands.js';
import { lineDiff } from './diff.js';
import { formatScenario, parseScenario } from './parse.js';

// dist/test/scenarios/run.test.js -> <root>/test/scenarios/
const dir = fileURLToPath(new URL('../../../test/scenarios/', import.meta.url));
const rewrite = process.env.REPLOG_REWRITE === '1';

export function runScenario(path: string): { text: string; failures: string[] } {
  const file = parseScenario(readFileSync(path, 'utf8'), path);
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
    if (lines.join('\n') !== b.expected.join('\n')) {
      failures.push(`${path}:${b.line}: ${b.text}\n${lineDiff(b.expected, lines).join('\n')}`);
    }
  }
  return { text: formatScenario(file, actual), failures };
}

for (const name of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`scenario ${name}`, () => {
    const path = join(dir, name);
    const { text, failures } = runScenario(path);
    if (rewrite) {
      writeFileSync(path, text);
      return;
    }
    if (failures.length > 0) {
      throw new Error(`${failures.length} step(s) differ from the expected output ('-' expected, '+' actual; REPLOG_REWRITE=1 rewrites the file):\n\n${failures.join('\n\n')}`);
    }
  });
}
