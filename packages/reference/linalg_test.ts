import fc from "fast-check";
import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import { binaryFraction, fcParams } from "./_testing.ts";
import { addScaled, frobeniusNorm, identity, multiply, qr, rowNorms, transpose } from "./linalg.ts";
import { matrix } from "./matrix.ts";
import type { Matrix } from "./matrix.ts";
import { LoraquantRangeError, LoraquantTypeError } from "./errors.ts";

// Independent exact arithmetic: a float64 as num·2^exp, from its IEEE 754 bits (exp ≥ −1074).
function exact(x: number): { num: bigint; exp: number } {
  const { n, k } = binaryFraction(x);
  return { num: n, exp: -Number(k) };
}

/** Σ_l a_l·b_l exactly, as an integer numerator over 2^2148, then converted to a float with ≥ 60 bits. */
function exactDot(a: number[], b: number[]): number {
  let acc = 0n;
  for (let i = 0; i < a.length; i++) {
    const x = exact(a[i]!);
    const y = exact(b[i]!);
    acc += (x.num * y.num) << BigInt(x.exp + y.exp + 2148);
  }
  // Divide by 2^2148 in two float steps (the float of a huge bigint is its nearest float).
  const neg = acc < 0n;
  const mag = neg ? -acc : acc;
  const shift = Math.max(0, mag.toString(2).length - 60);
  const e = shift - 2148;
  const approx = Number(mag >> BigInt(shift)) * 2 ** Math.trunc(e / 2) *
    2 ** (e - Math.trunc(e / 2));
  return neg ? -approx : approx;
}

const small = fc.double({ min: -100, max: 100, noNaN: true });
const shapes = fc.tuple(
  fc.integer({ min: 0, max: 6 }),
  fc.integer({ min: 0, max: 6 }),
  fc.integer({ min: 0, max: 6 }),
);

function randomMatrix(rows: number, cols: number): fc.Arbitrary<Matrix> {
  return fc.array(fc.oneof(small, fc.constantFrom(0, -0, 1, -1, 0.1, 2 ** -1060, 2 ** 500)), {
    minLength: rows * cols,
    maxLength: rows * cols,
  }).map((d) => matrix([rows, cols], d));
}

Deno.test("`multiply()` sums each element over k ascending, one rounding per operation", () => {
  fc.assert(
    fc.property(
      shapes.chain(([m, k, n]) => fc.tuple(randomMatrix(m, k), randomMatrix(k, n))),
      ([a, b]) => {
        const c = multiply(a, b);
        for (let i = 0; i < a.rows; i++) {
          for (let j = 0; j < b.cols; j++) {
            let s = 0;
            for (let l = 0; l < a.cols; l++) s += a.data[i * a.cols + l]! * b.data[l * b.cols + j]!;
            assertEquals(c.data[i * b.cols + j], s === 0 ? Math.abs(s) : s);
          }
        }
      },
    ),
    fcParams(100),
  );
});

Deno.test("`multiply()` with transposes equals the product of explicit transposes, bit for bit", () => {
  fc.assert(
    fc.property(
      shapes.chain(([m, k, n]) => fc.tuple(randomMatrix(k, m), randomMatrix(n, k))),
      ([at, bt]) => {
        const direct = multiply(transpose(at), transpose(bt));
        assertEquals([...multiply(at, bt, { transposeA: true, transposeB: true }).data], [
          ...direct.data,
        ]);
        assertEquals([...multiply(at, transpose(bt), { transposeA: true }).data], [...direct.data]);
        assertEquals([...multiply(transpose(at), bt, { transposeB: true }).data], [...direct.data]);
      },
    ),
    fcParams(100),
  );
});

Deno.test("`multiply()` lies within γ_k·Σ|a||b| of the exact product (BigInt)", () => {
  const u = 2 ** -53;
  fc.assert(
    fc.property(
      shapes.chain(([m, k, n]) =>
        fc.tuple(
          fc.array(small, { minLength: m * k, maxLength: m * k }).map((d) => matrix([m, k], d)),
          fc.array(small, { minLength: k * n, maxLength: k * n }).map((d) => matrix([k, n], d)),
        )
      ),
      ([a, b]) => {
        const c = multiply(a, b);
        const k = a.cols;
        const gamma = (k * u) / (1 - k * u);
        for (let i = 0; i < a.rows; i++) {
          for (let j = 0; j < b.cols; j++) {
            const row = Array.from({ length: k }, (_, l) => a.data[i * k + l]!);
            const col = Array.from({ length: k }, (_, l) => b.data[l * b.cols + j]!);
            const abs = row.reduce((s, x, l) => s + Math.abs(x * col[l]!), 0);
            const err = Math.abs(c.data[i * b.cols + j]! - exactDot(row, col));
            assertLessOrEqual(err, gamma * abs * (1 + 1e-10) + 1e-300);
          }
        }
      },
    ),
    fcParams(100),
  );
});

Deno.test("`multiply()` blocks of 256 columns keep the order (a 2×600 product)", () => {
  const a = matrix([2, 3], [0.1, 0.2, 0.3, 1e16, 1, -1e16]);
  const b = matrix([3, 600], Array.from({ length: 1800 }, (_, i) => (i % 7) - 3 + 0.1 * (i % 3)));
  const c = multiply(a, b);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 600; j++) {
      let s = 0;
      for (let l = 0; l < 3; l++) s += a.data[i * 3 + l]! * b.data[l * 600 + j]!;
      assertEquals(c.data[i * 600 + j], s);
    }
  }
});

Deno.test("`multiply()` refuses mismatched inner dimensions with E_SHAPE", () => {
  const e = assertThrows(
    () => multiply(matrix([2, 3]), matrix([2, 3])),
    LoraquantTypeError,
    "inner",
  );
  assertEquals(e.code, "E_SHAPE");
});

Deno.test("`transpose()` twice is the identity and moves (i, j) to (j, i)", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })).chain(([r, c]) =>
        randomMatrix(r, c)
      ),
      (m) => {
        const t = transpose(m);
        assertEquals([t.rows, t.cols], [m.cols, m.rows]);
        for (let i = 0; i < m.rows; i++) {
          for (let j = 0; j < m.cols; j++) {
            assertEquals(
              t.data[j * m.rows + i],
              m.data[i * m.cols + j],
            );
          }
        }
        assertEquals([...transpose(t).data], [...m.data]);
      },
    ),
    fcParams(50),
  );
});

Deno.test("`frobeniusNorm()` and `rowNorms()` are exact on Pythagorean rows and never overflow", () => {
  assertEquals(frobeniusNorm(matrix([2, 2], [3, 4, 12, 0])), 13);
  assertEquals([...rowNorms(matrix([2, 2], [3, 4, 5, 12]))], [5, 13]);
  assertEquals(frobeniusNorm(matrix([1, 2], [3 * 2 ** 1000, 4 * 2 ** 1000])), 5 * 2 ** 1000);
  assertEquals(frobeniusNorm(matrix([1, 2], [3 * 2 ** -1070, 4 * 2 ** -1070])), 5 * 2 ** -1070);
  assertEquals(frobeniusNorm(matrix([0, 3])), 0);
  assert(Number.isNaN(frobeniusNorm(matrix([1, 2], [NaN, Infinity]))));
  assertEquals(frobeniusNorm(matrix([1, 2], [1, Infinity])), Infinity);
});

Deno.test("`frobeniusNorm()` is within a few ulps of the exact sqrt(Σ x²)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 40 }),
      (d) => {
        const got = frobeniusNorm(matrix([1, d.length], d));
        // Exact Σx² as a BigInt over 2^2148; compare got² with it (relative 2(n+4)u).
        let acc = 0n;
        for (const x of d) {
          const e = exact(x);
          acc += (e.num * e.num) << BigInt(2 * e.exp + 2148);
        }
        const exactSq = exactDot(d, d);
        assert(acc >= 0n);
        assertLessOrEqual(
          Math.abs(got * got - exactSq),
          (2 * d.length + 8) * 2 ** -53 * exactSq + 1e-300,
        );
      },
    ),
    fcParams(100),
  );
});

Deno.test("`addScaled()` and `identity()` compute a + f·b and I", () => {
  assertEquals([...addScaled(identity(2), matrix([2, 2], [1, 2, 3, 4]), { factor: 2 }).data], [
    3,
    4,
    6,
    9,
  ]);
  assertThrows(() => addScaled(identity(2), identity(3)), LoraquantTypeError, "Cannot add");
  assertThrows(() => identity(-1), LoraquantTypeError);
});

Deno.test("`qr()` gives orthonormal q and upper-triangular r with q·r = m", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 })).chain(([r, c]) =>
        fc.array(fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }), fc.constant(0)), {
          minLength: r * c,
          maxLength: r * c,
        }).map((d) => matrix([r, c], d))
      ),
      (m) => {
        const { q, r } = qr(m);
        const k = Math.min(m.rows, m.cols);
        assertEquals([q.rows, q.cols, r.rows, r.cols], [m.rows, k, k, m.cols]);
        const back = multiply(q, r);
        const norm = frobeniusNorm(m);
        let err = 0;
        for (let i = 0; i < m.data.length; i++) err = Math.hypot(err, back.data[i]! - m.data[i]!);
        assertLessOrEqual(err, 1e-13 * norm + 1e-300);
        const qtq = multiply(q, q, { transposeA: true });
        for (let i = 0; i < k; i++) {
          for (let j = 0; j < k; j++) {
            assertLessOrEqual(Math.abs(qtq.data[i * k + j]! - (i === j ? 1 : 0)), 1e-13);
          }
          for (let j = 0; j < i; j++) assertEquals(r.data[i * m.cols + j], 0);
        }
      },
    ),
    fcParams(100),
  );
});

Deno.test("`qr()` refuses NaN with E_RANGE naming m and leaves it unchanged", () => {
  const m = matrix([2, 2], [1, NaN, 3, 4]);
  const e = assertThrows(() => qr(m), LoraquantRangeError, "m must be finite, got NaN at (0, 1)");
  assertEquals(e.code, "E_RANGE");
  assertEquals([...m.data], [1, NaN, 3, 4]);
});
