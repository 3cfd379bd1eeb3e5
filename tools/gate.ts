// The one gate: everything CI checks, in order, stopping at the first failure.
//   deno task test            run it all
//   deno task test --quick    skip the coverage report and the publish dry run
// Each step prints its command, so a failure can be rerun alone.

interface Step {
  name: string;
  args: string[];
  /**
   * A WebGPU step: Mesa's llvmpipe Vulkan driver is known to corrupt its heap under cumulative
   * compute load in one process (glibc then aborts the process at exit, after every test passed).
   * Such a step runs one test file per process, and a process that aborts (exit 134) AFTER its
   * runner reported every test passed is run once more, with a loud notice. A failing test, or a
   * second abort, fails the gate.
   */
  webgpu?: boolean;
}

/** The test files under a folder (sorted), for the one-process-per-file WebGPU steps. */
async function testFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (path: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${root}${path}`)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory && entry.name !== "testdata" && entry.name !== "results") {
        await walk(child);
      } else if (entry.isFile && entry.name.endsWith("_test.ts")) files.push(child);
    }
  };
  await walk(dir);
  return files.sort();
}

const root = new URL("../", import.meta.url).pathname;
const quick = Deno.args.includes("--quick");

/** The gpu package's modules (not tests), for its doc-example step. */
async function gpuModules(): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${root}packages/gpu`)) {
    if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push(`packages/gpu/${entry.name}`);
    }
  }
  return files.sort();
}

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
  ...(await testFiles("packages/gpu")).map((file) => ({
    name: `gpu: ${file.replace("packages/gpu/", "")}`,
    args: ["test", "-A", "--coverage=coverage", file],
    webgpu: true,
  })),
  ...(await gpuModules()).map((file) => ({
    name: `gpu: doc examples of ${file.replace("packages/gpu/", "")}`,
    args: ["test", "-A", "--doc", "--coverage=coverage", file],
    webgpu: true,
  })),
  // No coverage here: the tests run the demo as a subprocess, and coverage collection (which a
  // child inherits) disables V8's optimiser, making the --quick run ten times slower.
  {
    name: "demo: the lecture's tests (runs deno task demo --quick)",
    args: ["test", "-A", "--doc", "demo"],
    webgpu: true,
  },
  {
    name: "bench: tests, doc examples, coverage",
    args: ["test", "-A", "--doc", "--coverage=coverage", "packages/bench"],
  },
  {
    name: "notebook figures: tests, doc examples, coverage",
    args: ["test", "-A", "--doc", "--coverage=coverage", "packages/notebook/figures"],
  },
  {
    name: "notebooks: generator, committed .ipynb match their chapter sources",
    args: [
      "test",
      "-A",
      "--doc",
      "--coverage=coverage",
      "packages/notebook/build.ts",
      "packages/notebook/build_test.ts",
      "packages/notebook/execute.ts",
      "packages/notebook/_notebook.ts",
    ],
  },
  // Every notebook, both languages, executed by the real Deno kernel (jupyter nbconvert); a
  // failing cell fails the gate. Runs `deno task demo --quick` first when out/demo/ has no results.
  { name: "notebooks: execute with the Deno Jupyter kernel", args: ["task", "notebooks:run"] },
  { name: "site: build (deno task site)", args: ["task", "site"] },
  {
    name: "site: tests, doc examples, headless Chromium",
    args: [
      "test",
      "-A",
      "--doc",
      "--coverage=coverage",
      "packages/notebook/site",
      "--",
      "--site=out/site",
    ],
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
/** What run() returns for a WebGPU step that aborted after reporting every test passed. */
const ABORTED_AFTER_PASSING = -134;

/** Runs one step, echoing its output; for WebGPU steps, tells an abort after passing apart. */
async function run(step: Step): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: step.args,
    cwd: root,
    env,
    stdout: step.webgpu ? "piped" : "inherit",
    stderr: "inherit",
  }).spawn();
  if (!step.webgpu) return (await child.status).code;
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
  }
  const { code } = await child.status;
  // deno test's summary line: "ok | 12 passed | 0 failed (3s)" (colours stripped).
  // deno-lint-ignore no-control-regex -- strips ANSI colour codes
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
  const passed = /^ok \| \d+ passed.*\| 0 failed/m.test(plain);
  return code === 134 && passed ? ABORTED_AFTER_PASSING : code;
}

const started = performance.now();
for (const [i, step] of steps.entries()) {
  console.log(`\n━━ [${i + 1}/${steps.length}] ${step.name}: deno ${step.args.join(" ")}`);
  const t0 = performance.now();
  let code = await run(step);
  if (step.webgpu && code === ABORTED_AFTER_PASSING) {
    console.error(
      `\n⚠ ${step.name}: every test passed, then the process aborted at exit (heap corruption in ` +
        `the Vulkan driver, see tools/gate.ts). Running it once more.`,
    );
    code = await run(step);
    if (code === ABORTED_AFTER_PASSING) code = 134;
  }
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
