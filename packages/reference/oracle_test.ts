import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { answerLine, info, serve } from "./oracle.ts";
import { fcParams } from "./_testing.ts";

/** The worked examples: ../shared's normative copy where it exists, else the one in testdata/. */
async function examples(): Promise<{ request: unknown; response: Record<string, unknown> }[]> {
  const shared = new URL("../../../shared/oracle-examples.jsonl", import.meta.url);
  const local = new URL("./testdata/oracle-examples.jsonl", import.meta.url);
  let text: string;
  try {
    text = await Deno.readTextFile(shared);
  } catch {
    text = await Deno.readTextFile(local);
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/** Compares a response with an expected one: results exactly, errors by code (messages are free). */
function assertResponse(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  assertEquals(actual["id"], expected["id"]);
  assertEquals(actual["ok"], expected["ok"], JSON.stringify(actual).slice(0, 300));
  if (expected["ok"]) assertEquals(actual["result"], expected["result"]);
  else {
    const e = expected["error"] as { code: string };
    const a = actual["error"] as { code: string; message: string };
    assertEquals(a.code, e.code, a.message);
    assert(typeof a.message === "string" && a.message.length > 0);
  }
}

Deno.test("the oracle answers every worked example of oracle-examples.jsonl", async () => {
  for (const { request, response } of await examples()) {
    const line = typeof request === "string" ? request : JSON.stringify(request);
    assertResponse(JSON.parse(answerLine(line)), response);
  }
});

async function run(input: string | Uint8Array[], limits = {}): Promise<string[]> {
  const chunks = typeof input === "string" ? [new TextEncoder().encode(input)] : input;
  const source = ReadableStream.from(chunks);
  const sink: Uint8Array[] = [];
  await serve(source, new WritableStream({ write: (c) => void sink.push(c) }), limits);
  const text = new TextDecoder().decode(new Uint8Array(sink.flatMap((c) => [...c])));
  assert(text === "" || text.endsWith("\n"), "every response ends its line");
  return text.split("\n").slice(0, -1);
}

const CAST = '{"id":7,"op":"cast","format":"float16","x":[1,65520]}';
const CAST_RESULT = { y: [1, "Infinity"], bits: [15360, 31744] };

Deno.test("a bad line never stops the stream: each line is answered in order", async () => {
  const lines = [
    CAST,
    "not json",
    "[1,2]",
    '{"id":"a"}',
    '{"id":"b","op":42}',
    '{"id":"c","op":"frobnicate"}',
    '{"op":"cast","format":"float16","x":[2]}',
    '{"id":{"nested":[1]},"op":"cast","format":"bfloat16","x":"oops"}',
    "   ",
    "",
    CAST,
  ];
  const out = (await run(lines.join("\n") + "\n")).map((l) => JSON.parse(l));
  assertEquals(out.length, 9, "white-space lines get no answer");
  assertEquals(out[0], { id: 7, ok: true, result: CAST_RESULT });
  assertEquals(out.slice(1, 6).map((r) => [r.id, r.error.code]), [
    [null, "E_PARSE"],
    [null, "E_PARSE"],
    ["a", "E_OP"],
    ["b", "E_OP"],
    ["c", "E_OP"],
  ]);
  assertEquals(out[6], { id: null, ok: true, result: { y: [2], bits: [16384] } });
  assertEquals([out[7].id, out[7].error.code], [{ nested: [1] }, "E_ARG"]);
  assertEquals(out[8], { id: 7, ok: true, result: CAST_RESULT });
});

Deno.test("the stream is answered the same however its bytes are split into chunks", async () => {
  const text = [
    CAST,
    "garbage",
    '{"id":"é","op":"decode","format":"fp8-e4m3","bits":[126,127]}',
    CAST,
  ]
    .join("\r\n");
  const bytes = new TextEncoder().encode(text); // no final newline: the last line still counts
  const whole = await run([bytes]);
  assertEquals(whole.length, 4);
  assertEquals(JSON.parse(whole[2]!).result, { y: [448, "NaN"] });
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
      async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = points.slice(1).map((end, i) => bytes.slice(points[i], end));
        assertEquals(await run(chunks), whole);
      },
    ),
    fcParams(100),
  );
});

Deno.test("a line above the byte limit is answered E_LIMIT and skipped, and the next one answered", async () => {
  const long = `{"id":1,"op":"cast","format":"float16","x":[${"1,".repeat(600)}1]}`;
  const out = (await run([CAST, long, CAST].join("\n"), { maxLineBytes: 1000 })).map((l) =>
    JSON.parse(l)
  );
  assertEquals(out.map((r) => r.ok), [true, false, true]);
  assertEquals(out[1].error.code, "E_LIMIT");
  assert(out[1].error.message.includes("1000"), "the message names the limit");
});

Deno.test("a request with more numbers than the limit is E_LIMIT, after its E_ARG and E_SHAPE faults", () => {
  const big = JSON.stringify({ id: 1, op: "cast", format: "float16", x: Array(101).fill(1) });
  const r = JSON.parse(answerLine(big, { maxNumbers: 100 }));
  assertEquals(r.error.code, "E_LIMIT");
  const bad = JSON.stringify({ id: 1, op: "cast", format: "float12", x: Array(101).fill(1) });
  assertEquals(JSON.parse(answerLine(bad, { maxNumbers: 100 })).error.code, "E_ARG");
});

Deno.test("info lists the protocol version, every op and the formats", () => {
  const r = JSON.parse(answerLine('{"id":0,"op":"info"}'));
  assertEquals(r.result.protocol, "1");
  for (
    const op of [
      "info",
      "cast",
      "decode",
      "int",
      "matmul",
      "quantize",
      "dequantize",
      "block",
      "ternary",
      "metrics",
    ]
  ) {
    assert(r.result.ops.includes(op), op);
  }
  assertEquals(r.result, info());
});

Deno.test("the program reads stdin and writes one answer per line (deno task oracle)", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", new URL("./oracle.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${CAST}\nnope\n\n${CAST}\n`));
  await writer.close();
  const { code, stdout } = await child.output();
  assertEquals(code, 0);
  const out = new TextDecoder().decode(stdout).trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(out.map((r) => r.ok), [true, false, true]);
});
