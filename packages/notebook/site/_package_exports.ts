// Node's package entry-point resolution (package.json "exports", then "module", then "main"),
// the subset a browser bundle needs: subpath keys, "*" patterns, nested conditions, arrays.

/** The fields of a package.json that decide which file an import of the package loads. */
export interface PackageManifest {
  readonly name?: string;
  readonly exports?: unknown;
  readonly module?: string;
  readonly main?: string;
  readonly browser?: unknown;
}

/** The conditions a browser ES-module bundle accepts (the package's key order decides). */
export const BROWSER_CONDITIONS: readonly string[] = ["browser", "import", "module", "default"];

/**
 * Finds the file (relative to the package folder, starting with `./`) that `subpath` of a
 * package resolves to: package.json `"exports"` when present (exact keys, then `*` patterns, the
 * first key of each conditions object that `conditions` accepts, arrays tried in order), otherwise
 * `"module"`, `"main"` or `./index.js` for the package root and the subpath itself for others.
 *
 * @param manifest The package's package.json.
 * @param subpath `"."` for the package itself, or `"./x/y"` for `name/x/y`.
 * @param conditions The condition names to accept. @default {BROWSER_CONDITIONS}
 * @returns The target, e.g. `"./dist/d3-scale.mjs"`.
 * @throws {Error} When `"exports"` is present but exposes no target for `subpath` under the
 * conditions (Node's ERR_PACKAGE_PATH_NOT_EXPORTED).
 *
 * @example Conditional exports and the main fields
 * ```ts
 * import { packageEntry } from "./_package_exports.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const manifest = {
 *   exports: { ".": { node: "./n.cjs", import: "./m.mjs" }, "./sub/*": "./lib/*.js" },
 * };
 * assertEquals(packageEntry(manifest, "."), "./m.mjs");
 * assertEquals(packageEntry(manifest, "./sub/a"), "./lib/a.js");
 * assertEquals(packageEntry({ module: "dist/x.mjs", main: "dist/x.js" }, "."), "./dist/x.mjs");
 * ```
 */
export function packageEntry(
  manifest: PackageManifest,
  subpath: string,
  conditions: readonly string[] = BROWSER_CONDITIONS,
): string {
  const name = manifest.name ?? "(unnamed package)";
  if (manifest.exports !== undefined && manifest.exports !== null) {
    const target = exportsTarget(manifest.exports, subpath, conditions);
    if (target === undefined) {
      throw new Error(
        `Cannot resolve "${subpath}" of ${name}: its package.json "exports" exposes no target ` +
          `for it under the conditions ${conditions.join(", ")}`,
      );
    }
    return target;
  }
  if (subpath !== ".") return subpath;
  const main = manifest.module ?? manifest.main ?? "index.js";
  return main.startsWith("./") ? main : `./${main}`;
}

/** The target of `subpath` in an "exports" value, or undefined. */
function exportsTarget(
  exports: unknown,
  subpath: string,
  conditions: readonly string[],
): string | undefined {
  // "exports": "./x.js", ["./x.js"], or { "import": ... } (conditions only) mean { ".": that }.
  const isSubpathMap = typeof exports === "object" && exports !== null &&
    !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith("."));
  if (!isSubpathMap) return subpath === "." ? conditional(exports, conditions, "") : undefined;
  const map = exports as Record<string, unknown>;
  if (Object.hasOwn(map, subpath)) return conditional(map[subpath], conditions, "");
  // Patterns: the longest prefix before "*" wins (Node's PATTERN_KEY_COMPARE).
  let best: { key: string; match: string } | undefined;
  for (const key of Object.keys(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    if (
      subpath.length >= key.length - 1 && subpath.startsWith(prefix) && subpath.endsWith(suffix) &&
      (best === undefined || prefix.length > best.key.indexOf("*"))
    ) {
      best = { key, match: subpath.slice(prefix.length, subpath.length - suffix.length) };
    }
  }
  return best === undefined ? undefined : conditional(map[best.key], conditions, best.match);
}

/** Resolves a target value (string, array, or conditions object), substituting `*`. */
function conditional(
  value: unknown,
  conditions: readonly string[],
  match: string,
): string | undefined {
  if (typeof value === "string") return value.replaceAll("*", match);
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = conditional(item, conditions, match);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    // Node walks the object's keys in order and takes the first condition it accepts.
    for (const [key, item] of Object.entries(value)) {
      if (!conditions.includes(key)) continue;
      const target = conditional(item, conditions, match);
      if (target !== undefined) return target;
    }
  }
  return undefined;
}
