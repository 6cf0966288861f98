// node:test for vitest: the mutation run (npm run mutate, vitest.config.mts) runs the core and storage
// tests, written for node:test, under vitest, which gives Stryker per-test coverage in one process
// instead of a node process per test file per mutant. vitest.config.mts aliases 'node:test' to this
// file; under `npm test` (node --test on dist/) the real node:test runs and this file is never loaded.
//
// It maps the part of node:test these tests use: test(name, fn), test(name, options, fn) with
// `skip` (boolean or a reason), `todo` and `timeout`, test.skip/test.todo, test.after and the other
// hooks, describe/it/suite. A test's body runs as it is, so a failing assertion (node:assert) fails
// the vitest test. What is not mapped (subtests through the context's t.test, mock, t.plan, an
// unknown option) throws, so that a test never passes by losing part of itself.
import { afterAll, afterEach, beforeAll, beforeEach, describe as vdescribe, test as vtest, type TestContext as VitestContext } from 'vitest';

export interface TestOptions {
  skip?: boolean | string;
  todo?: boolean | string;
  timeout?: number;
}

/** The part of node:test's TestContext a test body may use here. */
export interface TestContext {
  readonly name: string;
  readonly signal: AbortSignal;
  diagnostic(message: string): void;
  skip(message?: string): void;
  todo(message?: string): void;
  test(...args: unknown[]): never;
}

type TestFn = (t: TestContext) => unknown;
type SuiteFn = () => unknown;
type HookFn = () => unknown;

const KNOWN = new Set(['skip', 'todo', 'timeout']);

function options(name: string, o: TestOptions | undefined): TestOptions {
  for (const k of Object.keys(o ?? {})) {
    if (!KNOWN.has(k)) throw new Error(`vitest-node-test-shim: option '${k}' of "${name}" is not mapped; add it to test/vitest-node-test-shim.ts`);
  }
  return o ?? {};
}

function context(name: string, v: VitestContext): TestContext {
  return {
    name,
    signal: v.signal,
    diagnostic: (message) => console.log(`# ${message}`),
    skip: (message) => v.skip(message),
    todo: (message) => v.skip(message),
    test: () => {
      throw new Error(`vitest-node-test-shim: subtests (t.test) in "${name}" are not mapped; add them to test/vitest-node-test-shim.ts`);
    },
  };
}

function parse<F>(name: string, a?: TestOptions | F, b?: F): [TestOptions, F | undefined] {
  if (typeof a === 'function') return [{}, a as F];
  return [options(name, a as TestOptions | undefined), b];
}

function register(name: string, a?: TestOptions | TestFn, b?: TestFn): Promise<void> {
  const [o, fn] = parse<TestFn>(name, a, b);
  if (fn === undefined || o.todo) vtest.todo(name);
  else if (o.skip) vtest.skip(name, () => {});
  else if (fn.length > 1) throw new Error(`vitest-node-test-shim: "${name}" takes a done callback, which is not mapped`);
  else vtest(name, (v) => fn(context(name, v)) as Promise<void> | void, o.timeout);
  return Promise.resolve();
}

type TestApi = typeof register & {
  skip(name: string, a?: TestOptions | TestFn, b?: TestFn): Promise<void>;
  todo(name: string, a?: TestOptions | TestFn, b?: TestFn): Promise<void>;
  only(): never;
  before(fn: HookFn): void;
  after(fn: HookFn): void;
  beforeEach(fn: HookFn): void;
  afterEach(fn: HookFn): void;
};

function withOption(name: string, a: TestOptions | TestFn | undefined, b: TestFn | undefined, extra: TestOptions): Promise<void> {
  const [o, fn] = parse<TestFn>(name, a, b);
  return register(name, { ...o, ...extra }, fn);
}

export const before = (fn: HookFn): void => beforeAll(async () => void (await fn()));
export const after = (fn: HookFn): void => afterAll(async () => void (await fn()));
const beforeEachHook = (fn: HookFn): void => beforeEach(async () => void (await fn()));
const afterEachHook = (fn: HookFn): void => afterEach(async () => void (await fn()));
export { beforeEachHook as beforeEach, afterEachHook as afterEach };

export const test: TestApi = Object.assign(register, {
  skip: (name: string, a?: TestOptions | TestFn, b?: TestFn) => withOption(name, a, b, { skip: true }),
  todo: (name: string, a?: TestOptions | TestFn, b?: TestFn) => withOption(name, a, b, { todo: true }),
  only: (): never => {
    throw new Error('vitest-node-test-shim: test.only is not mapped');
  },
  before,
  after,
  beforeEach: beforeEachHook,
  afterEach: afterEachHook,
});
export const it = test;

function suite(name: string, a?: TestOptions | SuiteFn, b?: SuiteFn): Promise<void> {
  const [o, fn] = parse<SuiteFn>(name, a, b);
  const body = () => void fn?.();
  if (fn === undefined || o.todo) vdescribe.todo(name);
  else if (o.skip) vdescribe.skip(name, body);
  else vdescribe(name, body);
  return Promise.resolve();
}
export { suite, suite as describe };
export default test;
