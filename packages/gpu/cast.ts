/**
 * Bit-exact casts between float32 and the narrow float formats (float16, bfloat16, fp8-e4m3,
 * fp8-e5m2), as WGSL kernels that use only u32 integer operations.
 *
 * WGSL leaves the rounding of `f16()` and `pack2x16float` to the implementation, so these kernels
 * never convert through a float type: they take float32 bit patterns apart, round the integer
 * significand to nearest, ties to even, and assemble the target's pattern (docs/gpu.md §Casts).
 * The results equal the reference's `encode(roundToFormat(x, format, { saturate }), format)` for
 * every float32 input x, bit for bit:
 *
 * - overflow (the value rounded with an unbounded exponent exceeds max): ±Infinity in float16,
 *   bfloat16 and fp8-e5m2; the canonical NaN 0x7f in fp8-e4m3 (no infinities); ±max under
 *   `saturate` (oracle-protocol.md "cast");
 * - ±Infinity stays ±Infinity (fp8-e4m3: NaN; `saturate`: ±max);
 * - every NaN becomes the format's canonical positive quiet NaN (float16 0x7e00, bfloat16 0x7fc0,
 *   fp8-e5m2 0x7e, fp8-e4m3 0x7f), whatever its sign and payload;
 * - signed zeros keep their sign; subnormals of the target are produced.
 *
 * The widening direction decodes every pattern exactly (all these formats' values are float32
 * values), again with bit operations only, so no flush of subnormals can occur; every NaN pattern
 * decodes to the float32 canonical NaN 0x7fc00000.
 *
 * Layout (both directions): one element per u32 (4 bytes). A narrow pattern sits in the low
 * 8 or 16 bits of its u32, the high bits are zero on output and must be zero on input.
 *
 * @module
 */

/** The narrow formats the cast kernels handle. */
export type GpuFloatFormat = "float16" | "bfloat16" | "fp8-e4m3" | "fp8-e5m2";

/** The names of {@linkcode GpuFloatFormat}, in a fixed order. */
export const GPU_FLOAT_FORMATS: readonly GpuFloatFormat[] = [
  "float16",
  "bfloat16",
  "fp8-e4m3",
  "fp8-e5m2",
];

/** The bit-level description of a format that the kernels' `override` constants take. */
export interface CastFormatConstants {
  /** Width of a pattern in bits. */
  readonly bits: number;
  /** Stored fraction width t. */
  readonly mantissaBits: number;
  /** Smallest normal exponent, emin = 1 − bias. */
  readonly emin: number;
  /** All-ones biased exponent, 2^E − 1. */
  readonly exponentTop: number;
  /** Magnitude pattern (sign bit clear) of the largest finite value. */
  readonly maxPattern: number;
  /** Magnitude pattern of +Infinity; 0 where the format has no infinities. */
  readonly infinityPattern: number;
  /** The canonical positive quiet NaN. */
  readonly nanPattern: number;
}

/**
 * The formats' bit layouts (IEEE 754 binary16; bfloat16; OCP 8-bit floating point v1.0).
 * Written out here rather than derived from the reference, so that the tests compare two
 * independent descriptions.
 */
export const CAST_FORMAT_CONSTANTS: Readonly<Record<GpuFloatFormat, CastFormatConstants>> = {
  // 1 sign, 5 exponent (bias 15), 10 fraction; max 65504 = 0x7bff; Inf 0x7c00; NaN 0x7e00.
  "float16": {
    bits: 16,
    mantissaBits: 10,
    emin: -14,
    exponentTop: 31,
    maxPattern: 0x7bff,
    infinityPattern: 0x7c00,
    nanPattern: 0x7e00,
  },
  // 1 sign, 8 exponent (bias 127), 7 fraction; max 0x7f7f; Inf 0x7f80; NaN 0x7fc0.
  "bfloat16": {
    bits: 16,
    mantissaBits: 7,
    emin: -126,
    exponentTop: 255,
    maxPattern: 0x7f7f,
    infinityPattern: 0x7f80,
    nanPattern: 0x7fc0,
  },
  // 1 sign, 4 exponent (bias 7), 3 fraction; max 448 = 0x7e; no Inf; NaN S.1111.111 (0x7f).
  "fp8-e4m3": {
    bits: 8,
    mantissaBits: 3,
    emin: -6,
    exponentTop: 15,
    maxPattern: 0x7e,
    infinityPattern: 0,
    nanPattern: 0x7f,
  },
  // 1 sign, 5 exponent (bias 15), 2 fraction; max 57344 = 0x7b; Inf 0x7c; NaN 0x7e.
  "fp8-e5m2": {
    bits: 8,
    mantissaBits: 2,
    emin: -14,
    exponentTop: 31,
    maxPattern: 0x7b,
    infinityPattern: 0x7c,
    nanPattern: 0x7e,
  },
};

/**
 * Narrows float32 to a format (eq. (C1)–(C4) of docs/gpu.md §Casts), nearest-even.
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 16 bytes: `count: u32` elements, `rowStride: u32` invocations per row
 *   of the 2-D dispatch grid, two u32 of padding;
 * - 1 `x`: storage read, `array<u32>`, (count) float32 bit patterns, 4 bytes each;
 * - 2 `y`: storage read_write, `array<u32>`, (count) patterns, one per u32 in its low bits.
 *
 * Workgroup: 256 invocations; invocation (gx, gy) handles element gy·rowStride + gx.
 * Override constants: `MANTISSA_BITS`, `EMIN`, `SIGN_SHIFT` (= bits − 1), `MAX_PATTERN`,
 * `INF_PATTERN` (0: no infinities), `NAN_PATTERN`, `SATURATE` (0 or 1).
 */
export const CAST_ENCODE_WGSL: string = /* wgsl */ `
override MANTISSA_BITS: u32;
override EMIN: i32;
override SIGN_SHIFT: u32;
override MAX_PATTERN: u32;
override INF_PATTERN: u32;
override NAN_PATTERN: u32;
override SATURATE: u32;

struct Params { count: u32, rowStride: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;       // (count) float32 bits
@group(0) @binding(2) var<storage, read_write> y: array<u32>; // (count) target patterns

// The result of a value beyond max (or an infinity): (C4).
fn beyondMax(sign: u32) -> u32 {
  if (SATURATE != 0u) { return sign | MAX_PATTERN; }
  if (INF_PATTERN == 0u) { return NAN_PATTERN; }
  return sign | INF_PATTERN;
}

fn encode(bits: u32) -> u32 {
  let sign = (bits >> 31u) << SIGN_SHIFT;
  let a = bits & 0x7fffffffu;
  if (a > 0x7f800000u) { return NAN_PATTERN; }  // every NaN: canonical, positive
  if (a == 0x7f800000u) { return beyondMax(sign); }
  // (C1) |x| = m · 2^(ef − 150), ef >= 1 (float32 subnormals share the quantum of ef = 1).
  let field = a >> 23u;
  let ef = max(field, 1u);
  var m = a & 0x7fffffu;
  if (field != 0u) { m = m | 0x800000u; }
  // (C2) the target exponent et = max(e, emin) fixes the quantum 2^(et − t); drop s bits.
  // s >= 23 − t >= 13; beyond 25 every m < 2^24 rounds to 0 anyway, so s is clamped there.
  let et = max(i32(ef) - 127, EMIN);
  let s = u32(min(et - i32(MANTISSA_BITS) - (i32(ef) - 150), 25));
  let kept = m >> s;
  let rest = m & ((1u << s) - 1u);
  let half = 1u << (s - 1u);
  var q = kept;
  if (rest > half || (rest == half && (kept & 1u) == 1u)) { q = kept + 1u; }  // ties to even
  // (C3) pattern = (et − emin)·2^t + q: covers subnormals (q < 2^t at et = emin), normals (q
  // carries the hidden bit) and a carry into the next binade (q = 2^(t+1)).
  let pattern = (u32(et - EMIN) << MANTISSA_BITS) + q;
  if (pattern > MAX_PATTERN) { return beyondMax(sign); }
  return sign | pattern;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.y * params.rowStride + id.x;
  if (i >= params.count) { return; }
  y[i] = encode(x[i]);
}
`;

/**
 * Widens a format's patterns to float32 bit patterns, exactly (eq. (C5) of docs/gpu.md §Casts).
 *
 * Bindings (group 0):
 * - 0 `params`: uniform, 16 bytes: `count: u32`, `rowStride: u32`, two u32 of padding;
 * - 1 `x`: storage read, `array<u32>`, (count) patterns, one per u32 in its low bits;
 * - 2 `y`: storage read_write, `array<u32>`, (count) float32 bit patterns.
 *
 * Workgroup: 256 invocations, indexed as in {@linkcode CAST_ENCODE_WGSL}.
 * Override constants: `MANTISSA_BITS`, `EMIN`, `SIGN_SHIFT` (= bits − 1), `EXPONENT_TOP`,
 * `NAN_ONLY` (1 for fp8-e4m3, whose only NaN is S.1111.111 and which has no infinities).
 */
export const CAST_DECODE_WGSL: string = /* wgsl */ `
override MANTISSA_BITS: u32;
override EMIN: i32;
override SIGN_SHIFT: u32;
override EXPONENT_TOP: u32;
override NAN_ONLY: u32;

struct Params { count: u32, rowStride: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;       // (count) narrow patterns
@group(0) @binding(2) var<storage, read_write> y: array<u32>; // (count) float32 bits

fn decode(p: u32) -> u32 {
  let sign = ((p >> SIGN_SHIFT) & 1u) << 31u;
  let magnitudeMask = (1u << SIGN_SHIFT) - 1u;
  let magnitude = p & magnitudeMask;
  let biased = magnitude >> MANTISSA_BITS;
  let f = magnitude & ((1u << MANTISSA_BITS) - 1u);
  if (NAN_ONLY != 0u) {
    if (magnitude == magnitudeMask) { return 0x7fc00000u; }
  } else if (biased == EXPONENT_TOP) {
    if (f == 0u) { return sign | 0x7f800000u; }
    return 0x7fc00000u;  // every NaN: the canonical float32 NaN
  }
  if (biased == 0u) {
    if (f == 0u) { return sign; }  // signed zero
    // Subnormal f · 2^(emin − t): normalise on the leading bit h of f.
    let h = firstLeadingBit(f);
    let e32 = EMIN - i32(MANTISSA_BITS) + i32(h) + 127;
    if (e32 >= 1) { return sign | (u32(e32) << 23u) | ((f << (23u - h)) & 0x7fffffu); }
    // A float32 subnormal too (bfloat16): f · 2^(emin − t) = (f << (emin − t + 149)) · 2^−149.
    // Reached only where that shift is below 32; the mask keeps the pipeline-time constant
    // expression valid for the formats whose shift would be wider (float16: 125).
    return sign | (f << (u32(EMIN - i32(MANTISSA_BITS) + 149) & 31u));
  }
  // Normal: exponent biased − bias = biased − 1 + emin; fraction widened to 23 bits.
  let e32 = i32(biased) - 1 + EMIN + 127;
  return sign | (u32(e32) << 23u) | (f << (23u - MANTISSA_BITS));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.y * params.rowStride + id.x;
  if (i >= params.count) { return; }
  y[i] = decode(x[i]);
}
`;

/** Invocations per workgroup of both cast kernels. */
export const CAST_WORKGROUP_SIZE = 256;

/**
 * The override constants of {@linkcode CAST_ENCODE_WGSL} for a format.
 *
 * @param format The target format.
 * @param saturate Whether values beyond ±max (±Infinity included) clamp to ±max.
 * @returns The constants, by their WGSL names.
 *
 * @example fp8-e4m3 has no infinity pattern; its largest finite pattern is 0x7e (448)
 * ```ts
 * import { encodeConstants } from "@loraquant/gpu/cast";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(encodeConstants("fp8-e4m3", true).MAX_PATTERN, 0x7e);
 * assertEquals(encodeConstants("fp8-e4m3", false).INF_PATTERN, 0);
 * ```
 */
export function encodeConstants(
  format: GpuFloatFormat,
  saturate: boolean,
): Record<string, number> {
  const c = CAST_FORMAT_CONSTANTS[format];
  return {
    MANTISSA_BITS: c.mantissaBits,
    EMIN: c.emin,
    SIGN_SHIFT: c.bits - 1,
    MAX_PATTERN: c.maxPattern,
    INF_PATTERN: c.infinityPattern,
    NAN_PATTERN: c.nanPattern,
    SATURATE: saturate ? 1 : 0,
  };
}

/**
 * The override constants of {@linkcode CAST_DECODE_WGSL} for a format.
 *
 * @param format The source format.
 * @returns The constants, by their WGSL names.
 *
 * @example bfloat16 shares float32's exponent range
 * ```ts
 * import { decodeConstants } from "@loraquant/gpu/cast";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(decodeConstants("bfloat16").EMIN, -126);
 * ```
 */
export function decodeConstants(format: GpuFloatFormat): Record<string, number> {
  const c = CAST_FORMAT_CONSTANTS[format];
  return {
    MANTISSA_BITS: c.mantissaBits,
    EMIN: c.emin,
    SIGN_SHIFT: c.bits - 1,
    EXPONENT_TOP: c.exponentTop,
    NAN_ONLY: c.infinityPattern === 0 ? 1 : 0,
  };
}
