import { assertEquals, assertThrows } from "@std/assert";
import { byClass, parseSvg, textOf } from "./_testing.ts";

Deno.test("parseSvg() reads elements, attributes and escaped text", () => {
  const svg = parseSvg(
    '<svg xmlns="x"><g class="a b"><text x="1">a &lt; b &amp;&#34;c&#34;</text></g><rect class="b"/></svg>',
  );
  assertEquals(byClass(svg, "b").length, 2);
  assertEquals(byClass(svg, "a", "b").length, 1);
  assertEquals(textOf(svg), 'a < b &"c"');
});

Deno.test("parseSvg() rejects SVG that is not well-formed", () => {
  assertThrows(() => parseSvg("<svg><g></svg>"));
  assertThrows(() => parseSvg("<svg><text>a & b</text></svg>"));
  assertThrows(() => parseSvg('<svg><rect x="1" x="2"/></svg>'));
  assertThrows(() => parseSvg("<svg></svg><svg></svg>"));
  assertThrows(() => parseSvg("<svg><text>a < b</text></svg>"));
});
