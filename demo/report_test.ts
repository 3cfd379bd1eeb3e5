import { assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { textTable, writeAtomic } from "./report.ts";
import { startProgress } from "./progress.ts";

Deno.test("writeAtomic() replaces a file whole and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/r.json`, "old");
  await writeAtomic(`${dir}/r.json`, "new");
  assertEquals(await Deno.readTextFile(`${dir}/r.json`), "new");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["r.json"]);
  await assertRejects(() => writeAtomic(`${dir}/missing/r.json`, "x"));
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["r.json"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("textTable() aligns its columns", () => {
  assertEquals(textTable(["a", "bb"], [["ccc", "d"]]), "a    bb\n---  --\nccc  d ");
});

Deno.test("startProgress() prints plain lines when stdout is not a terminal", () => {
  let text = "";
  const p = startProgress("step", { tty: false, write: (t) => (text += t) });
  for (let i = 1; i <= 100; i++) p.update(i / 100);
  p.done("ok");
  const lines = text.trimEnd().split("\n");
  assertEquals(lines.slice(0, 4), ["step ...", "  step: 25%", "  step: 50%", "  step: 75%"]);
  assertStringIncludes(lines[4]!, "step: done in");
  assertEquals(text.includes("\r"), false);
});
