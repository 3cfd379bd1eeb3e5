import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { answerLine } from "./dispatch.ts";
import { fcParams } from "../_testing.ts";

/** Example ex18: ../shared's normative copy where it exists, else the one in testdata/. */
async function ex18(): Promise<{ request: Record<string, unknown>; response: unknown }> {
  const shared = new URL("../../../../shared/oracle-examples.jsonl", import.meta.url);
  const local = new URL("../testdata/oracle-examples.jsonl", import.meta.url);
  let text: string;
  try {
    text = await Deno.readTextFile(shared);
  } catch {
    text = await Deno.readTextFile(local);
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))
    .find((e) => e.request.id === "ex18");
}

/** Sends one request object; returns the parsed response. */
function ask(request: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(answerLine(JSON.stringify(request)));
}

/** The error code of a response, or "ok". */
function codeOf(request: Record<string, unknown>): string {
  const r = ask(request);
  if (r["ok"] === true) return "ok";
  const error = r["error"] as { code: string; message: string };
  assert(error.message.length > 0);
  return error.code;
}

/** 32 values: the given head, zeros after it. */
function block(...head: unknown[]): unknown[] {
  return [...head, ...new Array(32 - head.length).fill(0)];
}

const FORMATS = [
  "q8_0",
  "q4_0",
  "q4_1",
  "nf4",
  "fp4-bnb",
  "mxint8",
  "mxfp8-e4m3",
  "mxfp8-e5m2",
  "mxfp6-e2m3",
  "mxfp6-e3m2",
  "mxfp4",
];

Deno.test("`block` answers oracle example ex18 (q8_0) exactly", async () => {
  const { request, response } = await ex18();
  assertEquals(JSON.parse(answerLine(JSON.stringify(request))), response);
});

Deno.test('`block` encodes q4_0\'s all-zero block as scale "-0" and y "-0"', () => {
  const r = ask({ id: 1, op: "block", format: "q4_0", x: block() });
  assertEquals(r, {
    id: 1,
    ok: true,
    result: {
      blocks: [{ scale: "-0", scaleBits: 0x8000, codes: new Array(32).fill(8) }],
      y: new Array(32).fill("-0"),
    },
  });
});

Deno.test("`block` gives q4_1 blocks a min and minBits", () => {
  // min −2, max 28: d = 2, m = −2 (float16 0xc000); x = 5 → (5 + 2)·0.5 + 0.5 = 4.
  const r = ask({ id: 2, op: "block", format: "q4_1", x: block(-2, 28, 5) });
  const result = r["result"] as { blocks: Record<string, unknown>[]; y: unknown[] };
  assertEquals(result.blocks[0]!["scale"], 2);
  assertEquals(result.blocks[0]!["scaleBits"], 0x4000);
  assertEquals(result.blocks[0]!["min"], -2);
  assertEquals(result.blocks[0]!["minBits"], 0xc000);
  assertEquals((result.blocks[0]!["codes"] as number[]).slice(0, 4), [0, 15, 4, 1]);
  assertEquals(result.y.slice(0, 4), [-2, 28, 6, 0]);
  // q4_0 and q8_0 blocks carry no min.
  const q80 = ask({ id: 3, op: "block", format: "q8_0", x: block(1) });
  assert(!("min" in (q80["result"] as { blocks: object[] }).blocks[0]!));
});

Deno.test("`block` answers nf4/fp4-bnb with block 64 by default and float32 absmax bits", () => {
  const x = [...block(4, -2), ...new Array(32).fill(0)];
  const r = ask({ id: 4, op: "block", format: "nf4", x });
  const result = r["result"] as { blocks: { scale: number; scaleBits: number; codes: number[] }[] };
  assertEquals(result.blocks.length, 1);
  assertEquals(result.blocks[0]!.scale, 4);
  assertEquals(result.blocks[0]!.scaleBits, 0x40800000);
  assertEquals(result.blocks[0]!.codes.slice(0, 3), [15, 2, 7]); // −0.5: nearest is −0.525…
  const small = ask({ id: 5, op: "block", format: "fp4-bnb", x: block(1, -0), blockSize: 32 });
  assertEquals((small["result"] as { y: unknown[] }).y.slice(0, 2), [1, 0]);
});

Deno.test('`block` answers MX NaN blocks with scale "NaN", byte 255 and y "NaN"', () => {
  const r = ask({ id: 6, op: "block", format: "mxfp4", x: [...block("NaN"), ...block(6, -3)] });
  const result = r["result"] as { blocks: Record<string, unknown>[]; y: unknown[] };
  assertEquals(result.blocks[0], { scale: "NaN", scaleBits: 255, codes: new Array(32).fill(0) });
  assertEquals(result.y.slice(0, 32), new Array(32).fill("NaN"));
  // Second block: amax 6 → e = 2 − 2 = 0; 6 → 0b0111, −3 → 0b1101.
  assertEquals(result.blocks[1]!["scaleBits"], 127);
  assertEquals((result.blocks[1]!["codes"] as number[]).slice(0, 2), [0b0111, 0b1101]);
  assertEquals(result.y.slice(32, 35), [6, -3, 0]);
});

Deno.test("`block` applies MX scaleMode and ignores it for other formats", () => {
  const x = block(7.5);
  const exponent = (scaleMode: string) =>
    ((ask({ op: "block", format: "mxfp4", x, scaleMode })["result"] as {
      blocks: { scaleBits: number }[];
    }).blocks[0]!.scaleBits) - 127;
  assertEquals(exponent("floor"), 0);
  assertEquals(exponent("ceil"), 1);
  assertEquals(exponent("even"), 1); // 7.5 → 8 with one fraction bit
  assertEquals(exponent("rceil"), 1); // 7.5/6 → 2¹
  assertEquals(codeOf({ op: "block", format: "q8_0", x, scaleMode: "nonsense" }), "ok");
  assertEquals(codeOf({ op: "block", format: "nf4", x, blockSize: 32, scaleMode: 3 }), "ok");
  const r = ask({ op: "block", format: "mxfp4", x });
  assertEquals(r["id"], null);
});

Deno.test("`block` reports each fault with its code", () => {
  const x = block(1);
  const cases: [Record<string, unknown>, string][] = [
    [{ x }, "E_ARG"], // format missing
    [{ format: "q5_0", x }, "E_ARG"],
    [{ format: 8, x }, "E_ARG"],
    [{ format: "q8_0" }, "E_ARG"], // x missing
    [{ format: "q8_0", x: "1,2" }, "E_ARG"],
    [{ format: "q8_0", x: [1, "one"] }, "E_ARG"],
    [{ format: "q8_0", x, blockSize: 64 }, "E_ARG"], // ggml: only 32
    [{ format: "mxint8", x, blockSize: 16 }, "E_ARG"], // MX: only 32
    [{ format: "nf4", x, blockSize: 48 }, "E_ARG"], // not a bitsandbytes block size
    [{ format: "nf4", x, blockSize: 32.5 }, "E_ARG"], // not an integer
    [{ format: "nf4", x, blockSize: "32" }, "E_ARG"],
    [{ format: "mxfp8-e4m3", x, scaleMode: "up" }, "E_ARG"],
    [{ format: "q4_0", x: [1, 2, 3] }, "E_SHAPE"],
    [{ format: "nf4", x }, "E_SHAPE"], // 32 is not a multiple of the default 64
    [{ format: "q8_0", x: block("NaN") }, "E_RANGE"],
    [{ format: "nf4", x: block("Infinity"), blockSize: 32 }, "E_RANGE"],
    [{ format: "q4_1", x: block(1e39) }, "E_RANGE"], // beyond float32: rounds to Infinity
    [{ format: "mxfp6-e3m2", x: block("-Infinity") }, "E_RANGE"],
    [{ format: "mxfp8-e5m2", x: block("NaN") }, "ok"],
    [{ format: "q8_0", x: [], blockSize: 32 }, "ok"],
    [{ format: "nf4", x, blockSize: 32 }, "ok"],
  ];
  for (const [request, code] of cases) {
    assertEquals(codeOf({ id: 0, op: "block", ...request }), code, JSON.stringify(request));
  }
});

Deno.test("`block` reports faults in the protocol's order: E_ARG, E_SHAPE, E_RANGE", () => {
  // A bad blockSize wins over a bad length; a bad length wins over NaN.
  assertEquals(codeOf({ op: "block", format: "q8_0", x: ["NaN"], blockSize: 16 }), "E_ARG");
  assertEquals(codeOf({ op: "block", format: "mxfp4", x: ["NaN"], scaleMode: "x" }), "E_ARG");
  assertEquals(codeOf({ op: "block", format: "nf4", x: [1, "x"], blockSize: 32 }), "E_ARG");
  assertEquals(codeOf({ op: "block", format: "q4_0", x: ["NaN", 1, 2] }), "E_SHAPE");
  assertEquals(codeOf({ op: "block", format: "mxint8", x: ["Infinity"] }), "E_SHAPE");
  assertEquals(codeOf({ op: "block", x: ["NaN"], blockSize: 7 }), "E_ARG");
  // Unparseable lines and bad ops come first.
  assertEquals(JSON.parse(answerLine('{"op":"block",')).error.code, "E_PARSE");
  assertEquals(codeOf({ op: "blocks", format: "q8_0", x: block() }), "E_OP");
});

Deno.test("`block` results are JSON-encoded per the protocol for every format", () => {
  const value = fc.oneof(
    fc.double({ noNaN: true, min: -1e30, max: 1e30 }),
    fc.constantFrom(0, -0, 1e-45, -1e-40, 0.5, -2.5),
  );
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 64, maxLength: 64 }),
      fc.constantFrom(...FORMATS),
      (x, format) => {
        const wire = x.map((v) => Object.is(v, -0) ? "-0" : v);
        const r = ask({ id: "p", op: "block", format, x: wire });
        assertEquals(r["ok"], true, JSON.stringify(r).slice(0, 300));
        const result = r["result"] as {
          blocks: { scale: unknown; scaleBits: number; codes: unknown[] }[];
          y: unknown[];
        };
        const size = format === "nf4" || format === "fp4-bnb" ? 64 : 32;
        assertEquals(result.blocks.length, 64 / size);
        assertEquals(result.y.length, 64);
        for (const b of result.blocks) {
          assertEquals(b.codes.length, size);
          assert(b.codes.every((c) => typeof c === "number" && Number.isInteger(c)));
          assert(b.codes.every((c) => !Object.is(c, -0)));
          assert(Number.isInteger(b.scaleBits) && b.scaleBits >= 0);
          assert(
            typeof b.scale === "number" ||
              ["-0", "NaN", "Infinity", "-Infinity"].includes(b.scale as string),
          );
        }
        for (const v of result.y) {
          assert(
            typeof v === "number" || ["-0", "NaN", "Infinity", "-Infinity"].includes(v as string),
          );
        }
      },
    ),
    fcParams(100),
  );
});
