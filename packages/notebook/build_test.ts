import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { type Chapter, code, codeIn, LANGS, md } from "./chapters/_cell.ts";
import {
  checkChapter,
  dedent,
  loadChapters,
  notebookText,
  renderAll,
  renderNotebook,
  sourceLines,
} from "./_notebook.ts";
import { staleNotebooks, writeNotebooks } from "./build.ts";

const sample: Chapter = {
  slug: "09-sample",
  number: 9,
  title: { es: "Ejemplo", en: "Sample" },
  cells: [
    md("## Una sección\n\nTexto.", "## A section\n\nText."),
    code(`
      const x = 1;
        if (x) console.log(x);
    `),
    codeIn("'hola'", "'hello'"),
  ],
};

Deno.test("the committed notebooks equal what their chapter sources render", async () => {
  const stale = await staleNotebooks();
  assertEquals(
    stale,
    [],
    `stale notebooks: ${
      stale.map((s) => `${s.path} (${s.reason})`).join(", ")
    } — run \`deno task notebooks\``,
  );
});

Deno.test("every chapter source renders every cell in both languages, in the same order", async () => {
  const chapters = await loadChapters();
  assert(chapters.length > 0, "no chapter sources found");
  for (const chapter of chapters) {
    const [es, en] = LANGS.map((lang) => renderNotebook(chapter, lang));
    assertEquals(es!.cells.length, chapter.cells.length + 1);
    assertEquals(en!.cells.length, chapter.cells.length + 1);
    assertEquals(es!.cells.map((c) => c.cell_type), en!.cells.map((c) => c.cell_type));
    assertEquals(es!.cells.map((c) => c.id), en!.cells.map((c) => c.id));
    for (const nb of [es!, en!]) {
      for (const cell of nb.cells) assert(cell.source.join("").trim() !== "", `${cell.id} empty`);
    }
  }
});

Deno.test("chapter files are numbered in order without repeats", async () => {
  const numbers = (await loadChapters()).map((c) => c.number);
  assertEquals(numbers, [...numbers].sort((a, b) => a - b));
  assertEquals(new Set(numbers).size, numbers.length);
});

Deno.test("renderNotebook() writes valid nbformat 4.5 fields for the Deno kernel", () => {
  for (const lang of LANGS) {
    const nb = renderNotebook(sample, lang);
    assertEquals(nb.nbformat, 4);
    assertEquals(nb.nbformat_minor, 5);
    assertEquals(nb.metadata.kernelspec.name, "deno");
    assertEquals(nb.metadata.language_info.name, "typescript");
    const ids = nb.cells.map((c) => c.id);
    assertEquals(new Set(ids).size, ids.length, "cell ids must be unique");
    for (const cell of nb.cells) {
      // nbformat 4.5: ids are 1–64 characters of [a-zA-Z0-9-_].
      assertMatch(cell.id, /^[a-zA-Z0-9_-]{1,64}$/);
      assertEquals(cell.metadata, {});
      if (cell.cell_type === "code") {
        assertEquals(cell.execution_count, null);
        assertEquals(cell.outputs, []);
      } else {
        assertEquals("outputs" in cell, false);
        assertEquals("execution_count" in cell, false);
      }
      // Jupyter's line list: every line but the last ends with "\n", none holds one inside.
      for (const [i, line] of cell.source.entries()) {
        const last = i === cell.source.length - 1;
        assertEquals(line.endsWith("\n"), !last, JSON.stringify(line));
        assertEquals(line.slice(0, -1).includes("\n"), false);
      }
    }
  }
});

Deno.test("renderNotebook() starts with the title and links the other language", () => {
  const es = renderNotebook(sample, "es").cells[0]!.source.join("");
  const en = renderNotebook(sample, "en").cells[0]!.source.join("");
  assert(es.startsWith("# 9. Ejemplo\n"), es);
  assert(en.startsWith("# 9. Sample\n"), en);
  assert(es.includes("[English](../en/09-sample.ipynb)"), es);
  assert(en.includes("[Español](../es/09-sample.ipynb)"), en);
});

Deno.test("renderNotebook() keeps each language's text and dedents code", () => {
  const es = renderNotebook(sample, "es");
  const en = renderNotebook(sample, "en");
  assertEquals(es.cells[1]!.source.join(""), "## Una sección\n\nTexto.");
  assertEquals(en.cells[1]!.source.join(""), "## A section\n\nText.");
  assertEquals(es.cells[2]!.source, ["const x = 1;\n", "  if (x) console.log(x);"]);
  assertEquals(es.cells[3]!.source, ["'hola'"]);
  assertEquals(en.cells[3]!.source, ["'hello'"]);
});

Deno.test("notebookText() is Jupyter's JSON (one-space indent) with a trailing newline", () => {
  const nb = renderNotebook(sample, "en");
  const text = notebookText(nb);
  assert(text.endsWith("}\n"));
  assertEquals(JSON.parse(text), nb);
  assert(text.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",'), text.slice(0, 60));
  assertEquals(text.includes("\\u00"), false, "non-ASCII text must be written as is");
  assertEquals(notebookText(renderNotebook(sample, "en")), text, "rendering is deterministic");
});

Deno.test("renderAll() gives one notebook per chapter and language", () => {
  assertEquals([...renderAll([sample]).keys()], ["es/09-sample.ipynb", "en/09-sample.ipynb"]);
});

Deno.test("checkChapter() refuses a missing translation, a bad slug and a wrong number", () => {
  const missing = { ...sample, cells: [md("solo español", "")] };
  assertThrows(() => checkChapter(missing), TypeError, "cell 0 (markdown) has no en text");
  const emptyCode = { ...sample, cells: [code("  \n ")] };
  assertThrows(() => checkChapter(emptyCode), TypeError, "cell 0 (code) is empty");
  assertThrows(() => checkChapter({ ...sample, slug: "sample" }), TypeError, "slug");
  assertThrows(() => checkChapter({ ...sample, number: 3 }), TypeError, "disagrees");
  assertThrows(() => checkChapter({ ...sample, cells: [] }), TypeError, "no cells");
});

Deno.test("dedent() removes the common indentation and the blank ends only", () => {
  assertEquals(dedent("\n    a\n      b\n\n    c\n  "), "a\n  b\n\nc");
  assertEquals(dedent("a\n  b"), "a\n  b");
  assertEquals(dedent("x  \r\ny"), "x\ny");
  assertEquals(dedent("   "), "");
});

Deno.test("sourceLines() splits into lines that join back to the text", () => {
  for (const text of ["", "a", "a\nb", "a\n\nb", "a\n"]) {
    assertEquals(sourceLines(text).join(""), text);
  }
  assertEquals(sourceLines("a\nb"), ["a\n", "b"]);
});

Deno.test("writeNotebooks() writes, then finds nothing stale, and removes orphans", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/chapters`);
    const source = (slug: string, n: number): string =>
      `export const chapter = { slug: "${slug}", number: ${n}, title: { es: "T", en: "T" },
        cells: [{ kind: "code", code: "1" }] };`;
    await Deno.writeTextFile(`${root}/chapters/01-one.ts`, source("01-one", 1));
    await Deno.writeTextFile(`${root}/chapters/02-two.ts`, source("02-two", 2));
    await Deno.writeTextFile(`${root}/chapters/_cell.ts`, "export {};"); // not a chapter
    const dirs = {
      chaptersDir: new URL(`file://${root}/chapters/`),
      notebooksDir: new URL(`file://${root}/notebooks/`),
    };
    assertEquals((await writeNotebooks(dirs)).total, 4);
    assertEquals(await staleNotebooks(dirs), []);
    await Deno.writeTextFile(`${root}/notebooks/es/01-one.ipynb`, "{}\n");
    await Deno.remove(`${root}/chapters/02-two.ts`);
    assertEquals(await staleNotebooks(dirs), [
      { path: "en/02-two.ipynb", reason: "orphan" },
      { path: "es/01-one.ipynb", reason: "differs" },
      { path: "es/02-two.ipynb", reason: "orphan" },
    ]);
    const result = await writeNotebooks(dirs);
    assertEquals(result.written, ["es/01-one.ipynb"]);
    assertEquals(result.removed, ["es/02-two.ipynb", "en/02-two.ipynb"].sort());
    assertEquals(await staleNotebooks(dirs), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadChapters() refuses a file whose chapter has another slug", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${root}/03-three.ts`,
      `export const chapter = { slug: "03-other", number: 3, title: { es: "T", en: "T" },
        cells: [{ kind: "code", code: "1" }] };`,
    );
    await Deno.writeTextFile(`${root}/04-none.ts`, "export const x = 1;");
    const err = await loadChapters(new URL(`file://${root}/`)).then(() => null, (e) => e);
    assert(err instanceof TypeError);
    assertMatch(err.message, /03-three\.ts.*"03-other".*"03-three"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** A Python with nbformat (Debian's jupyter uses /usr/bin/python3; PATH may hold another). */
async function findNbformatPython(): Promise<string | undefined> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    const found = await new Deno.Command(python, {
      args: ["-c", "import nbformat"],
      stdout: "null",
      stderr: "null",
    }).output().then((o) => o.success, () => false);
    if (found) return python;
  }
  return undefined;
}
const python = await findNbformatPython();
if (python === undefined) {
  console.warn("build_test.ts: no python3 with nbformat found; skipping the schema validation");
}

Deno.test({
  name: "the committed notebooks validate against nbformat's own schema",
  ignore: python === undefined,
  async fn() {
    const script = [
      "import sys, glob, nbformat",
      "files = sorted(glob.glob(sys.argv[1] + '/*/*.ipynb'))",
      "assert files, 'no notebooks'",
      "[nbformat.validate(nbformat.read(f, as_version=4)) for f in files]",
      "print(len(files))",
    ].join("\n");
    const dir = new URL("./notebooks", import.meta.url).pathname;
    const out = await new Deno.Command(python!, { args: ["-c", script, dir] }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert(out.success, err);
    assertEquals(err.includes("Warning"), false, err);
  },
});
