// Internals of the notebook generator: rendering a chapter source to nbformat 4.5 JSON, and
// finding the chapter sources. Used by build.ts (the task) and build_test.ts (the check).
import { type Cell, type Chapter, codeIn, type Lang, LANGS, type Text } from "./chapters/_cell.ts";

/** The directory of the chapter sources, `chapters/NN-slug.ts`. */
export const CHAPTERS_DIR: URL = new URL("./chapters/", import.meta.url);

/** The directory of the generated notebooks, `notebooks/{lang}/NN-slug.ipynb`. */
export const NOTEBOOKS_DIR: URL = new URL("./notebooks/", import.meta.url);

/** A chapter source file name: two digits, a dash, a kebab-case slug, `.ts` (not a test). */
const CHAPTER_FILE = /^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.ts$/;

/** The language names shown in the link line of each notebook's first cell. */
const LANGUAGE_NAMES: Readonly<Record<Lang, string>> = { es: "Español", en: "English" };

/** The word before the links, in each language. */
const LANGUAGE_LABEL: Readonly<Record<Lang, string>> = { es: "Idioma", en: "Language" };

/** The kernel every notebook runs on (the Deno kernel, `deno jupyter --install`). */
const KERNELSPEC = { display_name: "Deno", language: "typescript", name: "deno" } as const;

/** What the kernel reports, minus its TypeScript version (which changes with Deno). */
const LANGUAGE_INFO = {
  codemirror_mode: "typescript",
  file_extension: ".ts",
  mimetype: "text/x.typescript",
  name: "typescript",
  nbconvert_exporter: "script",
  pygments_lexer: "typescript",
} as const;

/** An nbformat 4.5 cell as written to disk (keys in Jupyter's sorted order). */
export interface NotebookCell {
  readonly cell_type: "markdown" | "code";
  readonly execution_count?: null;
  readonly id: string;
  readonly metadata: Record<string, never>;
  readonly outputs?: readonly never[];
  readonly source: readonly string[];
}

/** An nbformat 4.5 notebook as written to disk. */
export interface Notebook {
  readonly cells: readonly NotebookCell[];
  readonly metadata: {
    readonly kernelspec: typeof KERNELSPEC;
    readonly language_info: typeof LANGUAGE_INFO;
  };
  readonly nbformat: 4;
  readonly nbformat_minor: 5;
}

/**
 * Removes the indentation common to all non-blank lines and the blank lines at both ends, so
 * that a chapter source may indent its template literals like the code around them.
 */
export function dedent(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  while (lines.length > 0 && lines[0]!.trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.match(/^[ \t]*/)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut).trimEnd()).join("\n");
}

/** Splits a text into Jupyter's source lines: every line keeps its `\n` except the last. */
export function sourceLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
}

/** The notebook's path relative to `notebooks/`: `{lang}/{slug}.ipynb`. */
export function notebookPath(chapter: Chapter, lang: Lang): string {
  return `${lang}/${chapter.slug}.ipynb`;
}

/** The first cell: `# N. Title` and a line linking the notebook in the other languages. */
function titleMarkdown(chapter: Chapter, lang: Lang): string {
  const links = LANGS.map((other) =>
    other === lang
      ? `**${LANGUAGE_NAMES[other]}**`
      : `[${LANGUAGE_NAMES[other]}](../${notebookPath(chapter, other)})`
  );
  return `# ${chapter.number}. ${chapter.title[lang]}\n\n${LANGUAGE_LABEL[lang]}: ${
    links.join(" · ")
  }`;
}

function cellText(cell: Cell, lang: Lang): string {
  if (cell.kind === "markdown") return cell.text[lang];
  return typeof cell.code === "string" ? cell.code : cell.code[lang];
}

function fail(chapter: string, what: string): never {
  throw new TypeError(`Cannot render chapter ${JSON.stringify(chapter)}: ${what}`);
}

function checkText(text: Text | undefined, chapter: string, what: string): void {
  for (const lang of LANGS) {
    const t = text?.[lang];
    if (typeof t !== "string" || t.trim() === "") {
      fail(chapter, `${what} has no ${lang} text (got ${JSON.stringify(t)})`);
    }
  }
}

/**
 * Checks a chapter before it is rendered: slug `NN-kebab-case` whose number is `number`, a title
 * and every cell in every language, non-empty.
 *
 * @throws {TypeError} naming the chapter and the offending cell.
 */
export function checkChapter(chapter: Chapter): void {
  const slug = String(chapter?.slug);
  const m = CHAPTER_FILE.exec(`${slug}.ts`);
  if (m === null) fail(slug, "the slug must look like `01-kebab-case`");
  if (Number(m[1]) !== chapter.number) {
    fail(slug, `the number ${chapter.number} disagrees with the slug's ${m[1]}`);
  }
  checkText(chapter.title, slug, "the title");
  if (!Array.isArray(chapter.cells) || chapter.cells.length === 0) fail(slug, "it has no cells");
  for (const [i, cell] of chapter.cells.entries()) {
    if (cell.kind === "markdown") checkText(cell.text, slug, `cell ${i} (markdown)`);
    else if (cell.kind === "code") {
      if (typeof cell.code === "string") {
        if (cell.code.trim() === "") fail(slug, `cell ${i} (code) is empty`);
      } else checkText(cell.code, slug, `cell ${i} (code)`);
    } else fail(slug, `cell ${i} has an unknown kind ${JSON.stringify((cell as Cell).kind)}`);
  }
}

/**
 * Renders a chapter to an nbformat 4.5 notebook in one language: the title cell, then every
 * cell of the source; ids `{slug}-{index}` (the same in every language), no outputs, execution
 * counts null, the Deno kernel.
 */
export function renderNotebook(chapter: Chapter, lang: Lang): Notebook {
  checkChapter(chapter);
  const id = (i: number): string => `${chapter.slug}-${String(i).padStart(3, "0")}`;
  const title: NotebookCell = {
    cell_type: "markdown",
    id: id(0),
    metadata: {},
    source: sourceLines(titleMarkdown(chapter, lang)),
  };
  const cells = chapter.cells.map((cell, i): NotebookCell => {
    const source = sourceLines(dedent(cellText(cell, lang)));
    return cell.kind === "markdown"
      ? { cell_type: "markdown", id: id(i + 1), metadata: {}, source }
      : {
        cell_type: "code",
        execution_count: null,
        id: id(i + 1),
        metadata: {},
        outputs: [],
        source,
      };
  });
  return {
    cells: [title, ...cells],
    metadata: { kernelspec: KERNELSPEC, language_info: LANGUAGE_INFO },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** The file text of a notebook: JSON indented by one space, as Jupyter writes it, and `\n`. */
export function notebookText(notebook: Notebook): string {
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

/**
 * Finds the chapter sources in `dir` (`NN-slug.ts`, sorted by name) and imports each; the
 * module's `chapter` export must be a chapter whose slug is the file's stem.
 *
 * @throws {TypeError} when a file exports no chapter, or one whose slug differs from its name.
 */
export async function loadChapters(dir: URL = CHAPTERS_DIR): Promise<Chapter[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && CHAPTER_FILE.test(entry.name)) names.push(entry.name);
  }
  names.sort();
  const chapters: Chapter[] = [];
  for (const name of names) {
    const module = await import(new URL(name, dir).href);
    const chapter = module.chapter as Chapter | undefined;
    const stem = name.slice(0, -".ts".length);
    if (chapter === undefined || typeof chapter !== "object") {
      throw new TypeError(`Cannot load ${name}: it must export \`const chapter: Chapter\``);
    }
    if (chapter.slug !== stem) {
      throw new TypeError(
        `Cannot load ${name}: its chapter's slug ${JSON.stringify(chapter.slug)} must be ${
          JSON.stringify(stem)
        }`,
      );
    }
    checkChapter(chapter);
    chapters.push(chapter);
  }
  return chapters;
}

/** Every notebook the chapters render: path relative to `notebooks/` → file text. */
export function renderAll(chapters: readonly Chapter[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const chapter of chapters) {
    for (const lang of LANGS) {
      files.set(notebookPath(chapter, lang), notebookText(renderNotebook(chapter, lang)));
    }
  }
  return files;
}

/** The `.ipynb` files now under `notebooks/{lang}/`, relative to `notebooks/`, sorted. */
export async function existingNotebooks(dir: URL = NOTEBOOKS_DIR): Promise<string[]> {
  const found: string[] = [];
  for (const lang of LANGS) {
    try {
      for await (const entry of Deno.readDir(new URL(`${lang}/`, dir))) {
        if (entry.isFile && entry.name.endsWith(".ipynb")) found.push(`${lang}/${entry.name}`);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return found.sort();
}

/** Reads a file's text, or `undefined` when it does not exist. */
export async function readIfExists(url: URL): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(url);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Picks the text of one language: `t("paso", "step")`. */
export type Pick = (es: string, en: string) => string;

/**
 * A code cell written once with its visible words in both languages: `source(t)` is called with
 * a `t` that picks Spanish, then English, so each notebook shows plain code in its language.
 *
 * @example `codeEach((t) => \`lineChart({ xLabel: "${t("paso", "step")}" })\`)`
 */
export function codeEach(source: (t: Pick) => string): Cell {
  return codeIn(source((es) => es), source((_es, en) => en));
}

/**
 * The display helpers a notebook's first code cell defines, in one language: `show(svg)`,
 * `print(...parts)`, `table(head, rows)`, `say(markdown)`, `fmt(number, digits)` (locale-aware,
 * at most `digits` decimals), `fixed(number, digits)` (exactly `digits` decimals), `pct(fraction,
 * digits)`, `sci(number, digits)` (scientific notation, `4,9e-4` in Spanish) and `LANG`
 * (`"es"` or `"en"`, the figures' `locale`).
 *
 * - Figures go out as `image/svg+xml` (what `Deno.jupyter.svg` sends) with a `text/html` copy:
 *   nbconvert 6's HTML export passes `image/svg+xml` through lxml's `clean_html`, which strips
 *   the SVG's children, while it prefers `text/html`, which passes unchanged.
 * - Every output is sent with `Deno.jupyter.display` and followed by a macrotask pause: without
 *   it the Deno kernel (2.9) sometimes reports the cell idle before its outputs, and nbconvert
 *   drops them; `console.log` lines are lost that way too, so the notebooks use `print`.
 *
 * @param t Picks the Spanish or English text.
 * @param indent Put after every line break, for a cell source written indented (which `dedent`
 * unindents).
 * @returns The code, lines joined with a line break and `indent`.
 */
export function displayHelpers(t: Pick, indent = ""): string {
  const locale = t("es-ES", "en-US");
  const lang = t("es", "en");
  return [
    `// ${
      t(
        "Salidas de la celda: una figura (SVG), un texto o una tabla (Markdown).",
        "Cell outputs: a figure (SVG), a text or a table (Markdown).",
      )
    }`,
    `// ${
      t(
        "La pausa tras cada salida evita que nbconvert pierda alguna (con console.log pasa).",
        "The pause after each output keeps nbconvert from losing any (console.log lines get lost).",
      )
    }`,
    "const output = async (bundle: Record<string, string>) => {",
    "  await Deno.jupyter.display(bundle, { raw: true });",
    "  await new Promise((resolve) => setTimeout(resolve, 50));",
    "};",
    'const show = (svg: string) => output({ "image/svg+xml": svg, "text/html": svg });',
    'const print = (...parts: unknown[]) => output({ "text/plain": parts.map(String).join(" ") });',
    "const table = (head: string[], rows: unknown[][]) => {",
    '  const lines = [head, head.map((_, i) => (i === 0 ? "---" : "---:")), ...rows];',
    '  const cell = (value: unknown) => String(value).replaceAll("|", "\\\\|");',
    '  return output({ "text/markdown": lines.map((row) => "| " + row.map(cell).join(" | ") + " |").join("\\n") });',
    "};",
    `// ${
      t(
        "Números con formato español: 4.194.304, 0,06 y 4,9e-4.",
        "Numbers in English format: 4,194,304, 0.06 and 4.9e-4.",
      )
    }`,
    "const fmt = (x: number | bigint, digits = 0) =>",
    `  new Intl.NumberFormat("${locale}", { maximumFractionDigits: digits }).format(x);`,
    "const sci = (x: number, digits = 3) =>",
    `  x.toExponential(digits)${lang === "es" ? '.replace(".", ",")' : ""};`,
    `// ${
      t(
        "fixed escribe exactamente digits decimales (fmt quita los ceros finales); pct, un porcentaje.",
        "fixed writes exactly digits decimals (fmt drops trailing zeros); pct, a percentage.",
      )
    }`,
    "const fixed = (x: number, digits = 2) =>",
    "  Number.isFinite(x)",
    `    ? x.toLocaleString("${locale}", { minimumFractionDigits: digits, maximumFractionDigits: digits })`,
    "    : String(x);",
    `const pct = (x: number, digits = 1) => fixed(100 * x, digits) + "${t(" %", "%")}";`,
    `// ${t("say muestra una frase en Markdown.", "say shows a sentence in Markdown.")}`,
    'const say = (text: string) => output({ "text/markdown": text });',
    `// ${
      t(
        "Las figuras escriben los números en español (coma decimal).",
        "Figures write numbers in English (decimal point).",
      )
    }`,
    `const LANG = "${lang}";`,
  ].join(`\n${indent}`);
}
