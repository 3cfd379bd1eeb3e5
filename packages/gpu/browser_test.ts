// The browser smoke test (docs/gpu.md §The device layer): headless Chromium (Debian's `chromium`
// package) driven by playwright-core loads a page served from 127.0.0.1 whose script —
// testdata/browser_smoke.ts bundled for the browser by `deno bundle` — runs ONE kernel of
// @loraquant/gpu, the float32 → float16 cast, on the browser's WebGPU adapter (SwiftShader here).
// The bits are compared with the reference's `encode(roundToFormat(x, "float16"))`.
//
// - No chromium binary: the test is skipped with a visible warning (`.ci/run` installs it in CI;
//   CHROMIUM_PATH overrides /usr/bin/chromium, LORAQUANT_CHROMIUM_ARGS the flags).
// - Chromium without a WebGPU adapter: the test passes but says so plainly, in a warning and in
//   the name of an ignored step ("NO WebGPU adapter in headless Chromium: nothing was checked").
//   It does not fail under LORAQUANT_REQUIRE_GPU=1: that switch is about Deno's adapter.
import fc from "fast-check";
import { chromium } from "playwright-core";
import { assertEquals } from "@std/assert";
import { encode, roundToFormat } from "@loraquant/reference/cast";
import { fcParams } from "../reference/_testing.ts";
import type { SmokeReport } from "./testdata/browser_smoke.ts";
import { f32Bits, f32FromBits } from "./_testing.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const HAS_CHROMIUM = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);

/**
 * Flags that expose Chromium's SwiftShader WebGPU adapter headless, in a container, offline
 * (LORAQUANT_CHROMIUM_ARGS, space-separated, replaces them: to try others).
 */
const CHROMIUM_ARGS = Deno.env.get("LORAQUANT_CHROMIUM_ARGS")?.split(" ").filter(Boolean) ?? [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu-sandbox",
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-angle=swiftshader",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

if (!HAS_CHROMIUM) {
  console.warn(
    `%c⚠ No Chromium at ${CHROMIUM}: the headless-browser smoke test is SKIPPED ` +
      "(apt-get install -y chromium, or set CHROMIUM_PATH).",
    "color: yellow; font-weight: bold",
  );
}

/** 64 float32 bit patterns: float16's boundaries (max, ties, subnormals, specials) and random ones. */
function inputs(): number[] {
  const fixed = [
    1,
    -0,
    0,
    65504,
    65519.99,
    65520,
    1 + 2 ** -11, // a tie, to even (1)
    1 + 3 * 2 ** -11, // a tie, to even (up)
    2 ** -24, // smallest subnormal
    2 ** -25, // half of it: a tie, to 0
    3 * 2 ** -26, // above half: rounds up
    2 ** -14, // smallest normal
    Infinity,
    -Infinity,
    0.1,
    -1e-10,
  ].map(f32Bits);
  fixed.push(0x7fc00001, 0xffbfffff); // NaN payloads, both signs
  const random = fc.sample(fc.integer({ min: 0, max: 0xffffffff }), {
    ...fcParams(64 - fixed.length),
  });
  return [...fixed, ...random];
}

async function bundleSmoke(dir: string): Promise<string> {
  const entry = new URL("./testdata/browser_smoke.ts", import.meta.url).pathname;
  const out = `${dir}/smoke.js`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", "-o", out, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, `deno bundle failed: ${new TextDecoder().decode(stderr)}`);
  return await Deno.readTextFile(out);
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>loraquant smoke</title>
<script type="module">
import { runSmoke } from "./smoke.js";
globalThis.smoke = (x) => runSmoke(x);
globalThis.smokeReady = true;
</script>`;

Deno.test({
  name: "headless Chromium runs the float16 cast kernel bit-exactly, or says plainly that it " +
    "exposes no WebGPU adapter",
  ignore: !HAS_CHROMIUM,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "loraquant-smoke-" });
    const script = await bundleSmoke(dir);
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/smoke.js") {
        return new Response(script, { headers: { "content-type": "text/javascript" } });
      }
      if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
      return new Response("not found", { status: 404 });
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 20_000,
    });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      await page.waitForFunction(() => "smokeReady" in globalThis, undefined, { timeout: 10_000 })
        .catch(() => {
          throw new Error(`The smoke page did not load: ${pageErrors.join("; ") || "no error"}`);
        });
      const x = inputs();
      const report = await page.evaluate(
        (x) => (globalThis as unknown as { smoke(x: number[]): Promise<SmokeReport> }).smoke(x),
        x,
      );
      if (report.status === "no-adapter") {
        console.warn(
          `%c⚠ Headless Chromium exposes NO WebGPU adapter (${report.reason}): the browser smoke ` +
            "test checked nothing.",
          "color: yellow; font-weight: bold",
        );
        await t.step({
          name: "NO WebGPU adapter in headless Chromium: nothing was checked",
          ignore: true,
          fn() {},
        });
        return;
      }
      if (report.status === "error") throw new Error(`The smoke page failed: ${report.error}`);
      console.log(`  Chromium adapter: ${report.adapter || "(unnamed)"}`);
      await t.step(`the cast ran on the browser's adapter (${report.adapter || "unnamed"})`, () => {
        const expected = x.map((b) => encode(roundToFormat(f32FromBits(b), "float16"), "float16"));
        assertEquals(report.bits, expected);
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
