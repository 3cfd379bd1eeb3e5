/**
 * `deno task site` (`deno run -A packages/notebook/site/build.ts [--out DIR] [--notebooks DIR]`):
 * builds the static teaching site.
 *
 * 1. loads the chapter sources (`packages/notebook/chapters/NN-slug.ts`) for their titles;
 * 2. finds each executed notebook's HTML fragment, `out/notebooks/{es,en}/NN-slug.html`; when
 *    one is missing or older than its notebook (and `--notebooks` was not given), runs
 *    `deno task notebooks:run` first and fails if that fails;
 * 3. bundles the lab's client code (`client/lab.ts`, with `@loraquant/reference` and
 *    `@loraquant/notebook`'s figures) with esbuild into one minified ES module and its source map,
 *    resolving bare specifiers through `_deno_resolve.ts` (no node_modules needed). The module is
 *    inlined into each lab page (`<script type="module">…</script>`), because Chromium refuses
 *    to load a module FILE from `file://` (an opaque origin); its source map is
 *    `assets/lab.js.map`;
 * 4. writes `DIR/index.html` (the language chooser), `DIR/{es,en}/index.html` (chapter list),
 *    `DIR/{es,en}/NN-slug.html` (each chapter), `DIR/{es,en}/lab.html` (the interactive figures)
 *    and `DIR/assets/` (site.css, lab.js.map).
 *
 * Nothing is loaded from the network, and the pages work from `file://` as from a static server.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { LANGS } from "../chapters/_cell.ts";
import { CHAPTERS_DIR, loadChapters } from "../_notebook.ts";
import { createDenoResolver, denoResolvePlugin } from "./_deno_resolve.ts";
import type { ChapterInfo } from "./_layout.ts";
import { chapterPage, chooserPage, homePage, labPage } from "./_pages.ts";

const ROOT = new URL("../../../", import.meta.url);

/** Options of {@linkcode buildSite}. */
export interface BuildSiteOptions {
  /** The folder to write the site into. @default {"out/site" under the repository root} */
  readonly out?: string;
  /**
   * The folder of the notebook fragments (`{es,en}/NN-slug.html`). When given, missing fragments
   * are an error; by default (`out/notebooks`) they are produced with `deno task notebooks:run`.
   */
  readonly notebooks?: string;
  /** The chapter sources. @default {packages/notebook/chapters/} */
  readonly chaptersDir?: URL;
  /** Progress messages. @default {console.log} */
  readonly log?: (message: string) => void;
}

/** What {@linkcode buildSite} wrote. */
export interface BuildSiteResult {
  /** The site's folder (absolute). */
  readonly out: string;
  /** Every HTML page, relative to `out`, sorted. */
  readonly pages: readonly string[];
  /** The chapters, in order. */
  readonly chapters: readonly ChapterInfo[];
  /** The size of the bundled lab script in bytes. */
  readonly scriptBytes: number;
}

/**
 * Builds the site (see the module documentation).
 *
 * @param options The output and input folders.
 * @returns The pages written.
 * @throws {Error} When a fragment is missing (and cannot be produced), `deno task notebooks:run`
 * fails, or the bundle fails (naming the unresolved import).
 *
 * @example Building with placeholder fragments
 * ```ts ignore
 * import { buildSite } from "./build.ts";
 * const { pages } = await buildSite({ out: "/tmp/site", notebooks: "/tmp/fragments" });
 * ```
 */
export async function buildSite(options: BuildSiteOptions = {}): Promise<BuildSiteResult> {
  const log = options.log ?? console.log;
  const out = absolute(options.out ?? "out/site");
  const chapters: ChapterInfo[] = (await loadChapters(options.chaptersDir ?? CHAPTERS_DIR)).map((
    c,
  ) => ({ slug: c.slug, number: c.number, title: c.title }));
  // Fail on an unwritable --out before anything long runs.
  try {
    await Deno.mkdir(out, { recursive: true });
    const probe = `${out}/.write-test-${Deno.pid}`;
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new Error(`Cannot write the site to "${out}": ${(error as Error).message}`);
  }
  const notebooks = absolute(options.notebooks ?? "out/notebooks");
  let missing = await missingFragments(notebooks, chapters);
  if (options.notebooks === undefined) {
    const stale = await staleFragments(notebooks, chapters);
    if (missing.length > 0 || stale.length > 0) {
      log(
        `${missing.length > 0 ? `Missing notebook fragments (${missing.join(", ")})` : ""}${
          missing.length > 0 && stale.length > 0 ? "; " : ""
        }${
          stale.length > 0 ? `fragments older than their notebooks (${stale.join(", ")})` : ""
        }: running deno task notebooks:run`,
      );
      // Only those notebooks (notebooks:run takes path filters: "es/04-demo" matches its file).
      await runNotebooks([...missing, ...stale].map((p) => p.replace(/\.html$/, ".ipynb")));
      missing = await missingFragments(notebooks, chapters);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `Cannot build the site: no executed notebook fragment ${
        missing.map((p) => `${notebooks}/${p}`).join(", ")
      } (run deno task notebooks:run)`,
    );
  }

  const { script, map } = await bundleLab(out);
  const files = new Map<string, string>();
  files.set("index.html", chooserPage());
  for (const lang of LANGS) {
    files.set(`${lang}/index.html`, homePage(lang, chapters));
    files.set(`${lang}/lab.html`, labPage(lang, chapters, script, "../assets/lab.js.map"));
    for (const [i, chapter] of chapters.entries()) {
      const fragment = await Deno.readTextFile(`${notebooks}/${lang}/${chapter.slug}.html`);
      files.set(`${lang}/${chapter.slug}.html`, chapterPage(lang, chapters, i, fragment));
    }
  }
  files.set("assets/site.css", await Deno.readTextFile(new URL("./site.css", import.meta.url)));
  files.set("assets/lab.js.map", map);

  // Replace what an earlier build wrote (and nothing else: screenshots stay).
  for (const old of ["index.html", "assets", ...LANGS]) {
    await Deno.remove(`${out}/${old}`, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  for (const [path, text] of files) {
    await Deno.mkdir(`${out}/${path.slice(0, path.lastIndexOf("/") + 1)}`, { recursive: true });
    await Deno.writeTextFile(`${out}/${path}`, text);
  }
  const pages = [...files.keys()].filter((p) => p.endsWith(".html")).sort();
  log(
    `Site written to ${out}: ${pages.length} pages (${chapters.length} chapters × ${LANGS.length} ` +
      `languages, homes, labs, chooser), lab script ${(script.length / 1024).toFixed(0)} KiB`,
  );
  return { out, pages, chapters, scriptBytes: new TextEncoder().encode(script).length };
}

/** The fragments `{lang}/{slug}.html` that do not exist under `dir`. */
async function missingFragments(
  dir: string,
  chapters: readonly ChapterInfo[],
): Promise<string[]> {
  const missing: string[] = [];
  for (const lang of LANGS) {
    for (const chapter of chapters) {
      const path = `${lang}/${chapter.slug}.html`;
      const exists = await Deno.stat(`${dir}/${path}`).then((s) => s.isFile, () => false);
      if (!exists) missing.push(path);
    }
  }
  return missing;
}

/**
 * The fragments older than their notebook (`packages/notebook/notebooks/{lang}/{slug}.ipynb`,
 * which `deno task notebooks` rewrites when a chapter source changes): executed before the change.
 */
async function staleFragments(
  dir: string,
  chapters: readonly ChapterInfo[],
): Promise<string[]> {
  const stale: string[] = [];
  const mtime = (path: string) => Deno.stat(path).then((s) => s.mtime?.getTime(), () => undefined);
  for (const lang of LANGS) {
    for (const chapter of chapters) {
      const fragment = await mtime(`${dir}/${lang}/${chapter.slug}.html`);
      const source = await mtime(
        new URL(`../notebooks/${lang}/${chapter.slug}.ipynb`, import.meta.url).pathname,
      );
      if (fragment !== undefined && source !== undefined && fragment < source) {
        stale.push(`${lang}/${chapter.slug}.html`);
      }
    }
  }
  return stale;
}

/**
 * Runs `deno task notebooks:run` on the given notebooks (`es/04-demo.ipynb`; its progress shown
 * as it goes), failing when it fails.
 */
async function runNotebooks(paths: readonly string[]): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "notebooks:run", ...paths],
    cwd: ROOT.pathname,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot build the site: deno task notebooks:run failed (exit ${code}); its output is above.`,
    );
  }
}

/** Bundles client/lab.ts: one minified ES module for browsers, and its source map. */
async function bundleLab(out: string): Promise<{ script: string; map: string }> {
  const resolver = await createDenoResolver({ root: ROOT.pathname });
  try {
    const result = await esbuild.build({
      entryPoints: [new URL("./client/lab.ts", import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["es2022", "chrome110", "firefox115", "safari16"],
      minify: true,
      sourcemap: "external",
      sourcesContent: true,
      charset: "utf8",
      legalComments: "none",
      outfile: `${out}/assets/lab.js`,
      write: false,
      logLevel: "silent",
      plugins: [denoResolvePlugin(resolver)],
    });
    const script = result.outputFiles.find((f) => f.path.endsWith(".js"));
    const map = result.outputFiles.find((f) => f.path.endsWith(".js.map"));
    if (script === undefined || map === undefined) {
      throw new Error("esbuild wrote no lab.js or no lab.js.map");
    }
    // esbuild's own comment names lab.js.map next to lab.js; the pages add theirs.
    return { script: script.text.replace(/\n\/\/# sourceMappingURL=.*\n?$/, ""), map: map.text };
  } catch (error) {
    const errors = (error as { errors?: esbuild.Message[] }).errors;
    if (errors === undefined) throw error;
    throw new Error(
      `Cannot bundle the lab's script:\n${
        errors.map((e) =>
          `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`
        ).join("\n")
      }`,
    );
  } finally {
    await esbuild.stop();
  }
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : new URL(path, ROOT).pathname.replace(/\/$/, "");
}

const USAGE = `deno task site [--out DIR] [--notebooks DIR]

Builds the teaching site: DIR/index.html (language chooser), DIR/{es,en}/index.html,
DIR/{es,en}/NN-slug.html (the executed notebooks), DIR/{es,en}/lab.html (the interactive
figures), DIR/assets/.
  --out DIR        where to write the site (default out/site)
  --notebooks DIR  the executed notebook fragments (default out/notebooks, produced with
                   deno task notebooks:run when missing)`;

/** Parses `--out DIR` / `--out=DIR` and `--notebooks DIR`; exits 2 on anything else. */
function parseArgs(args: readonly string[]): { out?: string; notebooks?: string } {
  const options: { out?: string; notebooks?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    }
    const match = /^--(out|notebooks)(?:=(.*))?$/.exec(arg);
    const value = match?.[2] ?? args[i + 1];
    if (match === null || value === undefined || value === "") {
      console.error(`Unknown or incomplete argument ${JSON.stringify(arg)}\n\n${USAGE}`);
      Deno.exit(2);
    }
    if (match[2] === undefined) i++;
    options[match[1] as "out" | "notebooks"] = value;
  }
  return options;
}

if (import.meta.main) {
  try {
    await buildSite(parseArgs(Deno.args));
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
