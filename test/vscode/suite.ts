/** A test body; a thrown error or a rejected promise fails the test. */
export type TestFn = () => unknown;

/** One test: a name, a body and the time it may take. */
export interface TestCase {
  name: string;
  fn: TestFn;
  timeoutMs: number;
}

/** A named group of tests that run in order, with clean-up that runs after the last one. */
export interface Suite {
  name: string;
  tests: TestCase[];
  afterAll: TestFn[];
}

/** What a suite's definition receives: `test` registers a test, `after` registers a clean-up step. */
export interface SuiteApi {
  test(name: string, fn: TestFn, timeoutMs?: number): void;
  after(fn: TestFn): void;
}

/** Default time one test may take; editor start-up work can be slow on a loaded machine. */
export const DEFAULT_TEST_TIMEOUT_MS = 30_000;

/** Declares a suite; a file in `test/vscode/suites/` default-exports the result. */
export function suite(name: string, define: (api: SuiteApi) => void): Suite {
  const result: Suite = { name, tests: [], afterAll: [] };
  define({
    test: (testName, fn, timeoutMs = DEFAULT_TEST_TIMEOUT_MS) => result.tests.push({ name: testName, fn, timeoutMs }),
    after: (fn) => result.afterAll.push(fn),
  });
  return result;
}

/** Ends the current test as skipped (a marked error, since each suite bundle has its own copy of this module). */
export function skip(reason: string): never {
  const error = new Error(reason);
  error.name = 'SkipTest';
  throw error;
}

/** Whether an error is the signal thrown by `skip`. */
export function isSkip(error: unknown): error is Error {
  return error instanceof Error && error.name === 'SkipTest';
}
