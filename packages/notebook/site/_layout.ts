// The frame of every page of the site in one language: head, header (title, chapter nav,
// language switch), main, footer. Pages live in out/site/{es,en}/, the assets in out/site/assets/.
import type { Chapter, Lang } from "../chapters/_cell.ts";
import { LANGS } from "../chapters/_cell.ts";
import { escapeHtml } from "./_html.ts";
import { STRINGS } from "./_strings.ts";

/** The site's icon, inline (no request, no 404 for /favicon.ico): "lq" on the accent colour. */
export const ICON: string = "data:image/svg+xml," + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" ' +
    'rx="6" fill="#2b5fad"/><text x="16" y="22" font-family="sans-serif" font-size="16" ' +
    'font-weight="700" fill="#fff" text-anchor="middle">lq</text></svg>',
);

/** What the site needs of a chapter: its slug (the page's file stem), number and titles. */
export type ChapterInfo = Pick<Chapter, "slug" | "number" | "title">;

/** The content of one page, for {@linkcode renderPage}. */
export interface PageContent {
  /** The page's language. */
  readonly lang: Lang;
  /** The page's own title (the site's name is appended in `<title>`). */
  readonly title: string;
  /** Every chapter, for the nav. */
  readonly chapters: readonly ChapterInfo[];
  /** The page's file name in its language folder (the same in both): `index.html`, `lab.html`, `01-lora.html`. */
  readonly file: string;
  /** The HTML inside `<main>`. */
  readonly main: string;
  /** A class for `<main>`. @default {"page"} */
  readonly mainClass?: string;
  /** HTML placed at the end of `<body>` (the lab's script). @default {""} */
  readonly scripts?: string;
}

/**
 * Renders a complete page: `<head>` (charset, viewport, the stylesheet `../assets/site.css`),
 * the header with the site title, the nav (home, each chapter, the lab; the current one marked
 * `aria-current="page"`), the language switch (a link to the same file in the other language),
 * `<main>` and the footer. Every text is escaped except `main` and `scripts`, which are HTML.
 *
 * @param content The page's language, title, chapters, file name and HTML.
 * @returns The page, starting with `<!doctype html>`.
 *
 * @example The language switch points at the same page in the other language
 * ```ts
 * import { renderPage } from "./_layout.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const html = renderPage({ lang: "es", title: "Laboratorio", chapters: [], file: "lab.html", main: "<p>x</p>" });
 * assertStringIncludes(html, '<html lang="es">');
 * assertStringIncludes(html, 'href="../en/lab.html"');
 * ```
 */
export function renderPage(content: PageContent): string {
  const { lang, chapters, file } = content;
  const s = STRINGS[lang];
  const other = LANGS.find((l) => l !== lang) ?? lang;
  const link = (href: string, text: string, extra = ""): string =>
    `<a href="${escapeHtml(href)}"${href === file ? ' aria-current="page"' : ""}${extra}>${
      escapeHtml(text)
    }</a>`;
  const nav = [
    `<li>${link("index.html", s.home)}</li>`,
    ...chapters.map((c) =>
      `<li>${
        link(
          `${c.slug}.html`,
          `${c.number}. ${c.title[lang]}`,
          ` title="${escapeHtml(s.chapter(c.number))}"`,
        )
      }</li>`
    ),
    `<li>${link("lab.html", s.lab)}</li>`,
  ].join("\n        ");
  return `<!doctype html>
<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(content.title)} · ${escapeHtml(s.siteTitle)}</title>
  <link rel="icon" href="${ICON}">
  <link rel="stylesheet" href="../assets/site.css">
  <link rel="alternate" hreflang="${other}" href="../${other}/${escapeHtml(file)}">
</head>
<body>
  <a class="skip" href="#content">${escapeHtml(s.skip)}</a>
  <header class="site-header">
    <div class="bar">
      <a class="brand" href="index.html">${escapeHtml(s.siteTitle)}</a>
      <a class="lang-switch" href="../${other}/${
    escapeHtml(file)
  }" hreflang="${other}" lang="${other}">${escapeHtml(STRINGS[other].langName)}</a>
    </div>
    <nav aria-label="${escapeHtml(s.chapters)}">
      <ul>
        ${nav}
      </ul>
    </nav>
  </header>
  <main id="content" class="${escapeHtml(content.mainClass ?? "page")}">
${content.main}
  </main>
  <footer class="site-footer"><p>${escapeHtml(s.footer)}</p></footer>
${content.scripts ?? ""}
</body>
</html>
`;
}
