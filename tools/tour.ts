// deno task tour — a tour of @loraquant/reference, every figure computed live,
// ending with the oracle checked against the protocol's worked examples.
import { FLOAT_FORMAT_NAMES, FLOAT_FORMATS } from "../packages/reference/format.ts";
import { roundToFormat } from "../packages/reference/cast.ts";
import { ACCUMULATION_TABLE } from "../packages/reference/dtype.ts";
import { answerLine } from "../packages/reference/oracle.ts";

const bold = (s: string) => Deno.noColor ? s : `\x1b[1m${s}\x1b[0m`;
const section = (n: number, title: string) => console.log(`\n${bold(`${n}. ${title}`)}`);

/** Asks the oracle, as any client would, and returns the result (throws on an error answer). */
function ask(request: Record<string, unknown>): Record<string, unknown> {
  const answer = JSON.parse(answerLine(JSON.stringify(request)));
  if (!answer.ok) throw new Error(`${request.op}: ${answer.error.code} ${answer.error.message}`);
  return answer.result;
}

function table(rows: (string | number)[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const [i, r] of rows.entries()) {
    console.log("  " + r.map((v, c) => String(v).padEnd(widths[c]!)).join("  "));
    if (i === 0) console.log("  " + widths.map((w) => "─".repeat(w)).join("  "));
  }
}

console.log(bold("loraquant — the exact arithmetic of LoRA and quantization"));

section(1, "Nine number formats");
table([
  ["format", "bits", "E", "t", "bias", "max", "min normal", "min subnormal", "Inf", "NaN"],
  ...FLOAT_FORMAT_NAMES.map((n) => {
    const f = FLOAT_FORMATS[n];
    return [
      n,
      f.bits,
      f.exponentBits,
      f.mantissaBits,
      f.bias,
      f.max.toPrecision(6),
      f.minNormal.toExponential(3),
      f.minSubnormal.toExponential(3),
      f.hasInfinity ? "yes" : "no",
      f.hasNaN ? "yes" : "no",
    ];
  }),
]);

section(2, "Round once: double rounding through float32 changes the answer");
const trap = 1 + 2 ** -11 + 2 ** -40;
console.log(`  x = 1 + 2⁻¹¹ + 2⁻⁴⁰ = ${trap}`);
console.log(
  `  float16(x)          = ${
    roundToFormat(trap, "float16")
  }   (one rounding, from the exact value)`,
);
console.log(
  `  float16(float32(x)) = ${
    roundToFormat(roundToFormat(trap, "float32"), "float16")
  }              (the tie created by float32 goes to even)`,
);

section(3, "Overflow rules: int8 127 + 127");
table([
  ["overflow", "result", "overflowed"],
  ...(["wrap", "saturate", "widen"] as const).map((overflow) => {
    const r = ask({ op: "int", fn: "add", dtype: "int8", a: [127], b: [127], overflow });
    return [overflow, (r.y as number[])[0]!, String((r.overflowed as boolean[])[0])];
  }),
  [
    "error",
    JSON.parse(answerLine('{"op":"int","fn":"add","dtype":"int8","a":[127],"b":[127]}')).error.code,
    "true",
  ],
]);

section(4, "Accumulation types: a sum of 3000 ones");
const ones = { shape: [1, 3000], data: Array(3000).fill(1) };
const col = { shape: [3000, 1], data: Array(3000).fill(1) };
for (const accumulate of ["float16", "bfloat16", "float32"]) {
  const r = ask({ op: "matmul", a: ones, b: col, dtype: "float16", accumulate }) as {
    y: { data: number[] };
  };
  console.log(`  float16 inputs, ${accumulate.padEnd(8)} accumulator: ${r.y.data[0]}`);
}
console.log("  Usual pairings (input → accumulator):");
for (const row of ACCUMULATION_TABLE) {
  console.log(`    ${row.input.padEnd(9)} → ${row.accumulate.padEnd(8)} ${row.why}`);
}

section(5, "The same scale, two ecosystems: fbgemm's own example");
for (const profile of ["exact", "pytorch", "onnx"]) {
  const r = ask({
    op: "quantize",
    x: { shape: [1, 1], data: [0.273939937] },
    dtype: "uint8",
    scheme: "asymmetric",
    granularity: "tensor",
    profile,
    scale: [0.00214854861],
    zeroPoint: [0],
  }) as { q: { data: number[] } };
  console.log(`  profile ${profile.padEnd(8)} q = ${r.q.data[0]}`);
}

section(6, "Block formats on the same data: llama.cpp, bitsandbytes, OCP MX");
const block = Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 5)));
for (const format of ["q4_0", "q8_0", "nf4", "mxfp4"]) {
  const x = format === "nf4" ? block : block.slice(0, 32);
  const r = ask({ op: "block", format, x }) as { y: number[] };
  const m = ask({ op: "metrics", x, y: r.y }) as { sqnrDb: number; maxAbs: number };
  console.log(
    `  ${format.padEnd(6)} SQNR ${m.sqnrDb.toFixed(2).padStart(6)} dB   max |error| ${
      m.maxAbs.toFixed(4)
    }`,
  );
}

section(7, "LoRA: parameters of one 4096×4096 projection");
for (const rank of [1, 8, 64]) {
  const r = ask({ op: "lora.params", shapes: [[4096, 4096]], rank }) as {
    full: number;
    lora: number;
    ratio: number;
  };
  console.log(
    `  rank ${String(rank).padStart(2)}: ${r.lora.toLocaleString("en")} trainable of ${
      r.full.toLocaleString("en")
    } (${(r.ratio * 100).toFixed(3)} %)`,
  );
}

section(8, "The oracle against the protocol's worked examples");
const examplesPath = new URL("../../shared/oracle-examples.jsonl", import.meta.url);
const fallback = new URL("../packages/reference/testdata/oracle-examples.jsonl", import.meta.url);
const text = await Deno.readTextFile(examplesPath).catch(() => Deno.readTextFile(fallback));
let agree = 0, total = 0;
for (const line of text.split("\n").filter((l) => l.trim())) {
  const { request, response } = JSON.parse(line);
  const actual = JSON.parse(
    answerLine(typeof request === "string" ? request : JSON.stringify(request)),
  );
  total++;
  const same = response.ok
    ? actual.ok && JSON.stringify(actual.result) === JSON.stringify(response.result)
    : !actual.ok && actual.error.code === response.error.code;
  if (same) agree++;
  else console.log(`  ✗ ${JSON.stringify(response.id)}: ${JSON.stringify(actual).slice(0, 120)}`);
}
console.log(`  ${agree} of ${total} worked examples answered exactly as expected.`);
console.log(`\nNext: deno task oracle < your-requests.jsonl   (docs/oracle.md)`);
if (agree !== total) Deno.exit(1);
