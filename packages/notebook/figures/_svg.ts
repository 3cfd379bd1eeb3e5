// Private SVG helpers shared by every figure: escaping, number printing, the document wrapper,
// text-width estimates and the colour palette. No DOM, no Deno APIs.
import { schemeTableau10 } from "d3-scale-chromatic";

/** The categorical palette (Tableau 10), cycled by series or group index. */
export const PALETTE: readonly string[] = schemeTableau10;

/** The colour of the `i`-th series or group. */
export function paletteColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** Escapes the XML special characters of a text node or a double-quoted attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A coordinate for an attribute: at most two decimals, never `-0` or exponent notation. */
export function num(x: number): string {
  const r = Math.round(x * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

/** An attribute list from a record (values escaped; `undefined` skipped). */
export function attrs(a: Readonly<Record<string, string | number | undefined>>): string {
  let out = "";
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    out += ` ${k}="${typeof v === "number" ? num(v) : escapeXml(v)}"`;
  }
  return out;
}

/** An element: `<name a="…">children</name>`, or self-closed without children. */
export function el(
  name: string,
  a: Readonly<Record<string, string | number | undefined>>,
  children?: string,
): string {
  return children === undefined
    ? `<${name}${attrs(a)}/>`
    : `<${name}${attrs(a)}>${children}</${name}>`;
}

/** A text element whose content is escaped. */
export function text(
  a: Readonly<Record<string, string | number | undefined>>,
  content: string,
): string {
  return el("text", a, escapeXml(content));
}

/** The root element of every figure: `role="img"`, `aria-label`, `viewBox`, a class. */
export function svgDocument(
  kind: string,
  width: number,
  height: number,
  label: string,
  body: string,
): string {
  return `<svg${
    attrs({
      xmlns: "http://www.w3.org/2000/svg",
      class: `figure ${kind}`,
      width,
      height,
      viewBox: `0 0 ${num(width)} ${num(height)}`,
      role: "img",
      "aria-label": label,
      "font-family": "system-ui, -apple-system, 'Segoe UI', sans-serif",
      "font-size": 12,
    })
  }>${body}</svg>`;
}

/** The title line at the top of a figure (nothing when there is no title). */
export function titleText(title: string | undefined, width: number): string {
  if (title === undefined || title === "") return "";
  return text({
    class: "title",
    x: width / 2,
    y: 20,
    "text-anchor": "middle",
    "font-size": 14,
    "font-weight": "600",
  }, title);
}

/** A generous estimate of a text's width in px (sans-serif, about 0.6 em per character). */
export function textWidth(s: string, fontSize: number): number {
  let w = 0;
  for (const c of s) {
    w += /[MW@%mw]/.test(c) ? 0.9 : /[il.,:;'|!]/.test(c) ? 0.3 : c === " " ? 0.32 : 0.62;
  }
  return w * fontSize;
}

const SUPERSCRIPT: Readonly<Record<string, string>> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** An integer as superscript digits (`-6` → `⁻⁶`). */
export function superscript(n: number): string {
  return [...String(n)].map((c) => SUPERSCRIPT[c] ?? c).join("");
}

/** An integer with a typographic minus sign (`-2` → `−2`). */
export function signed(n: number | bigint): string {
  const s = String(n);
  return s.startsWith("-") ? `−${s.slice(1)}` : s;
}
