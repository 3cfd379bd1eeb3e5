import * as esbuild from "esbuild";
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import { createDenoResolver, denoResolvePlugin } from "./_deno_resolve.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;

/** Writes `files` (path → text) under a new temporary folder and returns it. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "loraquant-resolve-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

/**
 * A workspace with one member and an import map, and a fake npm cache in which `app-lib` depends
 * on `shared@1` while the root imports `shared@2` (so the importer decides the version), a scoped
 * package, and a package whose lock key carries a peer-dependency suffix.
 */
async function fixture(): Promise<{ dir: string; cache: string }> {
  const json = (v: unknown): string => JSON.stringify(v);
  const reg = "cache/registry.npmjs.org";
  const dir = await tree({
    "ws/deno.json": json({
      workspace: ["./packages/core"],
      imports: {
        "app-lib": "npm:app-lib@^3.0.0",
        "shared": "npm:shared@2.0.0",
        "@scope/thing": "npm:@scope/thing@1.0.0",
        "peerful": "npm:peerful@1.0.0",
        "local": "./tools/local.ts",
        "dir/": "./tools/dir/",
        "remote": "https://example.com/x.ts",
      },
    }),
    "ws/deno.lock": json({
      version: "5",
      specifiers: {
        "npm:app-lib@^3.0.0": "3.1.0",
        "npm:shared@2.0.0": "2.0.0",
        "npm:@scope/thing@1.0.0": "1.0.0",
        "npm:peerful@1.0.0": "1.0.0_shared@2.0.0",
      },
      npm: {
        "app-lib@3.1.0": { dependencies: ["shared@1.5.0", "@scope/thing"] },
        "shared@1.5.0": {},
        "shared@2.0.0": {},
        "@scope/thing@1.0.0": {},
        "peerful@1.0.0_shared@2.0.0": { dependencies: ["shared@2.0.0"] },
      },
    }),
    "ws/packages/core/deno.json": json({
      name: "@ws/core",
      exports: { ".": "./mod.ts", "./sub": "./sub.ts" },
    }),
    "ws/tools/local.ts": "export const local = 1;",
    [`${reg}/app-lib/3.1.0/package.json`]: json({
      name: "app-lib",
      exports: {
        ".": { import: "./esm/index.js", require: "./cjs/index.js" },
        "./extra": "./esm/extra.js",
      },
    }),
    [`${reg}/shared/1.5.0/package.json`]: json({ name: "shared", main: "old.js" }),
    [`${reg}/shared/2.0.0/package.json`]: json({ name: "shared", module: "new.mjs" }),
    [`${reg}/@scope/thing/1.0.0/package.json`]: json({ name: "@scope/thing" }),
    [`${reg}/peerful/1.0.0/package.json`]: json({ name: "peerful", main: "p.js" }),
  });
  return { dir, cache: `${dir}/cache` };
}

Deno.test("the resolver maps workspace members, the import map and npm packages", async () => {
  const { dir, cache } = await fixture();
  try {
    const r = await createDenoResolver({ root: `${dir}/ws`, npmCache: cache });
    const from = `${dir}/ws/main.ts`;
    const reg = `${cache}/registry.npmjs.org`;
    assertEquals(r.resolve("@ws/core", from), `${dir}/ws/packages/core/mod.ts`);
    assertEquals(r.resolve("@ws/core/sub", from), `${dir}/ws/packages/core/sub.ts`);
    assertThrows(() => r.resolve("@ws/core/nope", from), Error, 'exports no "./nope"');
    assertEquals(r.resolve("local", from), `${dir}/ws/tools/local.ts`);
    assertEquals(r.resolve("dir/a/b.ts", from), `${dir}/ws/tools/dir/a/b.ts`);
    // A range in the import map goes through the lock's "specifiers".
    assertEquals(r.resolve("app-lib", from), `${reg}/app-lib/3.1.0/esm/index.js`);
    assertEquals(r.resolve("app-lib/extra", from), `${reg}/app-lib/3.1.0/esm/extra.js`);
    assertEquals(r.resolve("shared", from), `${reg}/shared/2.0.0/new.mjs`);
    assertEquals(r.resolve("npm:shared@2.0.0", from), `${reg}/shared/2.0.0/new.mjs`);
    assertEquals(r.resolve("@scope/thing", from), `${reg}/@scope/thing/1.0.0/index.js`);
    // A peer-dependency suffix in the lock key is not part of the cache folder.
    assertEquals(r.resolve("peerful", from), `${reg}/peerful/1.0.0/p.js`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inside an npm package, a bare name is that package's locked dependency", async () => {
  const { dir, cache } = await fixture();
  try {
    const r = await createDenoResolver({ root: `${dir}/ws`, npmCache: cache });
    const reg = `${cache}/registry.npmjs.org`;
    const inside = `${reg}/app-lib/3.1.0/esm/index.js`;
    // app-lib was locked against shared@1.5.0, although the root imports shared@2.0.0.
    assertEquals(r.resolve("shared", inside), `${reg}/shared/1.5.0/old.js`);
    assertEquals(r.resolve("@scope/thing", inside), `${reg}/@scope/thing/1.0.0/index.js`);
    assertEquals(r.resolve("app-lib/extra", inside), `${reg}/app-lib/3.1.0/esm/extra.js`);
    assertThrows(() => r.resolve("local", inside), Error, "has no dependency local");
    assertEquals(
      r.resolve("shared", `${reg}/peerful/1.0.0/p.js`),
      `${reg}/shared/2.0.0/new.mjs`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the resolver refuses what a browser bundle cannot load, naming the importer", async () => {
  const { dir, cache } = await fixture();
  try {
    const r = await createDenoResolver({ root: `${dir}/ws`, npmCache: cache });
    const from = `${dir}/ws/src/main.ts`;
    assertThrows(() => r.resolve("node:fs", from), Error, "src/main.ts");
    assertThrows(() => r.resolve("jsr:@std/path", from), Error, "no node:, jsr: or remote");
    assertThrows(() => r.resolve("remote", from), Error, "not a file or npm: package");
    assertThrows(() => r.resolve("unknown-pkg", from), Error, "neither a workspace member");
    assertThrows(() => r.resolve("npm:not-locked@1", from), Error, "pins no version");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createDenoResolver() says which file it cannot read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assertRejects(() => createDenoResolver({ root: dir, npmCache: dir }), Error, "deno.json");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("this workspace resolves d3 modules and their dependencies from Deno's npm cache", async () => {
  const r = await createDenoResolver({ root: ROOT });
  const scale = r.resolve("d3-scale", `${ROOT}packages/notebook/figures/mod.ts`);
  assertMatch(scale, /\/d3-scale\/4\.0\.3\/dist\/d3-scale\.mjs$/);
  assertMatch(r.resolve("d3-array", scale), /\/d3-array\/3\.2\.5\/dist\/d3-array\.mjs$/);
  assertMatch(r.resolve("d3-time-format", scale), /\/d3-time-format\/4\.1\.1\//);
});

Deno.test("esbuild bundles workspace code and npm packages with the plugin, and the bundle runs", async () => {
  const plugin = denoResolvePlugin(await createDenoResolver({ root: ROOT }));
  try {
    const result = await esbuild.build({
      stdin: {
        contents: `import { scaleLinear } from "d3-scale";
import { integerArithmetic } from "@loraquant/reference/integer";
export const y = scaleLinear().domain([0, 10]).range([0, 100])(2.5);
export const wrap = integerArithmetic([127], [127], { fn: "add", dtype: "int8", overflow: "wrap" }).y[0];`,
        resolveDir: ROOT,
        loader: "ts",
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      plugins: [plugin],
      logLevel: "silent",
    });
    const code = result.outputFiles[0]!.text;
    assert(!/\bfrom\s*["']/.test(code), "the bundle still imports something");
    const url = `data:text/javascript;base64,${
      btoa(String.fromCharCode(...new TextEncoder().encode(code)))
    }`;
    const module = await import(url);
    assertEquals(module.y, 25);
    assertEquals(module.wrap, -2n);
    // An unknown import fails the build with the plugin's message.
    const failure = await esbuild.build({
      stdin: { contents: 'import "no-such-package";', resolveDir: ROOT },
      bundle: true,
      write: false,
      plugins: [plugin],
      logLevel: "silent",
    }).then(() => undefined, (error: { errors: esbuild.Message[] }) => error.errors);
    assertMatch(failure?.[0]?.text ?? "", /Cannot resolve "no-such-package"/);
  } finally {
    await esbuild.stop();
  }
});
