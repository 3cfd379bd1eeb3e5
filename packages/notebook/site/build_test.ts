import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { LANGS } from "../chapters/_cell.ts";
import { buildSite } from "./build.ts";

/** A chapters folder with two tiny chapter sources, and their placeholder fragments. */
async function inputs(): Promise<{ dir: string; chaptersDir: URL; notebooks: string }> {
  const dir = await Deno.makeTempDir({ prefix: "loraquant-site-build-" });
  await Deno.mkdir(`${dir}/chapters`);
  for (const [slug, n, es, en] of [["01-uno", 1, "Uno", "One"], ["02-dos", 2, "Dos", "Two"]]) {
    await Deno.writeTextFile(
      `${dir}/chapters/${slug}.ts`,
      `export const chapter = { slug: "${slug}", number: ${n}, title: { es: "${es}", en: "${en}" },
        cells: [{ kind: "code", code: "1" }] };`,
    );
    for (const lang of LANGS) {
      await Deno.mkdir(`${dir}/fragments/${lang}`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/fragments/${lang}/${slug}.html`,
        `<div class="cell">fragment ${slug} ${lang}</div>`,
      );
    }
  }
  return { dir, chaptersDir: new URL(`file://${dir}/chapters/`), notebooks: `${dir}/fragments` };
}

Deno.test("buildSite() writes the chooser, both homes, labs and chapters, and the assets", async () => {
  const { dir, chaptersDir, notebooks } = await inputs();
  try {
    const out = `${dir}/site`;
    await Deno.mkdir(`${out}/screenshots`, { recursive: true });
    await Deno.writeTextFile(`${out}/screenshots/keep.png`, "x");
    await Deno.mkdir(`${out}/es`, { recursive: true });
    await Deno.writeTextFile(`${out}/es/99-stale.html`, "from an older build");
    const result = await buildSite({ out, notebooks, chaptersDir, log: () => {} });
    assertEquals(result.pages, [
      "en/01-uno.html",
      "en/02-dos.html",
      "en/index.html",
      "en/lab.html",
      "es/01-uno.html",
      "es/02-dos.html",
      "es/index.html",
      "es/lab.html",
      "index.html",
    ]);
    for (const page of result.pages) assert((await Deno.stat(`${out}/${page}`)).isFile, page);
    assertStringIncludes(
      await Deno.readTextFile(`${out}/en/02-dos.html`),
      '<div class="cell">fragment 02-dos en</div>',
    );
    // The bundle: inlined as a module, self-contained (no import left), with its source map.
    const lab = await Deno.readTextFile(`${out}/es/lab.html`);
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(lab)?.[1] ?? "";
    assert(script.length > 10_000, `lab script of ${script.length} characters`);
    assert(!/\bimport\s*[{*"'(]|\bfrom\s*["']/.test(script), "the lab script imports something");
    assertMatch(script, /\/\/# sourceMappingURL=\.\.\/assets\/lab\.js\.map$/);
    const map = JSON.parse(await Deno.readTextFile(`${out}/assets/lab.js.map`));
    assert(map.sources.some((s: string) => s.endsWith("client/lab.ts")), map.sources.join(", "));
    assert(map.sources.some((s: string) => s.includes("reference/integer.ts")));
    assert((await Deno.stat(`${out}/assets/site.css`)).size > 1000);
    // A rebuild replaces the old pages but keeps the screenshots.
    assertEquals(await Deno.stat(`${out}/es/99-stale.html`).catch(() => "gone"), "gone");
    assertEquals(await Deno.readTextFile(`${out}/screenshots/keep.png`), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildSite() names the missing fragment when the notebooks folder lacks one", async () => {
  const { dir, chaptersDir, notebooks } = await inputs();
  try {
    await Deno.remove(`${notebooks}/en/02-dos.html`);
    await assertRejects(
      () => buildSite({ out: `${dir}/site`, notebooks, chaptersDir, log: () => {} }),
      Error,
      `${notebooks}/en/02-dos.html`,
    );
    // The output folder was created and proven writable first, but nothing was written in it.
    assertEquals(await Array.fromAsync(Deno.readDir(`${dir}/site`)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildSite() refuses an unwritable --out before running anything", async () => {
  const { dir, chaptersDir, notebooks } = await inputs();
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    let logged = 0;
    await assertRejects(
      () =>
        buildSite({ out: `${dir}/file/site`, notebooks, chaptersDir, log: () => void logged++ }),
      Error,
      `Cannot write the site to "${dir}/file/site"`,
    );
    assertEquals(logged, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task site refuses an unknown argument with its usage (exit 2)", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./build.ts", import.meta.url).pathname, "--outt", "x"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 2);
  assertStringIncludes(new TextDecoder().decode(stderr), "deno task site [--out DIR]");
});
