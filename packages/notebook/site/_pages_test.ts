import { assert, assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { LANGS } from "../chapters/_cell.ts";
import { escapeHtml } from "./_html.ts";
import type { ChapterInfo } from "./_layout.ts";
import { chapterPage, chooserPage, homePage, labPage } from "./_pages.ts";
import { STRINGS } from "./_strings.ts";

const CHAPTERS: ChapterInfo[] = [
  { slug: "01-lora", number: 1, title: { es: "LoRA: la idea", en: "LoRA: the idea" } },
  { slug: "02-bits", number: 2, title: { es: "Bits <y> bytes", en: "Bits & bytes" } },
];

/** Every href and src of a page. */
function links(html: string): string[] {
  return [...html.matchAll(/\b(?:href|src)="([^"]*)"/g)].map((m) => m[1]!);
}

Deno.test("every page of a language links to the same page in the other language", () => {
  for (const lang of LANGS) {
    const other = lang === "es" ? "en" : "es";
    const pages: [string, string][] = [
      ["index.html", homePage(lang, CHAPTERS)],
      ["lab.html", labPage(lang, CHAPTERS, "")],
      ...CHAPTERS.map((
        c,
        i,
      ): [string, string] => [`${c.slug}.html`, chapterPage(lang, CHAPTERS, i, "")]),
    ];
    for (const [file, html] of pages) {
      assertStringIncludes(html, `<html lang="${lang}">`);
      assertStringIncludes(
        html,
        `class="lang-switch" href="../${other}/${file}" hreflang="${other}"`,
      );
      // The nav marks this page, and only this page, as the current one.
      assertEquals(html.match(/aria-current="page"/g)?.length, 1, file);
      assertStringIncludes(html, `href="${file}" aria-current="page"`);
    }
  }
});

Deno.test("pages load nothing from the network and reach their assets relatively", () => {
  const pages = [chooserPage(), homePage("es", CHAPTERS), labPage("en", CHAPTERS, "")];
  for (const html of pages) {
    for (const link of links(html)) {
      assert(!/^(?:https?:)?\/\//.test(link), `a network link: ${link}`);
      assert(!link.startsWith("/"), `an absolute path (breaks file://): ${link}`);
    }
  }
  assertStringIncludes(homePage("es", CHAPTERS), 'href="../assets/site.css"');
  assertStringIncludes(chooserPage(), 'href="assets/site.css"');
});

Deno.test("chapter titles are escaped, in the nav, the home list and the pager", () => {
  const home = homePage("es", CHAPTERS);
  assertStringIncludes(home, escapeHtml("Bits <y> bytes"));
  assert(!home.includes("Bits <y> bytes"));
  const first = chapterPage("en", CHAPTERS, 0, "<p>fragment</p>");
  assertStringIncludes(first, `rel="next" href="02-bits.html">Next: Bits &amp; bytes →`);
  assertStringIncludes(first, "<p>fragment</p>");
  const last = chapterPage("en", CHAPTERS, 1, "");
  assertStringIncludes(last, 'rel="prev" href="01-lora.html"');
  assertStringIncludes(last, 'rel="next" href="lab.html"');
  assertThrows(() => chapterPage("en", CHAPTERS, 2, ""), RangeError, "index 2");
});

Deno.test("the home page lists every chapter in order, with its number", () => {
  for (const lang of LANGS) {
    const html = homePage(lang, CHAPTERS);
    const at = CHAPTERS.map((c) =>
      html.indexOf(`<li value="${c.number}"><a href="${c.slug}.html">`)
    );
    assert(at.every((i) => i > 0) && at[0]! < at[1]!, String(at));
    assertStringIncludes(html, STRINGS[lang].chapter(2));
  }
  assertStringIncludes(homePage("en", []), STRINGS.en.noChapters);
});

Deno.test("the lab page holds every control and figure box the client script expects", () => {
  const ids = [
    "rank-slider",
    "rank-value",
    "rank-shape",
    "rank-count",
    "rank-formula",
    "rank-bars",
    "rank-picture",
    "rank-picture-text",
    "bits-slider",
    "bits-value",
    "bits-scheme",
    "bits-histogram",
    "bits-summary",
    "ov-dtype",
    "ov-a",
    "ov-b",
    "ov-message",
    "ov-figure",
    "ov-verdict",
    "ov-exact",
    "ov-wrap",
    "ov-saturate",
    "ov-widen",
  ];
  const client = Deno.readTextFileSync(new URL("./client/lab.ts", import.meta.url));
  const used = [...client.matchAll(/byId\("([a-z-]+)"/g)].map((m) => m[1]).sort();
  assertEquals(used, [...ids].sort());
  for (const lang of LANGS) {
    const html = labPage(lang, [], "run()", "../assets/lab.js.map");
    for (const id of ids) assertEquals(html.split(`id="${id}"`).length, 2, `${lang}: id ${id}`);
    assertStringIncludes(
      html,
      '<script type="module">run()\n//# sourceMappingURL=../assets/lab.js.map</script>',
    );
  }
});

Deno.test("the chooser redirects to a language the site has, Spanish by default", () => {
  const html = chooserPage();
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
  const run = (languages: string[], hash = ""): string | undefined => {
    let target: string | undefined;
    const location = { hash, replace: (url: string) => (target = url) };
    new Function("location", "navigator", script)(location, { languages, language: languages[0] });
    return target;
  };
  assertEquals(run(["en-GB", "es"]), "en/index.html");
  assertEquals(run(["fr-FR", "es-MX"]), "es/index.html");
  assertEquals(run(["de"]), "es/index.html");
  assertEquals(run([]), "es/index.html");
  assertEquals(run(["en"], "#choose"), undefined);
});

/** Strings that are rightly the same words in Spanish and English. */
const SAME_IN_BOTH = ["barLora", "bitsLabel", "errorAxis"];

Deno.test("both languages have every string, and the Spanish ones are not left in English", () => {
  const keys = Object.keys(STRINGS.es).sort();
  assertEquals(Object.keys(STRINGS.en).sort(), keys);
  for (const key of keys) {
    const es = STRINGS.es[key as keyof typeof STRINGS.es];
    const en = STRINGS.en[key as keyof typeof STRINGS.en];
    assertEquals(typeof es, typeof en, key);
    if (typeof es === "string" && !SAME_IN_BOTH.includes(key)) {
      assert(es !== en || /^[\W\d]*$/.test(es), `${key} is the same in both languages: ${es}`);
    }
  }
});
