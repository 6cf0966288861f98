/**
 * A line diff (longest common subsequence) of expected against actual:
 * '-' expected only, '+' actual only, '  ' both; unchanged runs are cut to
 * `context` lines around each change. For short outputs (one command's).
 */
export function lineDiff(expected: readonly string[], actual: readonly string[], context = 3): string[] {
  const n = expected.length;
  const m = actual.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const all: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      all.push(`  ${expected[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) all.push(`- ${expected[i++]}`);
    else all.push(`+ ${actual[j++]}`);
  }
  const changed = all.map((l, k) => (l.startsWith('  ') ? -1 : k)).filter((k) => k >= 0);
  const near = (k: number) => changed.some((c) => Math.abs(c - k) <= context);
  const out: string[] = [];
  all.forEach((l, k) => {
    if (near(k)) out.push(l);
    else if (out.at(-1) !== '  ...') out.push('  ...');
  });
  return out;
}
