/**
 * A small stand-in for `jsr:@std/assert@^1`, with the same names and semantics for the subset this
 * repository uses, built on `node:assert` (JSR is unreachable where loraquant is developed and
 * tested). With JSR access, point the `@std/assert` entry of the root `deno.json` import map at
 * `jsr:@std/assert@^1` instead: nothing else changes.
 *
 * Equality is SameValue-based like std's: `NaN` equals `NaN`, `0` differs from `-0`.
 *
 * @module
 */
import nodeAssert from "node:assert";

/** Thrown when an assertion fails (as std's `AssertionError`). */
export class AssertionError extends Error {
  /**
   * @param message What failed.
   */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function rethrow(fn: () => void, msg?: string): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof nodeAssert.AssertionError) {
      throw new AssertionError(msg ? `${msg}: ${e.message}` : e.message);
    }
    throw e;
  }
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = ""): asserts expr {
  if (!expr) throw new AssertionError(msg || "Expected expression to be truthy");
}

/** Asserts that `expr` is falsy. */
export function assertFalse(expr: unknown, msg = ""): void {
  if (expr) throw new AssertionError(msg || "Expected expression to be falsy");
}

/** Asserts deep equality (SameValue on primitives, element-wise on arrays and typed arrays). */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  rethrow(() => nodeAssert.deepStrictEqual(actual, expected), msg);
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  rethrow(() => nodeAssert.notDeepStrictEqual(actual, expected), msg);
}

/** Asserts `Object.is(actual, expected)`. */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${msg ? msg + ": " : ""}Values are not strictly equal: ${String(actual)} !== ${
        String(expected)
      }`,
    );
  }
}

/** Asserts `|actual − expected| ≤ tolerance` (default 1e-7, as std). */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance = 1e-7,
  msg?: string,
): void {
  if (Object.is(actual, expected)) return;
  const delta = Math.abs(expected - actual);
  if (!(delta <= tolerance)) {
    throw new AssertionError(
      `${
        msg ? msg + ": " : ""
      }Expected actual: "${actual}" to be close to "${expected}": delta "${delta}" is greater than "${tolerance}"`,
    );
  }
}

/** Asserts `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual > expected)) throw new AssertionError(msg ?? `Expect ${actual} > ${expected}`);
}

/** Asserts `actual ≥ expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual >= expected)) throw new AssertionError(msg ?? `Expect ${actual} >= ${expected}`);
}

/** Asserts `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual < expected)) throw new AssertionError(msg ?? `Expect ${actual} < ${expected}`);
}

/** Asserts `actual ≤ expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void {
  if (!(actual <= expected)) throw new AssertionError(msg ?? `Expect ${actual} <= ${expected}`);
}

/** Asserts that a value is neither `null` nor `undefined`. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to not be null or undefined.`);
  }
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to match: "${expected}".`);
  }
}

/** Asserts that `actual` includes `expected` (strings). */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(msg ?? `Expected actual: "${actual}" to contain: "${expected}".`);
  }
}

// deno-lint-ignore no-explicit-any
type AnyConstructor = new (...args: any[]) => any;

/** Asserts that `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends AnyConstructor>(
  actual: unknown,
  expectedType: T,
  msg = "",
): asserts actual is InstanceType<T> {
  if (!(actual instanceof expectedType)) {
    throw new AssertionError(msg || `Expected object to be an instance of "${expectedType.name}"`);
  }
}

/** Fails unconditionally. */
export function fail(msg?: string): never {
  throw new AssertionError(msg ? `Failed assertion: ${msg}` : "Failed assertion.");
}

/**
 * Asserts that `fn` throws, optionally an instance of `ErrorClass` whose message includes
 * `msgIncludes`; returns the error.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  ErrorClass?: abstract new (...args: never[]) => E,
  msgIncludes?: string,
  msg?: string,
): E {
  let error: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    error = e;
  }
  if (!threw) throw new AssertionError(msg ?? "Expected function to throw.");
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      msg ??
        `Expected error to be instance of "${ErrorClass.name}", but was "${
          (error as Error)?.constructor?.name
        }": ${(error as Error)?.message}`,
    );
  }
  if (msgIncludes !== undefined && !String((error as Error)?.message).includes(msgIncludes)) {
    throw new AssertionError(
      msg ??
        `Expected error message to include "${msgIncludes}", but got "${
          (error as Error)?.message
        }".`,
    );
  }
  return error as E;
}

/** Asserts that the promise returned by `fn` rejects; returns the error. */
export async function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: abstract new (...args: never[]) => E,
  msgIncludes?: string,
  msg?: string,
): Promise<E> {
  let error: unknown;
  let threw = false;
  try {
    await fn();
  } catch (e) {
    threw = true;
    error = e;
  }
  if (!threw) throw new AssertionError(msg ?? "Expected function to reject.");
  if (ErrorClass && !(error instanceof ErrorClass)) {
    throw new AssertionError(
      msg ?? `Expected error to be instance of "${ErrorClass.name}": ${(error as Error)?.message}`,
    );
  }
  if (msgIncludes !== undefined && !String((error as Error)?.message).includes(msgIncludes)) {
    throw new AssertionError(
      msg ?? `Expected error message to include "${msgIncludes}": ${(error as Error)?.message}`,
    );
  }
  return error as E;
}
