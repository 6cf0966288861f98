/**
 * Reads and writes a scenario file (the format of etcd raft's datadriven
 * testdata, simplified). A file is a sequence of blocks:
 *
 *   # comments and blank lines, kept as they are
 *   command word key=value ...
 *   ----
 *   expected output, one line per effect, up to the next blank line
 *
 * The expected output never contains a blank line (the printer makes none),
 * so a blank line always ends a block.
 */

export interface Block {
  /** Comment and blank lines before the command, verbatim. */
  readonly before: readonly string[];
  /** 1-based line number of the command (for failure messages). */
  readonly line: number;
  /** The command line as written. */
  readonly text: string;
  readonly name: string;
  /** Words after the command name that are not key=value. */
  readonly words: readonly string[];
  readonly args: ReadonlyMap<string, string>;
  readonly expected: readonly string[];
}

export interface ScenarioFile {
  readonly blocks: readonly Block[];
  /** Comment and blank lines after the last block. */
  readonly after: readonly string[];
}

const SEPARATOR = '----';

export function parseScenario(text: string, file = 'scenario'): ScenarioFile {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const blocks: Block[] = [];
  let before: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      before.push(line);
      i++;
      continue;
    }
    const at = i + 1;
    if (lines[i + 1] !== SEPARATOR) throw new Error(`${file}:${at}: expected '${SEPARATOR}' after the command '${line}'`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    const [name, ...rest] = line.trim().split(/\s+/);
    const words: string[] = [];
    const args = new Map<string, string>();
    for (const w of rest) {
      const eq = w.indexOf('=');
      if (eq > 0) args.set(w.slice(0, eq), w.slice(eq + 1));
      else words.push(w);
    }
    blocks.push({ before, line: at, text: line, name: name!, words, args, expected });
    before = [];
  }
  return { blocks, after: before };
}

/** The file again, with each block's expected output replaced by `actual` (the rewrite mode). */
export function formatScenario(file: ScenarioFile, actual: readonly (readonly string[])[]): string {
  const out: string[] = [];
  file.blocks.forEach((b, k) => {
    out.push(...b.before, b.text, SEPARATOR, ...(actual[k] ?? b.expected));
  });
  out.push(...file.after);
  return `${out.join('\n')}\n`;
}
