// An esbuild plugin that resolves bare specifiers the way Deno does in this workspace, without a
// node_modules folder: workspace members (@loraquant/* → the member deno.json's "exports"), the
// root deno.json's "imports", and npm packages and their dependencies from Deno's own npm cache
// (`deno info --json` → npmCache; `<npmCache>/registry.npmjs.org/<name>/<version>/`), at the
// versions the root deno.lock pinned, through package.json "exports" / "module" / "main".
import type * as esbuild from "esbuild";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { packageEntry, type PackageManifest } from "./_package_exports.ts";

/** Where {@linkcode createDenoResolver} finds the workspace and Deno's npm cache. */
export interface DenoResolverOptions {
  /** The folder holding the root deno.json (the workspace root) and deno.lock. */
  readonly root: string;
  /** Deno's npm cache folder. @default {`deno info --json`'s npmCache} */
  readonly npmCache?: string;
}

/** Resolves one import to an absolute file path. */
export interface DenoResolver {
  /**
   * Resolves a bare specifier (`"d3-scale"`, `"@loraquant/reference/cast"`, `"npm:x@1/y"`).
   *
   * @param specifier The import specifier.
   * @param importer The absolute path of the importing file (its npm package decides which
   * version of a dependency it sees).
   * @returns The absolute path of the file to load.
   * @throws {Error} When the specifier is unknown to the workspace, the import map and the lock,
   * or names something a browser bundle cannot load (`node:`, `jsr:`, `https:`).
   */
  resolve(specifier: string, importer: string): string;
}

/** One npm package of the lock: its folder version and dependencies (name → lock key). */
interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly dependencies: ReadonlyMap<string, string>;
}

/** A workspace member: its package name, folder and exports (subpath → file). */
interface Member {
  readonly name: string;
  readonly dir: string;
  readonly exports: Readonly<Record<string, string>>;
}

const REGISTRY = "registry.npmjs.org";

/**
 * Reads the workspace (root deno.json, its members' deno.json, deno.lock) and locates Deno's npm
 * cache, and returns a resolver for bare specifiers.
 *
 * @param options The workspace root, and optionally the npm cache folder.
 * @returns The resolver.
 * @throws {Error} When deno.json or deno.lock cannot be read, or `deno info --json` fails.
 *
 * @example Workspace members and npm packages from the cache
 * ```ts
 * import { createDenoResolver } from "./_deno_resolve.ts";
 * import { assert, assertMatch } from "@std/assert";
 *
 * const root = new URL("../../../", import.meta.url).pathname;
 * const resolver = await createDenoResolver({ root });
 * const importer = `${root}packages/notebook/site/build.ts`;
 * assert(resolver.resolve("@loraquant/reference/integer", importer).endsWith("integer.ts"));
 * assertMatch(resolver.resolve("d3-scale", importer), /d3-scale\/4\.0\.3\/dist\/d3-scale\.mjs$/);
 * ```
 */
export async function createDenoResolver(options: DenoResolverOptions): Promise<DenoResolver> {
  const root = resolve(options.root);
  const config = await readJson(join(root, "deno.json"));
  const imports = (config.imports ?? {}) as Record<string, string>;
  const members: Member[] = [];
  for (const member of (config.workspace ?? []) as string[]) {
    const dir = resolve(root, member);
    const memberConfig = await readJson(join(dir, "deno.json"));
    if (typeof memberConfig.name !== "string") continue;
    const exports = typeof memberConfig.exports === "string"
      ? { ".": memberConfig.exports }
      : (memberConfig.exports ?? {}) as Record<string, string>;
    members.push({ name: memberConfig.name, dir, exports });
  }
  const lock = await readJson(join(root, "deno.lock"));
  const npmCache = options.npmCache ?? await denoNpmCache();
  return new WorkspaceResolver(
    root,
    imports,
    members,
    (lock.specifiers ?? {}) as Record<string, string>,
    lockedPackages((lock.npm ?? {}) as Record<string, Record<string, unknown>>),
    resolve(npmCache),
  );
}

/**
 * An esbuild plugin resolving every bare specifier with `resolver` (relative and absolute paths
 * are left to esbuild).
 *
 * @param resolver From {@linkcode createDenoResolver}.
 * @returns The plugin, named `"deno-resolve"`.
 *
 * @example Bundling a module that imports a workspace member
 * ```ts
 * import * as esbuild from "esbuild";
 * import { createDenoResolver, denoResolvePlugin } from "./_deno_resolve.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const root = new URL("../../../", import.meta.url).pathname;
 * const plugin = denoResolvePlugin(await createDenoResolver({ root }));
 * const result = await esbuild.build({
 *   stdin: {
 *     contents: 'import { countParameters } from "@loraquant/reference/params";\n' +
 *       "console.log(countParameters([[8, 8]], 2).lora);",
 *     resolveDir: root,
 *     loader: "ts",
 *   },
 *   bundle: true,
 *   write: false,
 *   format: "esm",
 *   plugins: [plugin],
 *   logLevel: "silent",
 * });
 * await esbuild.stop();
 * assertStringIncludes(result.outputFiles[0]!.text, "function countParameters");
 * ```
 */
export function denoResolvePlugin(resolver: DenoResolver): esbuild.Plugin {
  return {
    name: "deno-resolve",
    setup(build): void {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === "entry-point" || isAbsolute(args.path)) return undefined;
        try {
          return { path: resolver.resolve(args.path, args.importer) };
        } catch (error) {
          return { errors: [{ text: (error as Error).message }] };
        }
      });
    },
  };
}

class WorkspaceResolver implements DenoResolver {
  readonly #byName = new Map<string, LockedPackage[]>();
  readonly #byKey: ReadonlyMap<string, LockedPackage>;

  constructor(
    readonly root: string,
    readonly imports: Readonly<Record<string, string>>,
    readonly members: readonly Member[],
    readonly specifiers: Readonly<Record<string, string>>,
    packages: ReadonlyMap<string, LockedPackage>,
    readonly npmCache: string,
  ) {
    this.#byKey = packages;
    for (const pkg of packages.values()) {
      const list = this.#byName.get(pkg.name) ?? [];
      list.push(pkg);
      this.#byName.set(pkg.name, list);
    }
  }

  resolve(specifier: string, importer: string): string {
    if (specifier.startsWith("npm:")) return this.#npm(specifier, importer);
    if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) && !specifier.startsWith("@")) {
      throw new Error(
        `Cannot bundle "${specifier}" (imported by ${this.#show(importer)}): a browser bundle ` +
          "loads no node:, jsr: or remote modules",
      );
    }
    // Inside an npm package, bare names are that package's dependencies.
    const owner = this.#packageOf(importer);
    if (owner !== undefined) return this.#dependency(owner, specifier, importer);
    const mapped = this.#importMap(specifier);
    if (mapped !== undefined) {
      return mapped.startsWith("npm:") ? this.#npm(mapped, importer) : mapped;
    }
    const member = this.#member(specifier);
    if (member !== undefined) return member;
    throw new Error(
      `Cannot resolve "${specifier}" (imported by ${this.#show(importer)}): it is neither a ` +
        'workspace member nor a name in the root deno.json "imports"',
    );
  }

  /** The import map: exact keys, "prefix/" keys, and "name/sub" under an npm: entry. */
  #importMap(specifier: string): string | undefined {
    const exact = this.imports[specifier];
    if (exact !== undefined) return this.#target(exact);
    let best: string | undefined;
    for (const key of Object.keys(this.imports)) {
      const isPrefix = key.endsWith("/")
        ? specifier.startsWith(key)
        : this.imports[key]!.startsWith("npm:") && specifier.startsWith(`${key}/`);
      if (isPrefix && (best === undefined || key.length > best.length)) best = key;
    }
    if (best === undefined) return undefined;
    const target = this.imports[best]!;
    const rest = specifier.slice(best.length);
    return this.#target(best.endsWith("/") ? target + rest : `${target}${rest}`);
  }

  #target(target: string): string {
    if (target.startsWith("npm:")) return target;
    if (target.startsWith("./") || target.startsWith("../") || target.startsWith("/")) {
      return resolve(this.root, target);
    }
    throw new Error(`Cannot bundle the import-map target "${target}": not a file or npm: package`);
  }

  #member(specifier: string): string | undefined {
    for (const member of this.members) {
      if (specifier !== member.name && !specifier.startsWith(`${member.name}/`)) continue;
      const subpath = `.${specifier.slice(member.name.length)}`;
      const file = member.exports[subpath];
      if (file === undefined) {
        throw new Error(
          `Cannot resolve "${specifier}": ${member.name} exports no "${subpath}" (it exports ${
            Object.keys(member.exports).join(", ")
          })`,
        );
      }
      return resolve(member.dir, file);
    }
    return undefined;
  }

  /** "npm:name@range/sub" through the lock's "specifiers" (or the only locked version). */
  #npm(specifier: string, importer: string): string {
    const { name, range, subpath } = parseNpm(specifier);
    const key = this.specifiers[range === undefined ? `npm:${name}` : `npm:${name}@${range}`];
    let pkg = key === undefined ? undefined : this.#byKey.get(`${name}@${key}`);
    if (pkg === undefined) {
      const locked = this.#byName.get(name) ?? [];
      const versions = [...new Set(locked.map((p) => p.version))];
      if (versions.length === 1) pkg = locked[0];
      else {
        throw new Error(
          `Cannot resolve "${specifier}" (imported by ${this.#show(importer)}): deno.lock pins ${
            versions.length === 0 ? "no version" : `several versions (${versions.join(", ")})`
          } of ${name}; run \`deno install\` to update the lock`,
        );
      }
    }
    return this.#file(pkg!, subpath);
  }

  #dependency(owner: LockedPackage, specifier: string, importer: string): string {
    const { name, subpath } = parseNpm(`npm:${specifier}`);
    if (name === owner.name) return this.#file(owner, subpath); // a self-reference
    const key = owner.dependencies.get(name);
    const pkg = key === undefined ? undefined : this.#byKey.get(key);
    if (pkg === undefined) {
      throw new Error(
        `Cannot resolve "${specifier}" (imported by ${this.#show(importer)}): ` +
          `${owner.name}@${owner.version} has no dependency ${name} in deno.lock`,
      );
    }
    return this.#file(pkg, subpath);
  }

  /** The file of `subpath` inside a cached package, via its package.json. */
  #file(pkg: LockedPackage, subpath: string): string {
    const dir = join(this.npmCache, REGISTRY, pkg.name, pkg.version);
    let manifest: PackageManifest;
    try {
      manifest = JSON.parse(Deno.readTextFileSync(join(dir, "package.json")));
    } catch (error) {
      throw new Error(
        `Cannot read ${pkg.name}@${pkg.version} from Deno's npm cache (${dir}): ${
          (error as Error).message
        }; run \`deno install\` to fetch it`,
      );
    }
    return resolve(dir, packageEntry(manifest, subpath));
  }

  /** The locked package an importer's path lies in, when it lies in the npm cache. */
  #packageOf(importer: string): LockedPackage | undefined {
    const base = join(this.npmCache, REGISTRY) + sep;
    if (!importer.startsWith(base)) return undefined;
    const parts = importer.slice(base.length).split(sep);
    const scoped = parts[0]?.startsWith("@") ?? false;
    const name = scoped ? `${parts[0]}/${parts[1]}` : parts[0]!;
    const version = parts[scoped ? 2 : 1];
    return this.#byName.get(name)?.find((p) => p.version === version);
  }

  #show(importer: string): string {
    return importer === "" ? "the entry" : relative(this.root, importer) || importer;
  }
}

/** Splits `npm:[/]name[@range][/subpath]` (the name may be scoped). */
function parseNpm(specifier: string): { name: string; range?: string; subpath: string } {
  const body = specifier.slice("npm:".length).replace(/^\//, "");
  const match = /^((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(body);
  if (match === null) throw new Error(`Cannot parse the npm specifier "${specifier}"`);
  const [, name, range, rest] = match;
  return {
    name: name!,
    ...(range === undefined ? {} : { range }),
    subpath: rest === undefined ? "." : `.${rest}`,
  };
}

/**
 * The lock's "npm" section, by key: `name@version[_peer…]` → folder version (peer suffix
 * dropped) and each dependency's lock key (`dep` alone means the lock's only version of dep).
 */
function lockedPackages(
  npm: Readonly<Record<string, Record<string, unknown>>>,
): Map<string, LockedPackage> {
  const keyOf = (entry: string): { name: string; key: string } => {
    const at = entry.indexOf("@", 1);
    return { name: at < 0 ? entry : entry.slice(0, at), key: entry };
  };
  const onlyKey = new Map<string, string | null>();
  for (const key of Object.keys(npm)) {
    const { name } = keyOf(key);
    onlyKey.set(name, onlyKey.has(name) ? null : key);
  }
  const packages = new Map<string, LockedPackage>();
  for (const [key, entry] of Object.entries(npm)) {
    const { name } = keyOf(key);
    const version = key.slice(name.length + 1).split("_")[0]!;
    const dependencies = new Map<string, string>();
    for (const field of ["dependencies", "optionalDependencies", "peerDependencies"]) {
      for (const dep of (entry[field] ?? []) as string[]) {
        const parsed = keyOf(dep);
        const depKey = parsed.key === parsed.name ? onlyKey.get(parsed.name) : parsed.key;
        if (depKey) dependencies.set(parsed.name, depKey);
      }
    }
    packages.set(key, { name, version, dependencies });
  }
  return packages;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`Cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Deno's npm cache folder, from `deno info --json` (DENO_DIR respected by deno itself). */
async function denoNpmCache(): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(code === 0 ? stdout : stderr);
  if (code !== 0) throw new Error(`\`deno info --json\` failed (exit ${code}): ${text}`);
  const npmCache = (JSON.parse(text) as { npmCache?: unknown }).npmCache;
  if (typeof npmCache !== "string") throw new Error("`deno info --json` printed no npmCache");
  return npmCache;
}
