// Lists Stryker's mutants of the given files (its own instrumenter, the project's exclusions):
//   node scripts/list-mutants.mjs OUT.json FILE...   (then: node scripts/plant-mutants.mjs OUT.json RESULTS.json dist/test/...js)
import { readFileSync, writeFileSync } from 'node:fs';
import { Instrumenter } from '@stryker-mutator/instrumenter';
const [out, ...files] = process.argv.slice(2);
const logger = { debug() {}, info() {}, warn: console.warn, error: console.error, isDebugEnabled: () => false, isTraceEnabled: () => false, trace() {} };
const ins = new Instrumenter(logger);
const r = await ins.instrument(files.map((name) => ({ name, mutate: true, content: readFileSync(name, 'utf8') })), {
  plugins: null, ignorers: [], excludedMutations: ['StringLiteral'], mutationRanges: [], noHeader: false,
});
const ms = r.mutants.filter((m) => m.status !== 'Ignored').map((m) => ({ id: m.id, file: m.fileName, start: { line: m.location.start.line + 1, column: m.location.start.column + 1 }, end: { line: m.location.end.line + 1, column: m.location.end.column + 1 }, replacement: m.replacement, mutatorName: m.mutatorName, isStatic: m.isStatic ?? false }));
writeFileSync(out, JSON.stringify(ms, null, 1));
console.log(ms.length, 'mutants;', ms.filter((m) => m.isStatic).length, 'static');
