#!/usr/bin/env node
// Plants mutants one at a time in the compiled file and runs test files against it (issue 11, by hand).
//   node scripts/plant-mutants.mjs MUTANTS.json OUT.json TEST.js... [:: MORE-TESTS.js...]
// MUTANTS.json: [{ id, file: 'src/...ts', start: {line, column}, end: {line, column}, replacement, mutatorName }]
// (Stryker's JSON report locations: lines and columns 1-based), as scripts/list-mutants.mjs writes; or a
// Stryker JSON report itself (reports/mutation/parts/NAME.json), whose survivors and uncovered mutants are taken.
// Stages after '::' run only for a mutant the earlier files did not kill. PLANT_ONLY=id,id,... plants those. Each mutant is applied to the TypeScript
// source, transpiled alone (typescript.transpileModule) and written over dist/<file>.js; the original
// compiled file is restored after each run. A mutant is killed if the tests fail or time out.
import { copyFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import ts from 'typescript';

const [mutantsPath, outPath, ...rest] = process.argv.slice(2);
// Test files in stages separated by '::': a later stage runs only for a mutant the earlier ones did not kill.
const stages = [[]];
for (const a of rest) if (a === '::') stages.push([]); else stages[stages.length - 1].push(a);
const tests = stages.flat();
const only = process.env.PLANT_ONLY === undefined ? undefined : new Set(process.env.PLANT_ONLY.split(','));
const input = JSON.parse(readFileSync(mutantsPath, 'utf8'));
const mutants = Array.isArray(input)
  ? input
  : Object.entries(input.files).flatMap(([file, e]) =>
      e.mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage').map((m) => ({ id: m.id, file, start: m.location.start, end: m.location.end, replacement: m.replacement, mutatorName: m.mutatorName })),
    );
const TIMEOUT = Number(process.env.PLANT_TIMEOUT ?? 60_000);

function offset(src, { line, column }) {
  let at = 0;
  for (let l = 1; l < line; l++) at = src.indexOf('\n', at) + 1;
  return at + column - 1;
}
function transpile(src, fileName) {
  return ts.transpileModule(src, { fileName, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: false } }).outputText;
}
// Mutants that do not type-check (Stryker's CompileError, outside its score): checked on the file alone.
const versions = new Map();
const contents = new Map();
const host = {
  getScriptFileNames: () => [...contents.keys()],
  getScriptVersion: (f) => String(versions.get(f) ?? 0),
  getScriptSnapshot: (f) => {
    const c = contents.get(f) ?? (ts.sys.fileExists(f) ? ts.sys.readFile(f) : undefined);
    return c === undefined ? undefined : ts.ScriptSnapshot.fromString(c);
  },
  getCurrentDirectory: () => process.cwd(),
  getCompilationSettings: () => ({ target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, exactOptionalPropertyTypes: false, noImplicitOverride: true, skipLibCheck: true, types: ['node'], lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'], noEmit: true }),
  getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
  readDirectory: ts.sys.readDirectory,
  directoryExists: ts.sys.directoryExists,
  getDirectories: ts.sys.getDirectories,
};
const service = ts.createLanguageService(host, ts.createDocumentRegistry());
function typeErrors(file, src) {
  const abs = `${process.cwd()}/${file}`;
  contents.set(abs, src);
  versions.set(abs, (versions.get(abs) ?? 0) + 1);
  return [...service.getSyntacticDiagnostics(abs), ...service.getSemanticDiagnostics(abs)].map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

function run(tests) {
  const r = spawnSync('node', ['--test', ...tests], { timeout: TIMEOUT, encoding: 'utf8' });
  const failed = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('not ok')).map((l) => l.replace(/^not ok \d+ - /, ''));
  return { status: r.status, timedOut: r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM', failed };
}

const byFile = new Map();
for (const m of mutants) (byFile.get(m.file) ?? byFile.set(m.file, []).get(m.file)).push(m);
const results = [];
for (const [file, ms] of byFile) {
  const src = readFileSync(file, 'utf8');
  const dist = `dist/${file.replace(/\.ts$/, '.js')}`;
  const backup = `${dist}.orig`;
  copyFileSync(dist, backup);
  try {
    // Baseline: the unmutated source, transpiled the same way, passes.
    writeFileSync(dist, transpile(src, file));
    const baseErrors = typeErrors(file, src);
    if (baseErrors.length > 0) throw new Error(`the unmutated ${file} does not type-check here: ${baseErrors.join('; ')}`);
    const base = run(tests);
    if (base.status !== 0) throw new Error(`baseline fails for ${file}: ${base.failed.join('; ')}`);
    for (const m of ms) {
      if (only !== undefined && !only.has(String(m.id))) continue;
      const s = offset(src, m.start);
      const e = offset(src, m.end);
      const original = src.slice(s, e);
      const mutated = src.slice(0, s) + m.replacement + src.slice(e);
      const errors = process.env.PLANT_TYPECHECK === '0' ? [] : typeErrors(file, mutated);
      if (errors.length > 0) {
        results.push({ id: m.id, file, line: m.start.line, column: m.start.column, mutator: m.mutatorName, original: original.slice(0, 80), replacement: m.replacement.slice(0, 80), compileError: errors[0] });
        console.log(`COMPILE  ${file}:${m.start.line}:${m.start.column} ${m.mutatorName}: ${errors[0].slice(0, 100)}`);
        continue;
      }
      writeFileSync(dist, transpile(mutated, file));
      let r;
      let stage = 0;
      for (; stage < stages.length; stage++) {
        r = run(stages[stage]);
        if (r.status !== 0 || r.timedOut) break;
      }
      const killed = r.status !== 0 || r.timedOut;
      const res = { id: m.id, file, line: m.start.line, column: m.start.column, mutator: m.mutatorName, original: original.slice(0, 80), replacement: m.replacement.slice(0, 80), killed, stage: killed ? stage : undefined, timedOut: r.timedOut, by: r.failed.slice(0, 3) };
      results.push(res);
      console.log(`${killed ? 'KILLED  ' : 'SURVIVED'} ${file}:${m.start.line}:${m.start.column} ${m.mutatorName}: ${JSON.stringify(original.slice(0, 60))} -> ${JSON.stringify(m.replacement.slice(0, 60))}${killed ? ` (${r.timedOut ? 'timeout' : r.failed[0] ?? 'exit ' + r.status})` : ''}`);
      writeFileSync(outPath, JSON.stringify(results, null, 1));
    }
  } finally {
    copyFileSync(backup, dist);
    unlinkSync(backup);
  }
}
const k = results.filter((r) => r.killed).length;
const ce = results.filter((r) => r.compileError !== undefined).length;
console.log(`${k} killed of ${results.length - ce} (${ce} compile errors); by stage: ${stages.map((_, i) => results.filter((r) => r.killed && r.stage === i).length).join(', ')}`);
