/**
 * `deno task notebooks:run` (`deno run -A packages/notebook/execute.ts [--jobs N] [filter...]`):
 * executes every generated notebook with the real Deno Jupyter kernel, as CI does, and exports
 * the results for the site:
 *
 * 1. checks that `jupyter` (nbconvert) and the `deno` kernelspec exist (exit 2 with how to
 *    install them otherwise);
 * 2. makes sure `out/demo/results.json` exists (chapter 4 reads it), running
 *    `deno task demo --quick --out out/demo` if it does not;
 * 3. runs each `notebooks/{lang}/NN-slug.ipynb` with
 *    `NO_COLOR=1 jupyter nbconvert --to notebook --execute` into
 *    `out/notebooks/{lang}/NN-slug.ipynb` (a failing cell fails the run, printing its error);
 * 4. exports each executed notebook as an HTML fragment (`--to html --template basic`: the cells
 *    only, no page, no scripts from a CDN) into `out/notebooks/{lang}/NN-slug.html`.
 *
 * A `filter` keeps the notebooks whose path contains it (e.g. `01-lora` or `en/`).
 *
 * @module
 */
import { LANGS } from "./chapters/_cell.ts";
import { existingNotebooks, NOTEBOOKS_DIR } from "./_notebook.ts";

/**
 * Finds the repository root from a directory: the nearest ancestor (or the directory itself)
 * holding a `deno.json` with a `"workspace"` field. Notebooks call the same walk from their
 * working directory to find `out/demo/results.json`.
 *
 * @param start An absolute directory path.
 * @returns The root's absolute path.
 * @throws {Error} when no ancestor holds a workspace `deno.json`.
 *
 * @example From this package up to the repository root
 * ```ts
 * import { findWorkspaceRoot } from "./execute.ts";
 * import { assert } from "@std/assert";
 *
 * const root = findWorkspaceRoot(new URL(".", import.meta.url).pathname);
 * const config = JSON.parse(Deno.readTextFileSync(`${root}/deno.json`));
 * assert(Array.isArray(config.workspace));
 * ```
 */
export function findWorkspaceRoot(start: string): string {
  let dir = start.replace(/\/+$/, "") || "/";
  while (true) {
    try {
      const config = JSON.parse(Deno.readTextFileSync(`${dir}/deno.json`));
      if (config !== null && typeof config === "object" && "workspace" in config) return dir;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (dir === "/") break;
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
  throw new Error(
    `Cannot find the repository root: no deno.json with "workspace" in ${start} or above`,
  );
}

/**
 * Picks the failing cell and its error out of nbconvert's output: from nbclient's
 * "An error occurred while executing the following cell" to the end (the cell's source and the
 * kernel's error), or the last 40 lines when that sentence is absent.
 *
 * @param output nbconvert's stderr.
 * @returns The part worth showing.
 *
 * @example
 * ```ts
 * import { failingCell } from "./execute.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const stderr = "Traceback ...\nCellExecutionError: An error occurred while executing the " +
 *   "following cell:\n------------------\nthrow 1\n------------------\n\nUncaught 1\n";
 * assertEquals(
 *   failingCell(stderr),
 *   "An error occurred while executing the following cell:\n------------------\nthrow 1\n" +
 *     "------------------\n\nUncaught 1",
 * );
 * ```
 */
export function failingCell(output: string): string {
  // deno-lint-ignore no-control-regex
  const text = output.replace(/\x1b\[[0-9;]*m/g, "").trimEnd();
  const at = text.indexOf("An error occurred while executing the following cell");
  if (at >= 0) return text.slice(at);
  return text.split("\n").slice(-40).join("\n");
}

/**
 * Makes an nbconvert HTML fragment self-contained for the site: links between notebooks
 * (`../en/01-lora.ipynb`) point to their HTML (`../en/01-lora.html`), and any element that would
 * load from the network (a `<script src>`, `<link href>`, `<img src>` or `<iframe src>` on
 * http(s)) is reported.
 *
 * @param html The fragment nbconvert wrote.
 * @returns The fragment with relative notebook links rewritten, and the network loads found.
 *
 * @example
 * ```ts
 * import { localizeFragment } from "./execute.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const { html, remote } = localizeFragment(
 *   '<a href="../en/01-lora.ipynb">English</a><script src="https://cdn.example/x.js"></script>',
 * );
 * assertEquals(html.slice(0, 37), '<a href="../en/01-lora.html">English<');
 * assertEquals(remote, ['<script src="https://cdn.example/x.js">']);
 * ```
 */
export function localizeFragment(html: string): { html: string; remote: string[] } {
  const rewritten = html.replace(
    /href="((?:\.\.\/)?(?:[a-z]{2}\/)?\d{2}-[a-z0-9-]+)\.ipynb"/g,
    'href="$1.html"',
  );
  const remote = [
    ...rewritten.matchAll(
      /<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?https?:[^>]*>/gi,
    ),
  ].map((m) => m[0]);
  return { html: rewritten, remote };
}

/**
 * Lists the code cells of an executed notebook that should have shown something and have no
 * output: cells that `await show(`, `print(` or `table(`, or call `Deno.jupyter.` at the top level,
 * yet kept none. The Deno
 * kernel can report a cell idle before its last outputs are sent, and nbconvert then drops them
 * (the notebooks' `output` helper pauses after each output to prevent it); this check makes a
 * regression visible.
 *
 * @param notebook An executed notebook (parsed nbformat 4 JSON).
 * @returns The ids of the silent cells.
 *
 * @example
 * ```ts
 * import { silentCells } from "./execute.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const cell = (id: string, source: string, outputs: unknown[]) =>
 *   ({ cell_type: "code", id, source, outputs });
 * assertEquals(
 *   silentCells({
 *     cells: [
 *       cell("a", "await show(x)", [{}]),
 *       cell("b", "for (const x of xs) await print(x);", []),
 *       cell("c", "const show = (svg: string) =>\n  Deno.jupyter.display(svg);", []),
 *     ],
 *   }),
 *   ["b"],
 * );
 * ```
 */
export function silentCells(notebook: {
  cells: readonly {
    cell_type: string;
    id?: string;
    source: string | string[];
    outputs?: unknown[];
  }[];
}): string[] {
  // A call of the helpers (chapters 3 and 4 add `say` and `missing`) anywhere, or a display at the top level of the cell (not inside a
  // helper's definition).
  const displays = /\bawait\s+(?:show|print|table|say|missing)\(|^(?:await\s+)?Deno\.jupyter\./m;
  return notebook.cells.flatMap((cell, i) => {
    if (cell.cell_type !== "code" || (cell.outputs?.length ?? 0) > 0) return [];
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    return displays.test(source) ? [cell.id ?? `#${i}`] : [];
  });
}

/**
 * Gives every SVG output an HTML copy, so the HTML export keeps it: nbconvert 6's templates pass
 * `image/svg+xml` through lxml's `clean_html`, which strips the SVG's children (an empty
 * `<svg></svg>` remains), while `text/html`, which they prefer, passes unchanged. Outputs that
 * already carry `text/html` are left alone.
 *
 * @param notebook An executed notebook (parsed nbformat 4 JSON); changed in place.
 * @returns How many outputs got an HTML copy.
 *
 * @example
 * ```ts
 * import { svgAsHtml } from "./execute.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const svg = '<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>';
 * const data: Record<string, unknown> = { "image/svg+xml": [svg] };
 * const notebook = { cells: [{ cell_type: "code", outputs: [{ output_type: "display_data", data }] }] };
 * assertEquals(svgAsHtml(notebook), 1);
 * assertEquals(data, { "image/svg+xml": [svg], "text/html": [svg] });
 * assertEquals(svgAsHtml(notebook), 0); // already copied
 * ```
 */
export function svgAsHtml(notebook: {
  cells: readonly { outputs?: readonly { data?: Record<string, unknown> }[] }[];
}): number {
  let copied = 0;
  for (const cell of notebook.cells) {
    for (const output of cell.outputs ?? []) {
      const data = output.data;
      if (data === undefined || !("image/svg+xml" in data) || "text/html" in data) continue;
      data["text/html"] = data["image/svg+xml"];
      copied++;
    }
  }
  return copied;
}

/**
 * Compares the output counts of the same chapter in two languages, cell by cell (the cells share
 * their ids): both notebooks run the same code, so a cell with fewer outputs in one language
 * most likely lost some (see {@linkcode silentCells}).
 *
 * @param a One executed notebook (parsed nbformat 4 JSON).
 * @param b The same chapter in the other language.
 * @returns `id: countA ≠ countB` for each cell whose counts differ.
 *
 * @example
 * ```ts
 * import { outputMismatches } from "./execute.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const nb = (...counts: number[]) => ({
 *   cells: counts.map((n, i) => ({ cell_type: "code", id: `c${i}`, outputs: Array(n).fill({}) })),
 * });
 * assertEquals(outputMismatches(nb(1, 3, 0), nb(1, 2, 0)), ["c1: 3 ≠ 2"]);
 * ```
 */
export function outputMismatches(
  a: { cells: readonly { cell_type: string; id?: string; outputs?: readonly unknown[] }[] },
  b: { cells: readonly { cell_type: string; id?: string; outputs?: readonly unknown[] }[] },
): string[] {
  const counts = new Map(b.cells.map((cell) => [cell.id, cell.outputs?.length ?? 0]));
  return a.cells.flatMap((cell) => {
    if (cell.cell_type !== "code" || cell.id === undefined || !counts.has(cell.id)) return [];
    const n = cell.outputs?.length ?? 0;
    const m = counts.get(cell.id)!;
    return n === m ? [] : [`${cell.id}: ${n} ≠ ${m}`];
  });
}

interface Outcome {
  readonly path: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly error?: string;
  readonly silent?: readonly string[];
}

const decoder = new TextDecoder();

async function jupyter(args: string[], cwd: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command("jupyter", {
    args,
    cwd,
    // The kernel inherits this environment. LORAQUANT_REQUIRE_DEMO_RESULTS: main() made sure
    // out/demo/results.json exists, so chapter 4 fails instead of showing "no results".
    env: {
      NO_COLOR: "1",
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
      LORAQUANT_REQUIRE_DEMO_RESULTS: "1",
    },
    stdin: "null",
  }).output();
}

/** Exit 2 with instructions when nbconvert or the Deno kernel is missing; null when both exist. */
async function missingTools(root: string): Promise<string | null> {
  let specs: Deno.CommandOutput;
  try {
    specs = await jupyter(["kernelspec", "list", "--json"], root);
    const nbconvert = await jupyter(["nbconvert", "--version"], root);
    if (!nbconvert.success) throw new Error(decoder.decode(nbconvert.stderr));
  } catch (error) {
    return [
      `Jupyter's nbconvert is not available (${String(error).split("\n")[0]}).`,
      "Install it, for example with `apt-get install -y jupyter-nbconvert python3-ipykernel`",
      "or `pip install nbconvert nbclient ipykernel`, then run `deno jupyter --install`.",
    ].join("\n");
  }
  let names: string[] = [];
  try {
    names = Object.keys(JSON.parse(decoder.decode(specs.stdout)).kernelspecs ?? {});
  } catch {
    // fall through: reported below
  }
  if (!names.includes("deno")) {
    return [
      `The Deno Jupyter kernel is not installed (kernels found: ${names.join(", ") || "none"}).`,
      "Install it with `deno jupyter --install` (it writes the `deno` kernelspec).",
    ].join("\n");
  }
  return null;
}

async function ensureDemoResults(root: string): Promise<boolean> {
  const results = `${root}/out/demo/results.json`;
  try {
    await Deno.stat(results);
    return true;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  console.log("out/demo/results.json is missing (chapter 4 reads it): running the quick demo");
  const demo = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--quick", "--out", "out/demo"],
    cwd: root,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!demo.success) console.error(`deno task demo --quick failed (exit ${demo.code})`);
  return demo.success;
}

async function runOne(root: string, path: string): Promise<Outcome> {
  const started = performance.now();
  const seconds = (): number => Math.round((performance.now() - started) / 100) / 10;
  const input = new URL(path, NOTEBOOKS_DIR).pathname;
  const lang = path.slice(0, path.indexOf("/"));
  const stem = path.slice(lang.length + 1, -".ipynb".length);
  const outDir = `${root}/out/notebooks/${lang}`;
  await Deno.mkdir(outDir, { recursive: true });
  const run = await jupyter([
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    "--ExecutePreprocessor.timeout=600",
    "--ExecutePreprocessor.kernel_name=deno",
    "--output-dir",
    outDir,
    "--output",
    stem,
    input,
  ], root);
  if (!run.success) {
    return { path, ok: false, seconds: seconds(), error: failingCell(decoder.decode(run.stderr)) };
  }
  // Before the HTML export: every SVG-only output gets its HTML copy (see svgAsHtml).
  const executed = `${outDir}/${stem}.ipynb`;
  const notebook = JSON.parse(await Deno.readTextFile(executed));
  const silent = silentCells(notebook);
  if (svgAsHtml(notebook) > 0) {
    await Deno.writeTextFile(executed, `${JSON.stringify(notebook, null, 1)}\n`);
  }
  const html = await jupyter([
    "nbconvert",
    "--to",
    "html",
    "--template",
    "basic",
    "--output-dir",
    outDir,
    "--output",
    stem,
    executed,
  ], root);
  if (!html.success) {
    const error = `HTML export failed:\n${failingCell(decoder.decode(html.stderr))}`;
    return { path, ok: false, seconds: seconds(), error };
  }
  const file = `${outDir}/${stem}.html`;
  const fragment = localizeFragment(await Deno.readTextFile(file));
  await Deno.writeTextFile(file, fragment.html);
  if (fragment.remote.length > 0) {
    const error = `the HTML would load from the network:\n  ${fragment.remote.join("\n  ")}`;
    return { path, ok: false, seconds: seconds(), error };
  }
  return { path, ok: true, seconds: seconds(), silent };
}

/** Runs of a notebook whose displaying cells came back empty, before the run fails. */
const ATTEMPTS = 3;

function parseArgs(args: string[]): { jobs: number; filters: string[] } | string {
  let jobs = Math.min(2, navigator.hardwareConcurrency || 1);
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--jobs") {
      jobs = Number(args[++i]);
      if (!Number.isInteger(jobs) || jobs < 1) return `--jobs needs an integer ≥ 1, got ${args[i]}`;
    } else if (arg.startsWith("-")) return `Unknown option ${arg}`;
    else filters.push(arg);
  }
  return { jobs, filters };
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log("Usage: deno task notebooks:run [--jobs N] [filter...]");
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    console.error(`${parsed}\nUsage: deno task notebooks:run [--jobs N] [filter...]`);
    return 2;
  }
  const root = findWorkspaceRoot(new URL(".", import.meta.url).pathname);
  const missing = await missingTools(root);
  if (missing !== null) {
    console.error(missing);
    return 2;
  }
  const all = await existingNotebooks();
  const paths = all.filter((p) =>
    parsed.filters.length === 0 || parsed.filters.some((f) => p.includes(f))
  );
  if (paths.length === 0) {
    console.error(
      all.length === 0
        ? "No notebooks found: run `deno task notebooks` first."
        : `No notebook matches ${parsed.filters.join(", ")}.`,
    );
    return 1;
  }
  if (!await ensureDemoResults(root)) return 1;
  // Languages interleaved so that two workers rarely start the same chapter at once.
  const queue = [...paths].sort((a, b) =>
    a.slice(3).localeCompare(b.slice(3)) ||
    LANGS.indexOf(a.slice(0, 2) as never) - LANGS.indexOf(b.slice(0, 2) as never)
  );
  const jobs = Math.min(parsed.jobs, queue.length);
  console.log(
    `Executing ${queue.length} notebook${queue.length === 1 ? "" : "s"}, ${jobs} at a time …`,
  );
  const started = performance.now();
  const failures: Outcome[] = [];
  const worker = async (): Promise<void> => {
    while (queue.length > 0 && failures.length === 0) {
      const path = queue.shift()!;
      let outcome = await runOne(root, path);
      // The Deno kernel can report a cell done before its last outputs arrive, and nbconvert
      // then drops them (docs/teaching.md). Such a run is repeated; nothing lost is the rule.
      for (
        let attempt = 2;
        attempt <= ATTEMPTS && outcome.ok && outcome.silent?.length;
        attempt++
      ) {
        console.warn(
          `  ${path}: no output from cell(s) ${outcome.silent.join(", ")}: the kernel dropped ` +
            `it; running the notebook again (attempt ${attempt} of ${ATTEMPTS})`,
        );
        outcome = await runOne(root, path);
      }
      if (outcome.ok && outcome.silent?.length) {
        outcome = {
          ...outcome,
          ok: false,
          error: `cell(s) ${outcome.silent.join(", ")} showed nothing in ${ATTEMPTS} runs ` +
            "(a cell that displays must display something; see docs/teaching.md)",
        };
      }
      const status = outcome.ok ? "ok    " : "FAILED";
      console.log(`  ${status} ${outcome.path.padEnd(28)} ${outcome.seconds.toFixed(1)} s`);
      if (!outcome.ok) failures.push(outcome);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  const total = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    for (const failure of failures) {
      console.error(`\n${failure.path} failed:\n${failure.error}`);
    }
    if (queue.length > 0) console.error(`\n(${queue.length} notebooks not run after the failure)`);
    return 1;
  }
  await warnAboutMismatches(root, paths);
  const count = paths.length === 1 ? "The notebook" : `All ${paths.length} notebooks`;
  console.log(`${count} ran in ${total} s: out/notebooks/{es,en}/*.html`);
  return 0;
}

/** Warns when a chapter's two languages kept different numbers of outputs in some cell. */
async function warnAboutMismatches(root: string, paths: readonly string[]): Promise<void> {
  const [first, ...others] = LANGS;
  for (const path of paths.filter((p) => p.startsWith(`${first}/`))) {
    const stem = path.slice(first!.length + 1, -".ipynb".length);
    const read = async (lang: string) =>
      JSON.parse(await Deno.readTextFile(`${root}/out/notebooks/${lang}/${stem}.ipynb`));
    for (const other of others) {
      if (!paths.includes(`${other}/${stem}.ipynb`)) continue;
      const mismatches = outputMismatches(await read(first!), await read(other));
      if (mismatches.length > 0) {
        console.warn(
          `  warning: ${stem}: ${first} and ${other} kept different numbers of outputs in ` +
            `${mismatches.join(", ")} (the kernel may have dropped some; see docs/teaching.md)`,
        );
      }
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
