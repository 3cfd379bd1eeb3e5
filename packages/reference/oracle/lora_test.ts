import fc from "fast-check";
import { assert, assertEquals, assertLessOrEqual } from "@std/assert";
import { fcParams } from "../_testing.ts";
import { limitError } from "../_fail.ts";
import { isLoraquantError } from "../errors.ts";
import { answerLine } from "./dispatch.ts";
import {
  loraForwardOp,
  loraMergeOp,
  loraParamsOp,
  loraUnmergeOp,
  lowrankOp,
  svdOp,
} from "./lora.ts";

// ---------------------------------------------------------------------------------------------
// Independent exact arithmetic: BigInt fractions from the IEEE 754 bits of each double.
interface Frac {
  n: bigint;
  d: bigint;
}
const view = new DataView(new ArrayBuffer(8));
function bitsOf(x: number): bigint {
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}
function fromBits(b: bigint): number {
  view.setBigUint64(0, b);
  return view.getFloat64(0);
}
function frac(x: number): Frac {
  const bits = bitsOf(x);
  const sign = bits >> 63n ? -1n : 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const f = bits & ((1n << 52n) - 1n);
  const m = e === 0 ? f : f | (1n << 52n);
  const exp = e === 0 ? -1074 : e - 1075;
  return exp >= 0
    ? { n: sign * (m << BigInt(exp)), d: 1n }
    : { n: sign * m, d: 1n << BigInt(-exp) };
}
const add = (a: Frac, b: Frac): Frac => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
const sub = (a: Frac, b: Frac): Frac => ({ n: a.n * b.d - b.n * a.d, d: a.d * b.d });
const mul = (a: Frac, b: Frac): Frac => ({ n: a.n * b.n, d: a.d * b.d });
const div = (
  a: Frac,
  b: Frac,
): Frac => (b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n });
const ZERO: Frac = { n: 0n, d: 1n };
const absLess = (a: Frac, b: Frac): boolean => {
  const x = (a.n < 0n ? -a.n : a.n) * b.d;
  const y = (b.n < 0n ? -b.n : b.n) * a.d;
  return x <= y;
};
/** A double within a relative 2^-60 of the fraction. */
function approx(x: Frac): number {
  const neg = x.n < 0n;
  let n = neg ? -x.n : x.n;
  let d = x.d;
  if (n === 0n) return 0;
  const shift = n.toString(2).length - d.toString(2).length - 64;
  if (shift > 0) d <<= BigInt(shift);
  else n <<= BigInt(-shift);
  const q = Number(n / d) * 2 ** shift;
  return neg ? -q : q;
}
/** The neighbours of a finite double (toward ±Infinity). */
function neighbours(x: number): number[] {
  if (x === 0) return [5e-324, -5e-324];
  const b = bitsOf(x);
  return [fromBits(b + 1n), fromBits(b - 1n)];
}
/** Asserts that `got` is a nearest double to the exact value y. */
function assertNearest(got: number, y: Frac, what: string): void {
  assert(Number.isFinite(got), `${what}: ${got} not finite`);
  const e = sub(frac(got), y);
  for (const nb of neighbours(got)) {
    if (!Number.isFinite(nb)) continue;
    assert(absLess(e, sub(frac(nb), y)), `${what}: ${got} is not the nearest double`);
  }
}

/** floor(sqrt(n)) by Newton's method. */
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

// ---------------------------------------------------------------------------------------------
type Mat = { shape: [number, number]; data: number[] };
const M = (rows: number, cols: number, data: number[]): Mat => ({ shape: [rows, cols], data });
// deno-lint-ignore no-explicit-any
function ask(request: Record<string, unknown>): any {
  return JSON.parse(answerLine(JSON.stringify(request)));
}
function code(request: Record<string, unknown>): string {
  const r = ask(request);
  assertEquals(r.ok, false, JSON.stringify(r));
  return r.error.code;
}
const decode = (v: number | string): number =>
  typeof v === "number"
    ? v
    : ({ "NaN": NaN, "Infinity": Infinity, "-Infinity": -Infinity, "-0": -0 } as Record<
      string,
      number
    >)[v]!;

const value = fc.oneof(
  fc.double({ min: -8, max: 8, noNaN: true }),
  fc.constantFrom(0, -0, 0.1, 1 / 3, 5e-324, 2 ** -1070, 1e300, -1e300, 2 ** 1000),
);
function mat(rows: number, cols: number): fc.Arbitrary<Mat> {
  return fc.array(value, { minLength: rows * cols, maxLength: rows * cols }).map((d) =>
    M(rows, cols, d)
  );
}
/** x (n, in), w (out, in), a (r, in), b (out, r), alpha, bias. */
const problem = fc.tuple(
  fc.integer({ min: 0, max: 2 }),
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: 4 }),
)
  .chain(([n, out, inputs]) =>
    fc.integer({ min: 1, max: Math.min(out, inputs) }).chain((r) =>
      fc.record({
        x: mat(n, inputs),
        w: mat(out, inputs),
        a: mat(r, inputs),
        b: mat(out, r),
        alpha: fc.oneof(
          fc.constantFrom(1, 2, 16, 0.5, -3),
          fc.double({ min: -8, max: 8, noNaN: true }),
        ),
        bias: fc.array(value, { minLength: out, maxLength: out }),
      })
    )
  );

/** s·Σ_t b_it·a_tj exactly, without s: T_ij. */
function exactBA(p: { a: Mat; b: Mat }, i: number, j: number): Frac {
  const r = p.a.shape[0];
  const cols = p.a.shape[1];
  let t = ZERO;
  for (let k = 0; k < r; k++) {
    t = add(t, mul(frac(p.b.data[i * r + k]!), frac(p.a.data[k * cols + j]!)));
  }
  return t;
}

Deno.test("lora.merge and lora.unmerge are correctly rounded (exact value, one rounding)", () => {
  fc.assert(
    fc.property(problem, (p) => {
      const r = p.a.shape[0];
      const s: Frac = div(frac(p.alpha), { n: BigInt(r), d: 1n });
      for (const op of ["lora.merge", "lora.unmerge"]) {
        const res = ask({ id: 1, op, w: p.w, a: p.a, b: p.b, alpha: p.alpha });
        assert(res.ok, JSON.stringify(res));
        assertEquals(res.result.w.shape, p.w.shape);
        const [out, cols] = p.w.shape;
        for (let i = 0; i < out; i++) {
          for (let j = 0; j < cols; j++) {
            const delta = mul(s, exactBA(p, i, j));
            const w = frac(p.w.data[i * cols + j]!);
            const y = op === "lora.merge" ? add(w, delta) : sub(w, delta);
            const got = decode(res.result.w.data[i * cols + j]);
            if (Math.abs(got) === Infinity) continue; // beyond float64: checked separately
            assertNearest(got, y, `${op} (${i}, ${j})`);
          }
        }
      }
    }),
    fcParams(150),
  );
});

Deno.test("lora.forward is correctly rounded, with and without bias", () => {
  fc.assert(
    fc.property(problem, fc.boolean(), (p, withBias) => {
      const r = p.a.shape[0];
      const [n, cols] = p.x.shape;
      const out = p.w.shape[0];
      const s: Frac = div(frac(p.alpha), { n: BigInt(r), d: 1n });
      const req: Record<string, unknown> = {
        op: "lora.forward",
        x: p.x,
        w: p.w,
        a: p.a,
        b: p.b,
        alpha: p.alpha,
      };
      if (withBias) req["bias"] = p.bias;
      const res = ask(req);
      assert(res.ok, JSON.stringify(res));
      assertEquals(res.result.y.shape, [n, out]);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < out; j++) {
          let y = withBias ? frac(p.bias[j]!) : ZERO;
          let lora = ZERO;
          for (let l = 0; l < cols; l++) {
            y = add(y, mul(frac(p.x.data[i * cols + l]!), frac(p.w.data[j * cols + l]!)));
          }
          for (let t = 0; t < r; t++) {
            let h = ZERO;
            for (let l = 0; l < cols; l++) {
              h = add(h, mul(frac(p.x.data[i * cols + l]!), frac(p.a.data[t * cols + l]!)));
            }
            lora = add(lora, mul(h, frac(p.b.data[j * r + t]!)));
          }
          y = add(y, mul(s, lora));
          const got = decode(res.result.y.data[i * out + j]);
          if (Math.abs(got) === Infinity) continue;
          assertNearest(got, y, `forward (${i}, ${j})`);
        }
      }
    }),
    fcParams(100),
  );
});

Deno.test("rsLoRA's s = alpha/sqrt(r) is applied exactly: correctly rounded for r = 2, 3, 4", () => {
  const w = M(4, 4, [1, 0.5, -2, 3, 0.1, 0.2, 0.3, 0.4, 7, -7, 1e-3, 5, 2, 2, 2, 2]);
  for (const r of [2, 3, 4]) {
    const a = M(r, 4, Array.from({ length: 4 * r }, (_, i) => ((i * 7) % 5) - 2 + 0.1 * i));
    const b = M(4, r, Array.from({ length: 4 * r }, (_, i) => ((i * 3) % 4) - 1.5 + 0.01 * i));
    const res = ask({ op: "lora.merge", w, a, b, alpha: 3, rslora: true });
    assert(res.ok);
    // sqrt(r) bracketed by isqrt(r·4^200)/2^200 and (… + 1)/2^200; both ends must round alike.
    const k = 200n;
    const lo = isqrt(BigInt(r) << (2n * k));
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const t = mul(frac(3), exactBA({ a, b }, i, j)); // alpha·T; s·T = alpha·T·sqrt(r)/r
        const base = frac(w.data[i * 4 + j]!);
        const got = res.result.w.data[i * 4 + j];
        for (const root of [lo, lo + 1n]) {
          const y = add(base, div(mul(t, { n: root, d: 1n << k }), { n: BigInt(r), d: 1n }));
          assertNearest(got, y, `rslora r = ${r} (${i}, ${j})`);
        }
      }
    }
  }
});

Deno.test("the oracle's one rounding differs from float64 steps where they lose it (hand-derived)", () => {
  // Forward: x·aᵀ = 0.5·2^−1074 is a tie that float64 rounds to 0; the exact y = 1.5·2^−1074
  // rounds (ties to even) to 2^−1073.
  const f = ask({
    op: "lora.forward",
    x: M(1, 1, [0.5]),
    w: M(1, 1, [0]),
    a: M(1, 1, [5e-324]),
    b: M(1, 1, [3]),
    alpha: 1,
  });
  assertEquals(f.result.y.data, [1e-323]);
  // Merge: b·a = 4·MAX overflows in float64, but s·b·a = MAX exactly and w + MAX = 0.
  const MAX = 1.7976931348623157e308;
  const m = ask({
    op: "lora.merge",
    w: M(1, 1, [-MAX]),
    a: M(1, 1, [MAX]),
    b: M(1, 1, [4]),
    alpha: 0.25,
  });
  assertEquals(m.result.w.data, [0]);
  // A result beyond float64 rounds to Infinity (nearest-even, unbounded exponent).
  const o = ask({
    op: "lora.merge",
    w: M(1, 1, [MAX]),
    a: M(1, 1, [MAX]),
    b: M(1, 1, [1]),
    alpha: 1,
  });
  assertEquals(o.result.w.data, ["Infinity"]);
});

Deno.test("lora.forward agrees with plain float64 within the protocol's 1e-12·M", () => {
  fc.assert(
    fc.property(problem, fc.boolean(), (p, rslora) => {
      const safe = (m: Mat) =>
        M(m.shape[0], m.shape[1], m.data.map((v) => (Math.abs(v) > 1e10 ? 1 : v)));
      const x = safe(p.x), w = safe(p.w), a = safe(p.a), b = safe(p.b);
      const r = a.shape[0];
      const [n, cols] = x.shape;
      const out = w.shape[0];
      const s = rslora ? p.alpha / Math.sqrt(r) : p.alpha / r;
      const res = ask({ op: "lora.forward", x, w, a, b, alpha: p.alpha, rslora });
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < out; j++) {
          let y = 0;
          let big = 0;
          for (let l = 0; l < cols; l++) {
            y += x.data[i * cols + l]! * w.data[j * cols + l]!;
            big += Math.abs(x.data[i * cols + l]! * w.data[j * cols + l]!);
          }
          for (let t = 0; t < r; t++) {
            let h = 0;
            for (let l = 0; l < cols; l++) {
              h += x.data[i * cols + l]! * a.data[t * cols + l]!;
              big += Math.abs(
                s * x.data[i * cols + l]! * a.data[t * cols + l]! * b.data[j * r + t]!,
              );
            }
            y += s * h * b.data[j * r + t]!;
          }
          assertLessOrEqual(
            Math.abs(decode(res.result.y.data[i * out + j]) - y),
            1e-12 * big + 1e-300,
          );
        }
      }
    }),
    fcParams(100),
  );
});

Deno.test("DoRA: merge returns correctly rounded norms and m_i·V_i/n_i, unmerge inverts it", () => {
  const w = M(2, 3, [1, 2, 2, 0.5, -1, 3]);
  const a = M(1, 3, [0.25, -0.5, 1]);
  const b = M(2, 1, [2, -1]);
  for (const rslora of [false, true]) {
    const magnitude = [3, 0.7];
    const res = ask({ op: "lora.merge", w, a, b, alpha: 2, magnitude, rslora });
    assert(res.ok, JSON.stringify(res));
    const norm: number[] = res.result.norm;
    for (let i = 0; i < 2; i++) {
      // V_i exactly (r = 1: s = 2 either way), S = Σ V², and n̂ the nearest double to sqrt(S):
      // (n̂ − ulp/2)² ≤ S ≤ (n̂ + ulp/2)².
      const v = [0, 1, 2].map((j) =>
        add(frac(w.data[i * 3 + j]!), mul(frac(2), exactBA({ a, b }, i, j)))
      );
      const sq = v.reduce((acc, x) => add(acc, mul(x, x)), ZERO);
      const [up, down] = neighbours(norm[i]!);
      const hiMid = div(add(frac(norm[i]!), frac(up!)), frac(2));
      const loMid = div(add(frac(norm[i]!), frac(down!)), frac(2));
      assert(absLess(mul(loMid, loMid), sq) && absLess(sq, mul(hiMid, hiMid)), `norm ${i}`);
      for (let j = 0; j < 3; j++) {
        const exact = (magnitude[i]! * (w.data[i * 3 + j]! + 2 * b.data[i]! * a.data[j]!)) /
          Math.sqrt(approx(sq));
        assertLessOrEqual(
          Math.abs(res.result.w.data[i * 3 + j] - exact),
          4e-16 * Math.abs(exact) + 1e-300,
        );
      }
    }
    const back = ask({
      op: "lora.unmerge",
      w: res.result.w,
      a,
      b,
      alpha: 2,
      magnitude,
      norm,
      rslora,
    });
    back.result.w.data.forEach((v: number, k: number) =>
      assertLessOrEqual(Math.abs(v - w.data[k]!), 1e-15 * 4)
    );
    const x = M(2, 3, [1, 0, 0, 0.5, 0.25, -1]);
    const y = ask({ op: "lora.forward", x, w, a, b, alpha: 2, magnitude, rslora, bias: [1, -1] });
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        let ref = [1, -1][j]!;
        for (let l = 0; l < 3; l++) ref += x.data[i * 3 + l]! * res.result.w.data[j * 3 + l];
        assertLessOrEqual(Math.abs(y.result.y.data[i * 2 + j] - ref), 1e-14);
      }
    }
  }
});

/** Asserts that `got` is the nearest double to num/√S (S > 0), comparing squares exactly. */
function assertNearestQuotient(got: number, num: Frac, sq: Frac, what: string): void {
  // Work with |y| = |num|/√S and |got| (same sign unless y rounds to zero).
  const neg = num.n < 0n;
  const g = neg ? -got : got;
  assert(g >= 0, `${what}: sign of ${got}`);
  const y2 = div(mul(num, num), sq); // y²
  const [up, down] = neighbours(g);
  const hi = div(add(frac(g), frac(up!)), frac(2));
  const lo = div(add(frac(g), frac(down!)), frac(2));
  assert(absLess(y2, mul(hi, hi)), `${what}: ${got} too small`);
  if (lo.n > 0n) assert(absLess(mul(lo, lo), y2), `${what}: ${got} too large`);
}

Deno.test("DoRA merge and forward are correctly rounded on random inputs (m·V/‖V‖ exact)", () => {
  const nonzero = fc.double({ min: -4, max: 4, noNaN: true }).filter((v) => Math.abs(v) > 1e-6);
  fc.assert(
    fc.property(problem, fc.array(nonzero, { minLength: 4, maxLength: 4 }), (p, mags) => {
      const [out, cols] = p.w.shape;
      const r = p.a.shape[0];
      const s = div(frac(p.alpha), { n: BigInt(r), d: 1n });
      const v: Frac[][] = [];
      const sq: Frac[] = [];
      for (let i = 0; i < out; i++) {
        v.push([]);
        let acc = ZERO;
        for (let j = 0; j < cols; j++) {
          const x = add(frac(p.w.data[i * cols + j]!), mul(s, exactBA(p, i, j)));
          v[i]!.push(x);
          acc = add(acc, mul(x, x));
        }
        sq.push(acc);
      }
      const magnitude = mags.slice(0, out);
      const res = ask({ op: "lora.merge", w: p.w, a: p.a, b: p.b, alpha: p.alpha, magnitude });
      if (sq.some((x) => x.n === 0n)) {
        assertEquals(res.error.code, "E_RANGE");
        return;
      }
      assert(res.ok, JSON.stringify(res));
      for (let i = 0; i < out; i++) {
        const norm = decode(res.result.norm[i]);
        if (Number.isFinite(norm)) assertNearestQuotient(norm, sq[i]!, sq[i]!, `norm ${i}`);
        for (let j = 0; j < cols; j++) {
          const got = decode(res.result.w.data[i * cols + j]);
          if (!Number.isFinite(got) || got === 0) continue;
          assertNearestQuotient(got, mul(frac(magnitude[i]!), v[i]![j]!), sq[i]!, `w (${i}, ${j})`);
        }
      }
      const y = ask({
        op: "lora.forward",
        x: p.x,
        w: p.w,
        a: p.a,
        b: p.b,
        alpha: p.alpha,
        magnitude,
      });
      const n = p.x.shape[0];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < out; j++) {
          let xv = ZERO;
          for (let l = 0; l < cols; l++) {
            xv = add(xv, mul(frac(p.x.data[i * cols + l]!), v[j]![l]!));
          }
          const got = decode(y.result.y.data[i * out + j]);
          if (!Number.isFinite(got) || got === 0) continue;
          assertNearestQuotient(got, mul(frac(magnitude[j]!), xv), sq[j]!, `y (${i}, ${j})`);
        }
      }
    }),
    fcParams(60),
  );
});

Deno.test("DoRA: unmerge needs norm (E_ARG), of length out (E_SHAPE), and a nonzero magnitude", () => {
  const base = { w: M(2, 2, [1, 2, 3, 4]), a: M(1, 2, [1, 1]), b: M(2, 1, [1, 1]), alpha: 1 };
  assertEquals(code({ op: "lora.unmerge", ...base, magnitude: [1, 1] }), "E_ARG");
  assertEquals(code({ op: "lora.unmerge", ...base, magnitude: [1, 1], norm: [1] }), "E_SHAPE");
  assertEquals(code({ op: "lora.unmerge", ...base, magnitude: [0, 1], norm: [1, 1] }), "E_RANGE");
  assertEquals(code({ op: "lora.merge", ...base, magnitude: [1] }), "E_SHAPE");
  assertEquals(code({ op: "lora.merge", ...base, magnitude: [1, "NaN"] }), "E_RANGE");
  // A zero row of w + s·b·a has no direction.
  assertEquals(
    code({ op: "lora.merge", ...base, w: M(2, 2, [-1, -1, 3, 4]), magnitude: [1, 1] }),
    "E_RANGE",
  );
  // Without a magnitude, a norm is an unused argument and ignored.
  assert(ask({ op: "lora.unmerge", ...base, norm: [1] }).ok);
});

Deno.test("the worked examples ex19 and ex21 answer as oracle-examples.jsonl says", () => {
  assertEquals(
    answerLine('{"id":"ex19","op":"lora.params","shapes":[[4096,4096]],"rank":8}'),
    '{"id":"ex19","ok":true,"result":{"full":16777216,"lora":65536,"ratio":0.00390625}}',
  );
  const r = ask({
    id: "ex21",
    op: "lora.merge",
    w: M(2, 2, [1, 2, 3, 4]),
    a: M(1, 3, [1, 1, 1]),
    b: M(2, 1, [1, 1]),
    alpha: 1,
  });
  assertEquals([r.id, r.ok, r.error.code], ["ex21", false, "E_SHAPE"]);
});

Deno.test("LoRA ops report faults in the protocol's order: E_ARG, E_SHAPE, E_RANGE", () => {
  const w = M(2, 2, [1, 2, 3, 4]);
  const a = M(1, 2, [1, 1]);
  const b = M(2, 1, [1, 1]);
  const bad = M(1, 3, [1, 1, 1]);
  // E_ARG first: alpha missing or not a number, rslora not a boolean, rank not an integer.
  assertEquals(code({ op: "lora.merge", w, a: bad, b }), "E_ARG");
  assertEquals(code({ op: "lora.merge", w, a: bad, b, alpha: "two" }), "E_ARG");
  assertEquals(code({ op: "lora.merge", w, a, b, alpha: 1, rslora: "yes" }), "E_ARG");
  assertEquals(code({ op: "lora.forward", w, a, b, alpha: 1 }), "E_ARG"); // x missing
  assertEquals(
    code({ op: "lora.merge", w: { shape: [2], data: [1, 2] }, a, b, alpha: 1 }),
    "E_ARG",
  );
  assertEquals(code({ op: "lowrank", m: { shape: [2, 2], data: [1] }, rank: 1.5 }), "E_ARG");
  assertEquals(code({ op: "lowrank", m: w }), "E_ARG");
  // E_SHAPE before E_RANGE: mismatched shapes with NaN or infinite alpha.
  assertEquals(
    code({
      op: "lora.merge",
      w: M(2, 2, [1, "NaN" as unknown as number, 3, 4]),
      a: bad,
      b,
      alpha: "Infinity",
    }),
    "E_SHAPE",
  );
  assertEquals(
    code({ op: "lora.merge", w: { shape: [2, 2], data: [1, 2, 3] }, a, b, alpha: 1 }),
    "E_SHAPE",
  );
  assertEquals(code({ op: "lora.merge", w, a, b: M(2, 2, [1, 1, 1, 1]), alpha: 1 }), "E_SHAPE");
  assertEquals(
    code({
      op: "lora.forward",
      x: M(1, 2, ["NaN" as unknown as number, 1]),
      w,
      a,
      b,
      alpha: 1,
      bias: [1],
    }),
    "E_SHAPE",
  );
  assertEquals(code({ op: "lora.forward", x: M(1, 3, [1, 1, 1]), w, a, b, alpha: 1 }), "E_SHAPE");
  // E_RANGE: rank 0 or above min(out, in), non-finite values.
  assertEquals(code({ op: "lora.merge", w, a: M(0, 2, []), b: M(2, 0, []), alpha: 1 }), "E_RANGE");
  assertEquals(
    code({
      op: "lora.merge",
      w: M(2, 1, [1, 2]),
      a: M(2, 1, [1, 1]),
      b: M(2, 2, [1, 1, 1, 1]),
      alpha: 1,
    }),
    "E_RANGE",
  );
  for (const alpha of ["NaN", "Infinity", "-Infinity"]) {
    assertEquals(code({ op: "lora.merge", w, a, b, alpha }), "E_RANGE");
  }
  assertEquals(
    code({
      op: "lora.unmerge",
      w: M(2, 2, [1, "-Infinity" as unknown as number, 3, 4]),
      a,
      b,
      alpha: 1,
    }),
    "E_RANGE",
  );
  assertEquals(
    code({ op: "lora.forward", x: M(1, 2, ["NaN" as unknown as number, 1]), w, a, b, alpha: 1 }),
    "E_RANGE",
  );
  assertEquals(
    code({ op: "lora.forward", x: M(1, 2, [1, 1]), w, a, b, alpha: 1, bias: [1, "Infinity"] }),
    "E_RANGE",
  );
  assertEquals(code({ op: "svd", m: M(1, 2, [1, "NaN" as unknown as number]) }), "E_RANGE");
  assertEquals(code({ op: "lowrank", m: w, rank: 0 }), "E_RANGE");
  assertEquals(code({ op: "lowrank", m: w, rank: 3 }), "E_RANGE");
  assertEquals(
    code({ op: "lowrank", m: M(2, 2, [1, 2, 3, "Infinity" as unknown as number]), rank: 1 }),
    "E_RANGE",
  );
  // Messages name the argument.
  assert(ask({ op: "lora.merge", w, a, b, alpha: "NaN" }).error.message.includes("alpha"));
  assert(ask({ op: "lora.merge", w, a: bad, b, alpha: 1 }).error.message.includes("a must be"));
});

Deno.test("bad lines get E_PARSE/E_OP and never disturb the next answer; requests are not mutated", () => {
  assertEquals(JSON.parse(answerLine("{not json")).error.code, "E_PARSE");
  assertEquals(JSON.parse(answerLine('{"op":"lora.fuse"}')).error.code, "E_OP");
  const req = {
    id: [1],
    op: "lora.merge",
    w: M(1, 1, [2]),
    a: M(1, 1, [3]),
    b: M(1, 1, [4]),
    alpha: 2,
  };
  const before = JSON.stringify(req);
  assertEquals(ask(req), { id: [1], ok: true, result: { w: { shape: [1, 1], data: [26] } } });
  assertEquals(JSON.stringify(req), before);
});

Deno.test("lora.params counts exactly, as decimal strings above 2^53", () => {
  assertEquals(ask({ op: "lora.params", shapes: [[4096, 4096], [11008, 4096]], rank: 16 }).result, {
    full: 4096 * 4096 + 11008 * 4096,
    lora: 16 * (8192 + 15104),
    ratio: (16 * (8192 + 15104)) / (4096 * 4096 + 11008 * 4096),
  });
  const big =
    ask({ op: "lora.params", shapes: [[2 ** 30, 2 ** 30], [2 ** 30, 2 ** 30]], rank: 1 }).result;
  assertEquals(big, { full: "2305843009213693952", lora: 2 ** 32, ratio: 2 ** -29 });
  assertEquals(code({ op: "lora.params", shapes: [[4, 4]], rank: "8" }), "E_ARG");
  assertEquals(code({ op: "lora.params", shapes: [[4, 4.5]], rank: 1 }), "E_ARG");
  assertEquals(code({ op: "lora.params", shapes: [4, 4], rank: 1 }), "E_ARG");
  assertEquals(code({ op: "lora.params", shapes: [], rank: 1 }), "E_ARG");
  assertEquals(code({ op: "lora.params", rank: 1 }), "E_ARG");
  assertEquals(code({ op: "lora.params", shapes: [[4, 4]], rank: 0 }), "E_RANGE");
  assertEquals(code({ op: "lora.params", shapes: [[4, 4]], rank: 5 }), "E_RANGE");
  assertEquals(code({ op: "lora.params", shapes: [[-4, 4]], rank: 1 }), "E_RANGE");
});

Deno.test("svd and lowrank meet the protocol's bounds on random matrices", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })).chain(([r, c]) =>
        fc.tuple(
          fc.array(fc.double({ min: -10, max: 10, noNaN: true }), {
            minLength: r * c,
            maxLength: r * c,
          }).map((d) => M(r, c, d)),
          fc.integer({ min: 1, max: Math.min(r, c) }),
        )
      ),
      ([m, rank]) => {
        const [rows, cols] = m.shape;
        const k = Math.min(rows, cols);
        const normM = Math.hypot(...m.data);
        const { u, s, v } = ask({ op: "svd", m }).result;
        assertEquals([u.shape, s.length, v.shape], [[rows, k], k, [cols, k]]);
        let err = 0;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            let x = 0;
            for (let t = 0; t < k; t++) x += u.data[i * k + t] * s[t] * v.data[j * k + t];
            err = Math.hypot(err, x - m.data[i * cols + j]!);
          }
        }
        assertLessOrEqual(err, 1e-9 * normM + 1e-300);
        for (let t = 0; t < k; t++) assert(s[t] >= 0 && (t === 0 || s[t] <= s[t - 1]));
        const low = ask({ op: "lowrank", m, rank }).result;
        let tail = 0;
        for (let t = rank; t < k; t++) tail += low.s[t] ** 2;
        assertLessOrEqual(Math.abs(low.error - Math.sqrt(tail)), 1e-10 * normM + 1e-300);
        let resid = 0;
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            let x = 0;
            for (let t = 0; t < rank; t++) x += low.b.data[i * rank + t] * low.a.data[t * cols + j];
            resid = Math.hypot(resid, x - m.data[i * cols + j]!);
          }
        }
        assertLessOrEqual(Math.abs(resid - low.error), 1e-9 * normM + 1e-300);
        for (let t = 0; t < rank; t++) {
          let nb = 0;
          let na = 0;
          for (let i = 0; i < rows; i++) nb += low.b.data[i * rank + t] ** 2;
          for (let j = 0; j < cols; j++) na += low.a.data[t * cols + j] ** 2;
          assertLessOrEqual(Math.abs(nb - low.s[t]) + Math.abs(na - low.s[t]), 1e-9 * low.s[0]);
        }
      },
    ),
    fcParams(100),
  );
  assertEquals(ask({ op: "svd", m: M(0, 3, []) }).result, {
    u: { shape: [0, 0], data: [] },
    s: [],
    v: { shape: [3, 0], data: [] },
  });
});

Deno.test("the E_LIMIT check comes after E_ARG and E_SHAPE and before E_RANGE", () => {
  const context = {
    checkLimit(): void {
      throw limitError("over the limit");
    },
  };
  const codeOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert(isLoraquantError(e));
      return e.code;
    }
    return "ok";
  };
  const w = M(2, 2, [1, 2, 3, 4]);
  const a = M(1, 2, [1, 1]);
  const b = M(2, 1, [1, 1]);
  const nanW = M(2, 2, [1, 2, 3, "NaN" as unknown as number]);
  for (const op of [loraMergeOp, loraUnmergeOp]) {
    assertEquals(codeOf(() => op({ w, a, b }, context)), "E_ARG");
    assertEquals(codeOf(() => op({ w, a: M(1, 3, [1, 1, 1]), b, alpha: 1 }, context)), "E_SHAPE");
    assertEquals(codeOf(() => op({ w: nanW, a, b, alpha: 1 }, context)), "E_LIMIT");
  }
  assertEquals(
    codeOf(() => loraForwardOp({ x: M(1, 2, [1, 1]), w: nanW, a, b, alpha: 1 }, context)),
    "E_LIMIT",
  );
  assertEquals(
    codeOf(() => loraForwardOp({ x: M(1, 3, [1, 1, 1]), w, a, b, alpha: 1 }, context)),
    "E_SHAPE",
  );
  assertEquals(codeOf(() => svdOp({ m: nanW }, context)), "E_LIMIT");
  assertEquals(codeOf(() => svdOp({ m: { shape: [2, 2], data: [1] } }, context)), "E_SHAPE");
  assertEquals(codeOf(() => lowrankOp({ m: w, rank: 9 }, context)), "E_LIMIT");
  assertEquals(codeOf(() => lowrankOp({ m: w, rank: 0.5 }, context)), "E_ARG");
  assertEquals(codeOf(() => loraParamsOp({ shapes: [[4, 4]], rank: 0 }, context)), "E_LIMIT");
  assertEquals(codeOf(() => loraParamsOp({ shapes: [[4, 4]], rank: 0.5 }, context)), "E_ARG");
});
