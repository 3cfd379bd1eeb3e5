import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertLessOrEqual,
  assertStringIncludes,
} from "@std/assert";
import { parseFlags } from "./main.ts";
import type { DemoResults } from "./results.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ENV = { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" };

function demo(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: ENV,
    stdout: "piped",
    stderr: "piped",
  });
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("parseFlags() reads every flag and refuses unknown ones", () => {
  assertEquals(parseFlags(["--quick", "--cpu", "--seed", "7", "--out=x"]), {
    quick: true,
    cpu: true,
    seed: 7,
    out: "x",
    help: false,
  });
  assert("error" in parseFlags(["--fast"]));
  assert("error" in parseFlags(["--seed", "-1"]));
  assert("error" in parseFlags(["--out"]));
});

Deno.test("an unknown flag prints the usage and exits 2", async () => {
  const { code, stderr } = await demo(["--frobnicate"]).output();
  assertEquals(code, 2);
  assertStringIncludes(decode(stderr), "Usage:");
});

Deno.test("an unwritable --out fails before any training, with a clear message", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/a-file`;
  await Deno.writeTextFile(file, "");
  const { code, stdout, stderr } = await demo(["--quick", "--out", `${file}/sub`]).output();
  assertEquals(code, 1);
  assertStringIncludes(decode(stderr), "Cannot write to --out");
  assertEquals(decode(stdout).includes("base model"), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an interrupted run leaves no report behind", async () => {
  const dir = await Deno.makeTempDir();
  const child = demo(["--quick", "--cpu", "--out", dir]).spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("base model")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decode(value);
  }
  child.kill("SIGTERM");
  await reader.cancel();
  await child.stderr.cancel();
  await child.status;
  const left = [...Deno.readDirSync(dir)].map((e) => e.name);
  assertEquals(left, []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--quick shows the lecture's claims on real data (results.json, report.html)", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stdout, stderr } = await demo(["--quick", "--out", dir]).output();
  const out = decode(stdout);
  assertEquals(code, 0, `${out}\n${decode(stderr)}`);
  assert(/^Device: (GPU|reference)/m.test(out), "says which device runs, first");
  const r: DemoResults = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
  const html = await Deno.readTextFile(`${dir}/report.html`);
  assertStringIncludes(html, "<!doctype html>");
  assertEquals(html.match(/<svg /g)?.length, 3);
  assert(!/<script|src="http/.test(html), "self-contained");
  assert(r.device === "gpu" || r.device === "reference");
  // The first line and the JSON agree; with a GPU, it trained and section 8 ran.
  assertEquals(/^Device: GPU/m.test(out), r.device === "gpu");
  assertEquals(r.gpu !== undefined, r.device === "gpu");
  const accuracies = [
    r.base.accuracy,
    ...r.shifted.flatMap((
      s,
    ) => [s.baseAccuracy, s.full.accuracy, ...s.lora.map((l) => l.accuracy)]),
    ...r.quantized.map((q) => q.accuracy),
  ];
  for (const a of accuracies) assert(a >= 0 && a <= 1, `accuracy ${a} in [0, 1]`);
  assertGreaterOrEqual(r.base.accuracy, 0.8);
  assertEquals(r.shifted.map((s) => s.lowRank), [true, false]);
  for (const s of r.shifted) {
    // Both shifts hurt the base model and full fine-tuning recovers.
    assertLessOrEqual(s.baseAccuracy, 0.5, s.task);
    assertGreaterOrEqual(s.full.accuracy - s.baseAccuracy, 0.3, s.task);
    assertEquals(s.lora.map((l) => l.rank), [1, 2, 4, 8, 16]);
  }
  // The claim: on the low-rank task, LoRA at some rank ≤ 8 reaches ≥ 90% of full fine-tuning's
  // accuracy gain with ≤ 10% of its trainable parameters.
  const low = r.shifted[0]!;
  const gain = low.full.accuracy - low.baseAccuracy;
  const winners = low.lora.filter((l) =>
    l.rank <= 8 && l.trainable <= 0.1 * low.full.trainable &&
    l.accuracy - low.baseAccuracy >= 0.9 * gain
  );
  assert(winners.length > 0, JSON.stringify(low.lora));
  // Merged logits agree with the unmerged ones within the stated bound.
  assert(r.merge.withinBound);
  assertEquals(r.merge.argmaxAgreement, 1);
  // int8 within 1 point of float32.
  const byFormat = new Map(r.quantized.map((q) => [q.format, q]));
  assertEquals(
    [...byFormat.keys()],
    [
      "float32",
      "float16",
      "bfloat16",
      "fp8-e4m3",
      "int8",
      "int4",
      "nf4",
      "q4_0",
      "mxfp4",
      "ternary",
    ],
  );
  const f32 = byFormat.get("float32")!;
  assertLessOrEqual(Math.abs(byFormat.get("int8")!.accuracy - f32.accuracy), 0.01);
  assert(byFormat.get("int8")!.bytes < f32.bytes / 3);
  for (const q of r.quantized) assert(q.bytes <= f32.bytes);
  // The spectrum: every layer reports descending singular values.
  for (const s of r.shifted) {
    for (const l of s.spectrum) {
      for (let i = 1; i < l.singularValues.length; i++) {
        assert(l.singularValues[i]! <= l.singularValues[i - 1]!);
      }
    }
  }
  // Mixed precision: the four runs, each reporting the fraction of gradient entries flushed to 0.
  // (That loss scaling keeps small gradients is tested on one batch in mlp_test.ts: two training
  // runs follow different trajectories, so their counts are not comparable entry by entry.)
  assertEquals(
    (r.mixedPrecision ?? []).map((m) => m.compute),
    ["float32", "bfloat16", "float16", "float16+loss-scaling"],
  );
  for (const m of r.mixedPrecision ?? []) {
    assert(m.flushedFraction >= 0 && m.flushedFraction <= 1, `${m.compute}: ${m.flushedFraction}`);
  }
  if (r.gpu) {
    // float32 kernels vs float64: the argmax may flip only on near-ties.
    assertGreaterOrEqual(r.gpu.argmaxAgreement, 0.99);
    assertLessOrEqual(r.gpu.maxAbsDifference, 1e-3);
  }
  const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(left, ["report.html", "results.json"]);
  await Deno.remove(dir, { recursive: true });
});
