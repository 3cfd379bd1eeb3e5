// The site in headless Chromium (Debian's `chromium`, driven by playwright-core): every page loads
// without console errors, page errors or failed requests, from a static server and from file://;
// every figure renders with a non-zero size; each slider changes its figure; the overflow
// playground adds as the reference does; the language switch and the chooser's redirect work.
// Screenshots of every page go to SITE/screenshots/.
//
// Which site: LORAQUANT_SITE_DIR (or `-- --site=DIR`) names a built site (the gate runs
// `deno task site` and points this at out/site). Without it the test builds one into
// out/site-test/, from out/notebooks/ when every fragment is there, else from placeholder
// fragments written to a temporary folder.
//
// No Chromium (CHROMIUM_PATH overrides /usr/bin/chromium): skipped with a visible warning, unless
// LORAQUANT_REQUIRE_BROWSER=1 or CI=true, which make it fail.
import { type Browser, chromium, type Page } from "playwright-core";
import { assert, assertEquals, assertGreater, assertNotEquals, fail } from "@std/assert";
import { LANGS } from "../chapters/_cell.ts";
import { loadChapters } from "../_notebook.ts";
import { buildSite } from "./build.ts";
import { LAYER_SHAPES } from "./client/rank_model.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const HAS_CHROMIUM = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
const REQUIRED = Deno.env.get("LORAQUANT_REQUIRE_BROWSER") === "1" ||
  Deno.env.get("CI") === "true";
const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--allow-file-access-from-files",
];

if (!HAS_CHROMIUM) {
  const message = `No Chromium at ${CHROMIUM}: the site's browser tests are ` +
    (REQUIRED ? "REQUIRED (LORAQUANT_REQUIRE_BROWSER=1 or CI=true) and FAIL" : "SKIPPED") +
    " (apt-get install -y chromium, or set CHROMIUM_PATH).";
  console.warn(`%c⚠ ${message}`, "color: yellow; font-weight: bold");
  if (REQUIRED) {
    Deno.test("Chromium is installed for the site's browser tests", () => fail(message));
  }
}

/** The site to test: the one named, or a fresh build into out/site-test/. */
async function siteDir(): Promise<string> {
  const named = Deno.env.get("LORAQUANT_SITE_DIR") ??
    Deno.args.find((a) => a.startsWith("--site="))?.slice("--site=".length);
  if (named !== undefined) {
    const dir = named.startsWith("/") ? named : `${ROOT}${named}`;
    const built = await Deno.stat(`${dir}/index.html`).then(() => true, () => false);
    if (!built) fail(`LORAQUANT_SITE_DIR=${named}: no index.html there (run deno task site)`);
    return dir;
  }
  const chapters = await loadChapters();
  const complete = (await Promise.all(
    LANGS.flatMap((lang) =>
      chapters.map((c) => Deno.stat(`${ROOT}out/notebooks/${lang}/${c.slug}.html`))
    ).map((p) => p.then(() => true, () => false)),
  )).every(Boolean);
  let notebooks = `${ROOT}out/notebooks`;
  if (!complete) {
    // Placeholders for the build only, in a temporary folder (out/notebooks is the executor's).
    notebooks = await Deno.makeTempDir({ prefix: "loraquant-fragments-" });
    for (const lang of LANGS) {
      await Deno.mkdir(`${notebooks}/${lang}`);
      for (const c of chapters) {
        await Deno.writeTextFile(`${notebooks}/${lang}/${c.slug}.html`, placeholder(c.title[lang]));
      }
    }
  }
  const out = `${ROOT}out/site-test`;
  await buildSite({ out, notebooks, log: () => {} });
  if (!complete) await Deno.remove(notebooks, { recursive: true });
  return out;
}

/** A fragment shaped like nbconvert's basic template: a markdown cell, a code cell, an SVG. */
function placeholder(title: string): string {
  return `<div class="cell border-box-sizing text_cell rendered"><div class="inner_cell">
<div class="text_cell_render border-box-sizing rendered_html"><h1 id="t">${title}</h1>
<p>Placeholder fragment (no executed notebooks in out/notebooks).</p></div></div></div>
<div class="cell border-box-sizing code_cell rendered"><div class="input">
<div class="prompt input_prompt">In&nbsp;[1]:</div><div class="inner_cell"><div class="input_area">
<div class=" highlight hl-ipython3"><pre><span></span><span class="mi">1</span> <span class="o">+</span> <span class="mi">1</span></pre></div>
</div></div></div><div class="output_wrapper"><div class="output"><div class="output_area">
<div class="prompt output_prompt">Out[1]:</div><div class="output_svg output_subarea output_execute_result">
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" width="200" height="100" role="img" aria-label="placeholder"><rect width="200" height="100" fill="#ddd"/></svg>
</div></div></div></div></div>`;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
  png: "image/png",
};

/** A static file server for `dir` on 127.0.0.1 (what a reader's web server does). */
function serve(dir: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    const file = `${dir}${path.endsWith("/") ? `${path}index.html` : path}`;
    try {
      const body = await Deno.readFile(file);
      const type = CONTENT_TYPES[file.slice(file.lastIndexOf(".") + 1)] ??
        "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

/** Everything that went wrong on a page: console errors, page errors, failed or remote requests. */
function watch(page: Page, allowed: (url: string) => boolean): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on(
    "requestfailed",
    (r) => problems.push(`failed request: ${r.url()} ${r.failure()?.errorText}`),
  );
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on("request", (r) => {
    if (!allowed(r.url())) problems.push(`request outside the site: ${r.url()}`);
  });
  return problems;
}

/** Every outermost <svg> on the page: where it is, its size, and how many marks it draws. */
async function svgSizes(
  page: Page,
): Promise<{ id: string; width: number; height: number; marks: number }[]> {
  return await page.$$eval("svg:not(svg svg)", (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const holder = svg.closest("[id]");
      // A mark: a shape or text with a non-empty box (an emptied SVG keeps its size, not these).
      const marks = [...svg.querySelectorAll("rect, path, circle, line, polyline, polygon, text")]
        .filter((m) => {
          const b = m.getBoundingClientRect();
          return b.width > 0 || b.height > 0;
        }).length;
      return {
        id: holder?.id ?? svg.getAttribute("aria-label") ?? "?",
        width: box.width,
        height: box.height,
        marks,
      };
    }));
}

async function markup(page: Page, selector: string): Promise<string> {
  return await page.$eval(selector, (e) => e.innerHTML);
}

/** Digits only: "65.536" and "65,536" and "65 536" all read 65536. */
function digits(text: string): string {
  return text.replace(/\D/g, "");
}

Deno.test({
  name: "the site works in headless Chromium: pages, figures, sliders, playground, languages",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await siteDir();
    const shots = `${dir}/screenshots`;
    await Deno.mkdir(shots, { recursive: true });
    const chapters = await loadChapters();
    const server = serve(dir);
    const origin = `http://127.0.0.1:${server.addr.port}`;
    const local = (url: string): boolean =>
      url.startsWith(origin) || url.startsWith("file://") || url.startsWith("data:") ||
      url.startsWith("about:");
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        timeout: 30_000,
      });
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });

      const pages = [
        ...LANGS.flatMap((lang) => [
          `${lang}/index.html`,
          ...chapters.map((c) => `${lang}/${c.slug}.html`),
          `${lang}/lab.html`,
        ]),
      ];
      await t.step(
        `every page loads cleanly over HTTP with its figures drawn (${pages.length} pages)`,
        async () => {
          const page = await context.newPage();
          const problems = watch(page, local);
          const figuresOf = new Map<string, number>();
          for (const path of pages) {
            problems.length = 0;
            await page.goto(`${origin}/${path}`, { waitUntil: "load" });
            if (path.endsWith("lab.html")) {
              await page.waitForSelector("body[data-ready='true']", { timeout: 15_000 });
            }
            const sizes = await svgSizes(page);
            if (path.endsWith("lab.html")) {
              // rank bars, ΔW picture, histogram, overflow line.
              assertEquals(sizes.map((s) => s.id), [
                "rank-bars",
                "rank-picture",
                "bits-histogram",
                "ov-figure",
              ]);
            }
            figuresOf.set(path, sizes.length);
            for (const s of sizes) {
              assert(
                s.width > 0 && s.height > 0 && s.marks > 0,
                `${path}: the figure ${s.id} has size ${s.width}×${s.height}, ${s.marks} marks`,
              );
            }
            const html = await page.content();
            assert(!/\b(?:src|href)=["']https?:/i.test(html), `${path} links to the network`);
            await page.screenshot({
              path: `${shots}/${path.replace("/", "-").replace(".html", "")}.png`,
              fullPage: true,
            });
            assertEquals(problems, [], `${path}: ${problems.join("; ")}`);
          }
          // Every chapter shows figures, the same number in both languages (an output the
          // kernel dropped in one language, or an SVG emptied on export, shows up here).
          for (const c of chapters) {
            const counts = LANGS.map((lang) => figuresOf.get(`${lang}/${c.slug}.html`) ?? 0);
            assert(counts[0]! > 0, `${c.slug} shows no figure`);
            assert(
              counts.every((n) => n === counts[0]),
              `${c.slug}: figures per language ${counts}`,
            );
          }
          await page.close();
        },
      );

      await t.step("the chapter and lab pages also work from file://", async () => {
        const targets = [
          "es/lab.html",
          "en/lab.html",
          ...chapters.slice(0, 1).map((c) => `en/${c.slug}.html`),
        ];
        for (const path of targets) {
          const page = await context.newPage();
          const problems = watch(page, local);
          await page.goto(`file://${dir}/${path}`, { waitUntil: "load" });
          if (path.endsWith("lab.html")) {
            await page.waitForSelector("body[data-ready='true']", { timeout: 15_000 });
            assertEquals((await svgSizes(page)).filter((s) => s.width > 0).length, 4);
          }
          if (path.endsWith("lab.html")) {
            // A phone's width: the controls wrap, nothing scrolls sideways.
            await page.setViewportSize({ width: 390, height: 800 });
            const [scroll, inner] = await page.$eval("html", (e) => [e.scrollWidth, e.clientWidth]);
            assert(scroll <= inner, `${path} is ${scroll} px wide in a ${inner} px window`);
          }
          assertEquals(problems, [], `file://…/${path}: ${problems.join("; ")}`);
          await page.close();
        }
      });

      await t.step(
        "the chooser sends each reader to their language (Spanish by default)",
        async () => {
          for (
            const [locale, expected] of [["es-ES", "es"], ["en-US", "en"], ["fr-FR", "es"]] as const
          ) {
            const ctx = await browser!.newContext({ locale });
            const page = await ctx.newPage();
            const problems = watch(page, local);
            await page.goto(`${origin}/index.html`);
            await page.waitForURL(`${origin}/${expected}/index.html`, { timeout: 10_000 });
            assertEquals(await page.getAttribute("html", "lang"), expected);
            // The chooser's own redirect (location.replace) may abort the chooser's document
            // while it is still arriving: Chromium reports that as a failed request of
            // index.html, which is the redirect working, not a problem.
            const chooser = `failed request: ${origin}/index.html net::ERR_ABORTED`;
            assertEquals(problems.filter((p) => p !== chooser), []);
            await ctx.close();
          }
          const page = await context.newPage();
          const problems = watch(page, local);
          await page.goto(`${origin}/index.html#choose`);
          assertEquals(await page.locator(".languages a").count(), LANGS.length);
          await page.screenshot({ path: `${shots}/index.png`, fullPage: true });
          assertEquals(problems, []);
          await page.close();
        },
      );

      await t.step("the language switch opens the same page in the other language", async () => {
        const page = await context.newPage();
        for (const file of ["index.html", "lab.html", ...chapters.map((c) => `${c.slug}.html`)]) {
          for (const [from, to] of [["es", "en"], ["en", "es"]]) {
            await page.goto(`${origin}/${from}/${file}`);
            await page.click(".lang-switch");
            await page.waitForURL(`${origin}/${to}/${file}`);
            assertEquals(await page.getAttribute("html", "lang"), to);
          }
        }
        await page.close();
      });

      for (const lang of LANGS) {
        await t.step(
          `${lang}/lab.html: the rank slider recounts d·r + r·k and redraws ΔW ≈ B·A`,
          async () => {
            const page = await context.newPage();
            const problems = watch(page, local);
            await page.goto(`${origin}/${lang}/lab.html`);
            await page.waitForSelector("body[data-ready='true']");
            const check = async (): Promise<void> => {
              const r = Number(await page.inputValue("#rank-slider"));
              const shape = await page.$eval(
                "#rank-shape",
                (s) => s.querySelector("option:checked")?.textContent ?? "",
              );
              const [d, k] = shape.split("×").map(Number) as [number, number];
              const lora = d * r + r * k; // LoRA: B (d×r) and A (r×k)
              assertEquals(await page.getAttribute("#rank-count", "data-lora"), String(lora));
              assertEquals(await page.getAttribute("#rank-count", "data-full"), String(d * k));
              const text = await page.textContent("#rank-count") ?? "";
              assert(
                digits(text).startsWith(
                  digits(lora.toLocaleString(lang)) + digits((d * k).toLocaleString(lang)),
                ),
                text,
              );
              assertEquals(await page.textContent("#rank-value"), String(r));
            };
            await check();
            const bars = await markup(page, "#rank-bars");
            const picture = await markup(page, "#rank-picture");
            await page.focus("#rank-slider");
            await page.keyboard.press("ArrowRight"); // 8 → 9
            assertEquals(await page.inputValue("#rank-slider"), "9");
            await check();
            assertNotEquals(await markup(page, "#rank-bars"), bars);
            assertNotEquals(await markup(page, "#rank-picture"), picture);
            // B has r columns: r = 9 draws 24·9 cells of B and 9·16 of A beside the 24·16 of ΔW.
            assertEquals(
              await page.locator("#rank-picture .cell").count(),
              24 * 16 + 24 * 9 + 9 * 16,
            );
            for (const r of [1, 16, 64]) {
              await page.fill("#rank-slider", String(r));
              await check();
            }
            const before = await markup(page, "#rank-bars");
            for (const [i] of LAYER_SHAPES.entries()) {
              await page.selectOption("#rank-shape", String(i));
              await check();
            }
            assertNotEquals(await markup(page, "#rank-bars"), before);
            await page.screenshot({ path: `${shots}/${lang}-lab-rank-64.png`, fullPage: true });
            assertEquals(problems, [], problems.join("; "));
            await page.close();
          },
        );

        await t.step(
          `${lang}/lab.html: the bits slider redraws the error histogram; SQNR grows with bits`,
          async () => {
            const page = await context.newPage();
            const problems = watch(page, local);
            await page.goto(`${origin}/${lang}/lab.html`);
            await page.waitForSelector("body[data-ready='true']");
            const seen = new Set<string>();
            for (const scheme of ["tensor", "group"]) {
              await page.selectOption("#bits-scheme", scheme);
              let last = -Infinity;
              for (let bits = 2; bits <= 8; bits++) {
                await page.fill("#bits-slider", String(bits));
                assertEquals(await page.textContent("#bits-value"), String(bits));
                const figure = await markup(page, "#bits-histogram");
                assert(
                  !seen.has(figure),
                  `bits ${bits} (${scheme}) drew the same histogram as before`,
                );
                seen.add(figure);
                assertGreater(await page.locator("#bits-histogram .bar").count(), 0);
                const sqnr = Number(await page.getAttribute("#bits-summary", "data-sqnr"));
                // Each bit halves the quantization step: the SQNR rises (by about 6 dB).
                assertGreater(sqnr, last + 3, `SQNR ${sqnr} dB at ${bits} bits after ${last} dB`);
                last = sqnr;
              }
            }
            await page.focus("#bits-slider");
            const figure = await markup(page, "#bits-histogram");
            await page.keyboard.press("ArrowLeft"); // 8 → 7
            assertEquals(await page.inputValue("#bits-slider"), "7");
            assertNotEquals(await markup(page, "#bits-histogram"), figure);
            assertEquals(problems, [], problems.join("; "));
            await page.close();
          },
        );

        await t.step(
          `${lang}/lab.html: the overflow playground wraps, saturates and widens`,
          async () => {
            const page = await context.newPage();
            const problems = watch(page, local);
            await page.goto(`${origin}/${lang}/lab.html`);
            await page.waitForSelector("body[data-ready='true']");
            const results = async (): Promise<Record<string, string | null>> => ({
              wrap: await page.getAttribute("#ov-wrap", "data-value"),
              saturate: await page.getAttribute("#ov-saturate", "data-value"),
              widen: await page.getAttribute("#ov-widen", "data-value"),
            });
            await page.selectOption("#ov-dtype", "int8");
            await page.fill("#ov-a", "127");
            await page.fill("#ov-b", "127");
            assertEquals(await results(), { wrap: "-2", saturate: "127", widen: "254" });
            assertEquals(await page.locator("#ov-figure svg").count(), 1);
            const figure = await markup(page, "#ov-figure");
            await page.fill("#ov-b", "-128");
            assertEquals(await results(), { wrap: "-1", saturate: "-1", widen: "-1" });
            assertNotEquals(await markup(page, "#ov-figure"), figure);
            await page.selectOption("#ov-dtype", "int16");
            await page.fill("#ov-a", "32767");
            await page.fill("#ov-b", "1");
            assertEquals(await results(), { wrap: "-32768", saturate: "32767", widen: "32768" });
            // Invalid inputs: a message, no crash, and the playground recovers.
            for (const bad of ["40000", "1.5", ""]) {
              await page.fill("#ov-a", bad);
              assert(await page.isVisible("#ov-message"), `no message for a = "${bad}"`);
              assert((await page.textContent("#ov-message"))!.length > 0);
              assertEquals(await results(), { wrap: null, saturate: null, widen: null });
            }
            await page.fill("#ov-a", "-32768");
            await page.fill("#ov-b", "-1");
            assert(!(await page.isVisible("#ov-message")));
            assertEquals(await results(), { wrap: "32767", saturate: "-32768", widen: "-32769" });
            await page.selectOption("#ov-dtype", "int8"); // -32768 is no int8
            assert(await page.isVisible("#ov-message"));
            await page.screenshot({
              path: `${shots}/${lang}-lab-overflow-invalid.png`,
              fullPage: true,
            });
            assertEquals(problems, [], problems.join("; "));
            await page.close();
          },
        );
      }
      await context.close();
    } finally {
      await browser?.close();
      await server.shutdown();
    }
    console.log(`  screenshots: ${shots}`);
  },
});
