import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { IMPL_COLORS, resultsSvg } from "./svg.ts";
import type { BenchResult } from "./result.ts";

const results: BenchResult[] = [
  {
    suite: "matmul-f32",
    case: "register",
    impl: "loraquant-gpu",
    size: 1024,
    medianMs: 100,
    gflops: 21.5,
  },
  {
    suite: "matmul-f32",
    case: "tf.matMul",
    impl: "tfjs-webgpu",
    size: 1024,
    medianMs: 500,
    gflops: 4.3,
  },
  { suite: "s<&>", case: "c\"'", impl: "ort-webgpu", size: 1, medianMs: 1, gflops: 0 },
];

/** The attributes of every `<rect>` that is a bar (those with a `<title>`). */
function bars(svg: string): { width: number; fill: string }[] {
  return [
    ...svg.matchAll(
      /<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="16" fill="(#[0-9a-f]+)">/g,
    ),
  ]
    .map((m) => ({ width: Number(m[1]), fill: m[2]! }));
}

Deno.test("resultsSvg() draws one bar per record, proportional to GFLOP/s, coloured by impl", () => {
  const svg = resultsSvg(results);
  const b = bars(svg);
  assertEquals(b.length, 3);
  assertEquals(b.map((x) => x.fill), [
    IMPL_COLORS["loraquant-gpu"],
    IMPL_COLORS["tfjs-webgpu"],
    IMPL_COLORS["ort-webgpu"],
  ]);
  // The axis ends at 50 (the nice ceiling of 21.5) and is 440 px long.
  assertEquals(b[0]!.width, Number((21.5 / 50 * 440).toFixed(1)));
  assertEquals(b[1]!.width, Number((4.3 / 50 * 440).toFixed(1)));
  assertEquals(b[2]!.width, 0);
  const ticks = [...svg.matchAll(/text-anchor="middle" fill="#555555">([^<]*)</g)].map((m) => m[1]);
  assertEquals(ticks, ["0", "10", "20", "30", "40", "50"]);
});

Deno.test("resultsSvg() is a standalone, well-formed document that escapes its text", () => {
  const svg = resultsSvg(results, { title: "a < b", subtitle: "llvmpipe & co" });
  assert(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert(svg.trimEnd().endsWith("</svg>"));
  assertStringIncludes(svg, "a &#60; b");
  assertStringIncludes(svg, "llvmpipe &#38; co");
  assertStringIncludes(svg, "s&#60;&#38;&#62; · c&#34;&#39; · 1");
  // No raw special character survives inside a text node.
  for (const m of svg.matchAll(/>([^<]*)</g)) {
    assert(!/[<>&](?!#)/.test(m[1]!.replace(/&#\d+;/g, "")));
  }
  // Balanced tags: every opened element is closed.
  const opened = [...svg.matchAll(/<(svg|text|rect|line|title)\b[^>]*?(\/?)>/g)];
  const selfClosed = opened.filter((m) => m[2] === "/").length;
  const closed = [...svg.matchAll(/<\/(svg|text|rect|line|title)>/g)].length;
  assertEquals(opened.length - selfClosed, closed);
});

Deno.test("resultsSvg() draws an empty chart for no records and is deterministic", () => {
  const empty = resultsSvg([]);
  assertEquals(bars(empty).length, 0);
  assertEquals(resultsSvg(results), resultsSvg(results));
});
