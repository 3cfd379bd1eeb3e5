// The pages of the site: the language chooser (out/site/index.html), each language's home with
// the chapter list, a chapter (a notebook's HTML fragment in the frame), and the lab.
import type { Lang } from "../chapters/_cell.ts";
import { LANGS } from "../chapters/_cell.ts";
import { escapeHtml } from "./_html.ts";
import { type ChapterInfo, ICON, renderPage } from "./_layout.ts";
import { STRINGS } from "./_strings.ts";
import { BITS_RANGE } from "./client/bits_model.ts";
import { LAYER_SHAPES, RANK_RANGE } from "./client/rank_model.ts";

/**
 * The site's entry, `out/site/index.html`: a chooser linking to both languages' homes, and a
 * script sending the reader to the first of `navigator.languages` the site has (Spanish when
 * none matches). `index.html#choose` shows the chooser without redirecting.
 *
 * @returns The page.
 *
 * @example
 * ```ts
 * import { chooserPage } from "./_pages.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const html = chooserPage();
 * assertStringIncludes(html, 'href="es/index.html"');
 * assertStringIncludes(html, 'href="en/index.html"');
 * ```
 */
export function chooserPage(): string {
  const links = LANGS.map((lang) =>
    `<li><a href="${lang}/index.html" hreflang="${lang}" lang="${lang}"><strong>${
      escapeHtml(STRINGS[lang].langName)
    }</strong><span>${escapeHtml(STRINGS[lang].siteTitle)}</span></a></li>`
  ).join("\n      ");
  return `<!doctype html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>loraquant</title>
  <link rel="icon" href="${ICON}">
  <link rel="stylesheet" href="assets/site.css">
  <script>
    // Sends the reader to their language (the first of navigator.languages the site has; es
    // otherwise), unless they came to choose (index.html#choose).
    (function () {
      if (location.hash === "#choose") return;
      var have = ${JSON.stringify(LANGS)};
      var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
      var lang = have[0];
      for (var i = 0; i < wanted.length; i++) {
        var code = String(wanted[i] || "").slice(0, 2).toLowerCase();
        if (have.indexOf(code) >= 0) { lang = code; break; }
      }
      location.replace(lang + "/index.html");
    })();
  </script>
</head>
<body class="chooser">
  <main id="content">
    <h1>loraquant</h1>
    <p lang="es">Elige un idioma.</p>
    <p lang="en">Choose a language.</p>
    <ul class="languages">
      ${links}
    </ul>
  </main>
</body>
</html>
`;
}

/**
 * A language's home, `{lang}/index.html`: the tagline, the chapter list (number and title, in
 * order) and the lab.
 *
 * @param lang The language.
 * @param chapters The chapters, in order.
 * @returns The page.
 *
 * @example
 * ```ts
 * import { homePage } from "./_pages.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const chapters = [{ slug: "01-lora", number: 1, title: { es: "LoRA", en: "LoRA" } }];
 * assertStringIncludes(homePage("en", chapters), '<a href="01-lora.html">');
 * ```
 */
export function homePage(lang: Lang, chapters: readonly ChapterInfo[]): string {
  const s = STRINGS[lang];
  const items = chapters.length === 0
    ? `<p>${escapeHtml(s.noChapters)}</p>`
    : `<ol class="chapter-list">\n${
      chapters.map((c) =>
        `      <li value="${c.number}"><a href="${escapeHtml(c.slug)}.html"><span class="number">${
          escapeHtml(s.chapter(c.number))
        }</span> ${escapeHtml(c.title[lang])}</a></li>`
      ).join("\n")
    }\n    </ol>`;
  return renderPage({
    lang,
    title: s.home,
    chapters,
    file: "index.html",
    main: `    <h1>${escapeHtml(s.siteTitle)}</h1>
    <p class="lead">${escapeHtml(s.tagline)}</p>
    <h2>${escapeHtml(s.chapters)}</h2>
    ${items}
    <h2>${escapeHtml(s.lab)}</h2>
    <p class="lab-link"><a href="lab.html">${escapeHtml(s.lab)}</a>: ${escapeHtml(s.labLink)}</p>`,
  });
}

/**
 * A chapter page, `{lang}/NN-slug.html`: the executed notebook's HTML fragment (nbconvert's
 * `basic` template) inside the frame, with links to the previous and next chapters.
 *
 * @param lang The language.
 * @param chapters Every chapter, in order.
 * @param index The position of this chapter in `chapters`.
 * @param fragment The notebook's HTML, inserted as is.
 * @returns The page.
 *
 * @example
 * ```ts
 * import { chapterPage } from "./_pages.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const chapters = [
 *   { slug: "01-a", number: 1, title: { es: "Uno", en: "One" } },
 *   { slug: "02-b", number: 2, title: { es: "Dos", en: "Two" } },
 * ];
 * const html = chapterPage("es", chapters, 0, "<div class=\"cell\">…</div>");
 * assertStringIncludes(html, '<div class="cell">…</div>');
 * assertStringIncludes(html, 'rel="next" href="02-b.html"');
 * ```
 */
export function chapterPage(
  lang: Lang,
  chapters: readonly ChapterInfo[],
  index: number,
  fragment: string,
): string {
  const s = STRINGS[lang];
  const chapter = chapters[index];
  if (chapter === undefined) {
    throw new RangeError(`chapterPage: index ${index} is outside the ${chapters.length} chapters`);
  }
  const previous = chapters[index - 1];
  const next = chapters[index + 1];
  const pager = [
    previous === undefined
      ? ""
      : `<a rel="prev" href="${escapeHtml(previous.slug)}.html">← ${escapeHtml(s.previous)}: ${
        escapeHtml(previous.title[lang])
      }</a>`,
    next === undefined
      ? `<a rel="next" href="lab.html">${escapeHtml(s.lab)} →</a>`
      : `<a rel="next" href="${escapeHtml(next.slug)}.html">${escapeHtml(s.next)}: ${
        escapeHtml(next.title[lang])
      } →</a>`,
  ].join("\n      ");
  return renderPage({
    lang,
    title: chapter.title[lang],
    chapters,
    file: `${chapter.slug}.html`,
    mainClass: "notebook",
    main: `    <p class="chapter-number">${escapeHtml(s.chapter(chapter.number))}</p>
    <div class="notebook-body">
${fragment}
    </div>
    <nav class="pager" aria-label="${escapeHtml(s.chapters)}">
      ${pager}
    </nav>`,
  });
}

/**
 * The lab, `{lang}/lab.html`: the controls and empty figure boxes of the three interactive
 * figures (ids as `client/lab.ts` expects), and the bundled script, inlined as a module so that
 * the page also works from `file://` (where Chromium refuses to load module files).
 *
 * @param lang The language.
 * @param chapters Every chapter, for the nav.
 * @param script The bundled ES module (no `</script` inside).
 * @param sourceMap The URL of its source map, relative to the page. @default {none}
 * @returns The page.
 * @throws {Error} When `script` contains `</script`, which would end the element early.
 *
 * @example
 * ```ts
 * import { labPage } from "./_pages.ts";
 * import { assertStringIncludes, assertThrows } from "@std/assert";
 *
 * const html = labPage("es", [], "console.log(1)");
 * assertStringIncludes(html, 'id="rank-slider"');
 * assertStringIncludes(html, '<script type="module">console.log(1)');
 * assertThrows(() => labPage("es", [], "'</script>'"));
 * ```
 */
export function labPage(
  lang: Lang,
  chapters: readonly ChapterInfo[],
  script: string,
  sourceMap?: string,
): string {
  if (/<\/script/i.test(script)) {
    throw new Error("Cannot inline the lab's script: it contains </script, which ends the element");
  }
  const s = STRINGS[lang];
  const e = escapeHtml;
  const shapes = LAYER_SHAPES.map(([d, k], i) =>
    `<option value="${i}"${i === 0 ? " selected" : ""}>${d}×${k}</option>`
  ).join("");
  const mapComment = sourceMap === undefined ? "" : `\n//# sourceMappingURL=${sourceMap}`;
  const main = `    <h1>${e(s.lab)}</h1>
    <p class="lead">${e(s.labIntro)}</p>
    <noscript><p class="message">${e(s.noscript)}</p></noscript>

    <section class="widget" id="rank" aria-labelledby="rank-title">
      <h2 id="rank-title">${e(s.rankTitle)}</h2>
      <p>${e(s.rankIntro)}</p>
      <div class="controls">
        <label>${e(s.rankLabel)}
          <input type="range" id="rank-slider" min="${RANK_RANGE[0]}" max="${
    RANK_RANGE[1]
  }" value="8" step="1">
          <output id="rank-value" for="rank-slider">8</output>
        </label>
        <label>${e(s.shapeLabel)} <select id="rank-shape">${shapes}</select></label>
      </div>
      <p class="result" id="rank-count" aria-live="polite"></p>
      <p class="formula" id="rank-formula"></p>
      <div class="figures">
        <figure class="figure" id="rank-bars"></figure>
        <figure class="figure" id="rank-picture"></figure>
      </div>
      <p class="note" id="rank-picture-text"></p>
    </section>

    <section class="widget" id="bits" aria-labelledby="bits-title">
      <h2 id="bits-title">${e(s.bitsTitle)}</h2>
      <p>${e(s.bitsIntro)}</p>
      <div class="controls">
        <label>${e(s.bitsLabel)}
          <input type="range" id="bits-slider" min="${BITS_RANGE[0]}" max="${
    BITS_RANGE[1]
  }" value="4" step="1">
          <output id="bits-value" for="bits-slider">4</output>
        </label>
        <label>${e(s.schemeLabel)}
          <select id="bits-scheme">
            <option value="tensor" selected>${e(s.schemeTensor)}</option>
            <option value="group">${e(s.schemeGroup)}</option>
          </select>
        </label>
      </div>
      <p class="result" id="bits-summary" aria-live="polite"></p>
      <div class="figures">
        <figure class="figure wide" id="bits-histogram"></figure>
      </div>
    </section>

    <section class="widget" id="overflow" aria-labelledby="overflow-title">
      <h2 id="overflow-title">${e(s.overflowTitle)}</h2>
      <p>${e(s.overflowIntro)}</p>
      <div class="controls">
        <label>${e(s.dtypeLabel)}
          <select id="ov-dtype">
            <option value="int8" selected>int8</option>
            <option value="int16">int16</option>
          </select>
        </label>
        <label>a <input type="number" id="ov-a" value="127" step="1" min="-128" max="127" inputmode="numeric"></label>
        <span class="operator">+</span>
        <label>b <input type="number" id="ov-b" value="127" step="1" min="-128" max="127" inputmode="numeric"></label>
      </div>
      <p class="message" id="ov-message" role="alert" hidden></p>
      <table class="rules">
        <tbody>
          <tr><th scope="row">${e(s.exact)}</th><td id="ov-exact"></td></tr>
          <tr><th scope="row">${e(s.wrap)}</th><td id="ov-wrap"></td></tr>
          <tr><th scope="row">${e(s.saturate)}</th><td id="ov-saturate"></td></tr>
          <tr><th scope="row">${e(s.widen)}</th><td id="ov-widen"></td></tr>
        </tbody>
      </table>
      <p class="note" id="ov-verdict" aria-live="polite"></p>
      <div class="figures">
        <figure class="figure wide" id="ov-figure"></figure>
      </div>
    </section>`;
  return renderPage({
    lang,
    title: s.lab,
    chapters,
    file: "lab.html",
    mainClass: "lab",
    main,
    scripts: `<script type="module">${script}${mapComment}</script>`,
  });
}
