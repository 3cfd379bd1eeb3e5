// The one gate: everything CI checks, in order, stopping at the first failure.
//   deno task test            run it all
//   deno task test --quick    skip the coverage report and the publish dry run
// Each step prints its command, so a failure can be rerun alone.

interface Step {
  name: string;
  args: string[];
}

const root = new URL("../", import.meta.url).pathname;
const quick = Deno.args.includes("--quick");

/** The public entry points of every workspace member (for `deno doc --lint`). */
async function entryPoints(): Promise<string[]> {
  const rootConfig = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  const files: string[] = [];
  for (const member of rootConfig.workspace as string[]) {
    const config = JSON.parse(await Deno.readTextFile(`${root}${member}/deno.json`));
    const exports = typeof config.exports === "string" ? { ".": config.exports } : config.exports;
    for (const path of Object.values(exports) as string[]) {
      const file = `${member}/${path}`.replace(/\/\.\//g, "/").replace(/^\.\//, "");
      if (!files.includes(file)) files.push(file);
    }
  }
  return files;
}

const steps: Step[] = [
  { name: "format", args: ["fmt", "--check"] },
  { name: "lint", args: ["lint"] },
  { name: "type check", args: ["check", "."] },
  // The reference's test files run in parallel workers. The WebGPU tests run in one worker of
  // their own process: wgpu's Vulkan (llvmpipe) teardown is not safe with several devices in
  // concurrent workers of one process (a heap corruption at exit was seen once that way).
  {
    name: "reference: tests, doc examples, coverage",
    args: [
      "test",
      "-A",
      "--doc",
      "--parallel",
      "--coverage=coverage",
      "packages/reference",
      "tools",
    ],
  },
  {
    name: "gpu: tests, doc examples, coverage",
    args: ["test", "-A", "--doc", "--coverage=coverage", "packages/gpu"],
  },
  {
    name: "demo: the lecture's tests (runs deno task demo --quick)",
    args: ["test", "-A", "--doc", "--coverage=coverage", "demo"],
  },
  {
    name: "bench: tests, doc examples, coverage",
    args: ["test", "-A", "--doc", "--coverage=coverage", "packages/bench"],
  },
  ...(quick ? [] : [{ name: "coverage report", args: ["coverage", "coverage"] }]),
  { name: "doc lint of the entry points", args: ["doc", "--lint", ...await entryPoints()] },
  ...(quick ? [] : [{ name: "publish dry run", args: ["publish", "--dry-run", "--allow-dirty"] }]),
];

await Deno.remove(`${root}coverage`, { recursive: true }).catch(() => {});
// WebGPU (wgpu) in Deno wants a runtime directory; give it a private one when none is set.
const env: Record<string, string> = {};
if (!Deno.env.get("XDG_RUNTIME_DIR")) {
  env.XDG_RUNTIME_DIR = await Deno.makeTempDir({ prefix: "loraquant-xdg-" });
}
const started = performance.now();
for (const [i, step] of steps.entries()) {
  console.log(`\n━━ [${i + 1}/${steps.length}] ${step.name}: deno ${step.args.join(" ")}`);
  const t0 = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: step.args,
    cwd: root,
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (code !== 0) {
    console.error(
      `\n✗ ${step.name} failed (exit ${code}, ${seconds} s). Rerun: deno ${step.args.join(" ")}`,
    );
    Deno.exit(code);
  }
  console.log(`✓ ${step.name} (${seconds} s)`);
}
console.log(
  `\nAll ${steps.length} checks passed in ${((performance.now() - started) / 1000).toFixed(0)} s.`,
);
