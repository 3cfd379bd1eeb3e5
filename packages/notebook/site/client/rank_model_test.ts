import { assert, assertAlmostEquals, assertEquals, assertLess } from "@std/assert";
import {
  LAYER_SHAPES,
  pictureFactors,
  pictureTarget,
  RANK_RANGE,
  rankCount,
} from "./rank_model.ts";

Deno.test("rankCount() counts d·r + r·k against d·k for every shape and rank of the slider", () => {
  for (const [d, k] of LAYER_SHAPES) {
    for (let r = RANK_RANGE[0]; r <= RANK_RANGE[1]; r++) {
      const { full, lora, ratio } = rankCount([d, k], r);
      assertEquals(full, BigInt(d) * BigInt(k));
      assertEquals(lora, BigInt(d * r + r * k));
      assertAlmostEquals(ratio, (d * r + r * k) / (d * k), 1e-16);
    }
  }
});

Deno.test("pictureFactors() gives B (24×r) and A (r×16) whose product has the stated error", () => {
  const target = pictureTarget();
  let previous = Infinity;
  for (let r = 1; r <= 16; r++) {
    const { rank, b, a, product, relativeError } = pictureFactors(target, r);
    assertEquals([rank, b.rows, b.cols, a.rows, a.cols], [r, 24, r, r, 16]);
    assertEquals([product.rows, product.cols], [24, 16]);
    // ‖ΔW − B·A‖_F / ‖ΔW‖_F, computed here by subtraction, matches the spectrum-based error.
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < 24 * 16; i++) {
      diff += (target.data[i]! - product.data[i]!) ** 2;
      norm += target.data[i]! ** 2;
    }
    assertAlmostEquals(relativeError, Math.sqrt(diff / norm), 1e-9);
    // Eckart–Young: a larger rank never approximates worse.
    assertLess(relativeError, previous + 1e-15);
    previous = relativeError;
  }
  assert(previous < 1e-12, `rank 16 reproduces the 24×16 ΔW, error ${previous}`);
});

Deno.test("pictureFactors() draws ranks above 16 at 16, the picture's largest rank", () => {
  const target = pictureTarget();
  for (const r of [17, 40, 64]) assertEquals(pictureFactors(target, r).rank, 16);
});
