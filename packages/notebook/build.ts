/**
 * `deno task notebooks` (`deno run -A packages/notebook/build.ts [--check]`): renders every
 * chapter source `chapters/NN-slug.ts` into `notebooks/{es,en}/NN-slug.ipynb` for the Deno
 * Jupyter kernel (nbformat 4.5, no outputs). `--check` writes nothing and exits 1 listing the
 * notebooks that differ from their sources (what CI runs); docs/teaching.md explains the workflow.
 *
 * @module
 */
import {
  CHAPTERS_DIR,
  existingNotebooks,
  loadChapters,
  NOTEBOOKS_DIR,
  readIfExists,
  renderAll,
} from "./_notebook.ts";

/** Where {@linkcode staleNotebooks} and {@linkcode writeNotebooks} read and write. */
export interface NotebookDirs {
  /** The chapter sources. @default packages/notebook/chapters/ */
  chaptersDir?: URL;
  /** The generated notebooks. @default packages/notebook/notebooks/ */
  notebooksDir?: URL;
}

/** A notebook on disk that does not match its source. */
export interface StaleNotebook {
  /** The path relative to the notebooks directory, e.g. `es/01-lora.ipynb`. */
  readonly path: string;
  /** `missing`: not written yet; `differs`: edited or outdated; `orphan`: no source renders it. */
  readonly reason: "missing" | "differs" | "orphan";
}

/**
 * Lists the notebooks that differ from what their chapter sources render, without writing.
 *
 * @param options The directories (default: this package's `chapters/` and `notebooks/`).
 * @returns The stale notebooks, sorted by path; empty when everything is up to date.
 * @throws {TypeError} when a chapter source is malformed (naming the file and the cell).
 *
 * @example A chapter whose notebooks were never written
 * ```ts
 * import { staleNotebooks } from "./build.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/chapters`);
 * await Deno.writeTextFile(
 *   `${root}/chapters/01-hello.ts`,
 *   `export const chapter = { slug: "01-hello", number: 1, title: { es: "Hola", en: "Hello" },
 *     cells: [{ kind: "code", code: "1 + 1" }] };`,
 * );
 * const stale = await staleNotebooks({
 *   chaptersDir: new URL(`file://${root}/chapters/`),
 *   notebooksDir: new URL(`file://${root}/notebooks/`),
 * });
 * assertEquals(stale, [
 *   { path: "en/01-hello.ipynb", reason: "missing" },
 *   { path: "es/01-hello.ipynb", reason: "missing" },
 * ]);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function staleNotebooks(options: NotebookDirs = {}): Promise<StaleNotebook[]> {
  const notebooksDir = options.notebooksDir ?? NOTEBOOKS_DIR;
  const expected = renderAll(await loadChapters(options.chaptersDir ?? CHAPTERS_DIR));
  const stale: StaleNotebook[] = [];
  for (const [path, text] of expected) {
    const onDisk = await readIfExists(new URL(path, notebooksDir));
    if (onDisk === undefined) stale.push({ path, reason: "missing" });
    else if (onDisk !== text) stale.push({ path, reason: "differs" });
  }
  for (const path of await existingNotebooks(notebooksDir)) {
    if (!expected.has(path)) stale.push({ path, reason: "orphan" });
  }
  return stale.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The result of {@linkcode writeNotebooks}. */
export interface WriteResult {
  /** Notebooks written because they were missing or differed (relative paths, sorted). */
  readonly written: string[];
  /** Notebooks deleted because no chapter source renders them any more. */
  readonly removed: string[];
  /** How many notebooks the sources render in all. */
  readonly total: number;
}

/**
 * Renders every chapter source and writes the notebooks that are missing or differ; deletes
 * `.ipynb` files under `notebooks/{lang}/` that no source renders (a renamed chapter). All
 * sources are rendered before anything is written, so a broken source writes nothing.
 *
 * @param options The directories (default: this package's `chapters/` and `notebooks/`).
 * @returns What was written and removed.
 * @throws {TypeError} when a chapter source is malformed (naming the file and the cell).
 *
 * @example Writing, then nothing left to write
 * ```ts
 * import { staleNotebooks, writeNotebooks } from "./build.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/chapters`);
 * await Deno.writeTextFile(
 *   `${root}/chapters/07-hello.ts`,
 *   `export const chapter = { slug: "07-hello", number: 7, title: { es: "Hola", en: "Hello" },
 *     cells: [{ kind: "markdown", text: { es: "¡Hola!", en: "Hello!" } }] };`,
 * );
 * const dirs = {
 *   chaptersDir: new URL(`file://${root}/chapters/`),
 *   notebooksDir: new URL(`file://${root}/notebooks/`),
 * };
 * assertEquals((await writeNotebooks(dirs)).written, ["en/07-hello.ipynb", "es/07-hello.ipynb"]);
 * assertEquals(await staleNotebooks(dirs), []);
 * assertEquals((await writeNotebooks(dirs)).written, []);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function writeNotebooks(options: NotebookDirs = {}): Promise<WriteResult> {
  const notebooksDir = options.notebooksDir ?? NOTEBOOKS_DIR;
  const expected = renderAll(await loadChapters(options.chaptersDir ?? CHAPTERS_DIR));
  const written: string[] = [];
  for (const [path, text] of expected) {
    const url = new URL(path, notebooksDir);
    if (await readIfExists(url) === text) continue;
    await Deno.mkdir(new URL("./", url), { recursive: true });
    await Deno.writeTextFile(url, text);
    written.push(path);
  }
  const removed: string[] = [];
  for (const path of await existingNotebooks(notebooksDir)) {
    if (expected.has(path)) continue;
    await Deno.remove(new URL(path, notebooksDir));
    removed.push(path);
  }
  return { written: written.sort(), removed, total: expected.size };
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== "--check");
  if (args.includes("--help") || args.includes("-h") || unknown.length > 0) {
    const bad = unknown.filter((a) => a !== "--help" && a !== "-h");
    if (bad.length > 0) console.error(`Unknown argument(s): ${bad.join(" ")}`);
    console.error("Usage: deno task notebooks [--check]");
    return bad.length > 0 ? 2 : 0;
  }
  const shown = (path: string): string => `packages/notebook/notebooks/${path}`;
  if (args.includes("--check")) {
    const stale = await staleNotebooks();
    if (stale.length === 0) {
      console.log("Notebooks are up to date with their chapter sources.");
      return 0;
    }
    console.error("These notebooks differ from their chapter sources:");
    for (const { path, reason } of stale) console.error(`  ${shown(path)} (${reason})`);
    console.error("Run `deno task notebooks` to regenerate them, then commit the result.");
    return 1;
  }
  const { written, removed, total } = await writeNotebooks();
  for (const path of written) console.log(`wrote   ${shown(path)}`);
  for (const path of removed) console.log(`removed ${shown(path)} (no chapter source renders it)`);
  console.log(`${total} notebooks, ${written.length} written, ${removed.length} removed.`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
