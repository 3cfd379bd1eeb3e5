import { assertEquals, assertThrows } from "@std/assert";
import { packageEntry } from "./_package_exports.ts";

Deno.test('packageEntry() takes a string "exports" as the package root only', () => {
  assertEquals(packageEntry({ exports: "./index.mjs" }, "."), "./index.mjs");
  assertThrows(() => packageEntry({ name: "x", exports: "./index.mjs" }, "./sub"), Error, "x");
});

Deno.test("packageEntry() follows the package's condition order, skipping unknown conditions", () => {
  // d3's shape: "umd" is not a browser ESM condition, "default" is.
  const d3 = { exports: { umd: "./dist/d3.min.js", default: "./dist/d3.mjs" } };
  assertEquals(packageEntry(d3, "."), "./dist/d3.mjs");
  // The package's key order decides, not the order of the accepted conditions.
  const both = { exports: { import: "./a.mjs", browser: "./b.js" } };
  assertEquals(packageEntry(both, "."), "./a.mjs");
  assertEquals(packageEntry(both, ".", ["browser"]), "./b.js");
  // Nested conditions, and a branch that matches nothing falls through to the next key.
  const nested = {
    exports: { ".": { node: "./n.js", browser: { require: "./r.js" }, default: "./d.js" } },
  };
  assertEquals(packageEntry(nested, "."), "./d.js");
});

Deno.test("packageEntry() resolves subpaths and the longest matching * pattern", () => {
  const manifest = {
    exports: {
      ".": "./main.js",
      "./locale/*": "./locale/*.json",
      "./locale/special/*": "./special/*.json",
      "./package.json": "./package.json",
    },
  };
  assertEquals(packageEntry(manifest, "./locale/es-ES"), "./locale/es-ES.json");
  assertEquals(packageEntry(manifest, "./locale/special/x"), "./special/x.json");
  assertEquals(packageEntry(manifest, "./package.json"), "./package.json");
  assertThrows(() => packageEntry(manifest, "./private"), Error, "exposes no target");
});

Deno.test("packageEntry() tries array targets in order", () => {
  const manifest = { exports: { ".": [{ worker: "./w.js" }, "./fallback.js"] } };
  assertEquals(packageEntry(manifest, "."), "./fallback.js");
});

Deno.test('packageEntry() without "exports" prefers module, then main, then index.js', () => {
  assertEquals(packageEntry({ module: "esm/x.js", main: "cjs/x.js" }, "."), "./esm/x.js");
  assertEquals(packageEntry({ main: "./cjs/x.js" }, "."), "./cjs/x.js");
  assertEquals(packageEntry({}, "."), "./index.js");
  assertEquals(packageEntry({ main: "x.js" }, "./lib/y.js"), "./lib/y.js");
});
