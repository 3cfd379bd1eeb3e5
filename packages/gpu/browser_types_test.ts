// The package's public modules type-check for browsers: with the DOM library and @webgpu/types
// instead of Deno's own WebGPU declarations, and without the Deno namespace
// (packages/gpu/browser_check.json; docs/gpu.md §The device layer).
import { assertEquals } from "@std/assert";

Deno.test("the public modules type-check for browsers with @webgpu/types", async () => {
  const here = new URL(".", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--config", `${here}browser_check.json`, `${here}mod.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
});
