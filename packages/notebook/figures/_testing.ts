// Test helpers (not exported by mod.ts): a strict little parser for the SVG the figures write,
// so tests inspect structure (elements, classes, attributes, text) instead of matching strings.

/** An element of a parsed SVG. */
export interface SvgNode {
  name: string;
  attrs: Record<string, string>;
  children: SvgNode[];
  /** The element's own text content (unescaped), direct children only. */
  text: string;
}

const ENTITY: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function unescape(s: string): string {
  if (/&(?!#\d+;|#x[0-9a-f]+;|amp;|lt;|gt;|quot;|apos;)/i.test(s)) {
    throw new Error(`unescaped & in ${JSON.stringify(s)}`);
  }
  return s.replace(
    /&(#\d+|#x[0-9a-f]+|amp|lt|gt|quot|apos);/gi,
    (_, e: string) =>
      e[0] === "#"
        ? String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
        : ENTITY[e]!,
  );
}

/**
 * Parses an SVG string into a tree; throws on anything that is not well-formed (unbalanced tags,
 * stray `<`, unescaped `&`, a quote inside an attribute, text outside the root).
 */
export function parseSvg(svg: string): SvgNode {
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const root: SvgNode = { name: "#root", attrs: {}, children: [], text: "" };
  const stack: SvgNode[] = [root];
  let pos = 0;
  while (pos < svg.length) {
    token.lastIndex = pos;
    const m = token.exec(svg);
    if (m === null) throw new Error(`malformed SVG at ${pos}: ${svg.slice(pos, pos + 40)}`);
    pos = token.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      if (top === root) throw new Error(`text outside the root: ${m[5]}`);
      top.text += unescape(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close === "/") {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      attrs[a[1]!] = unescape(a[2]!);
    }
    const node: SvgNode = { name: name!, attrs, children: [], text: "" };
    top.children.push(node);
    if (selfClose !== "/") stack.push(node);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1 || root.children[0]!.name !== "svg") {
    throw new Error("expected exactly one <svg> root");
  }
  return root.children[0]!;
}

/** Every descendant (depth first, document order) satisfying `pred`. */
export function findAll(node: SvgNode, pred: (n: SvgNode) => boolean): SvgNode[] {
  const out: SvgNode[] = [];
  const walk = (n: SvgNode): void => {
    for (const c of n.children) {
      if (pred(c)) out.push(c);
      walk(c);
    }
  };
  walk(node);
  return out;
}

/** Every descendant whose class list holds all the given classes. */
export function byClass(node: SvgNode, ...classes: string[]): SvgNode[] {
  return findAll(node, (n) => {
    const list = (n.attrs.class ?? "").split(/\s+/);
    return classes.every((c) => list.includes(c));
  });
}

/** All text inside a node (its own and its descendants'), in document order. */
export function textOf(node: SvgNode): string {
  return node.text + node.children.map(textOf).join("");
}

/** Every `<text>` element's content. */
export function texts(node: SvgNode): string[] {
  return findAll(node, (n) => n.name === "text").map(textOf);
}

/** A numeric attribute. */
export function attr(node: SvgNode, name: string): number {
  const v = node.attrs[name];
  if (v === undefined) throw new Error(`<${node.name}> has no ${name}`);
  return Number(v);
}

/** The labelled ticks of an axis (`"x"` or `"y"`): value and label. */
export function axisTicks(svg: SvgNode, axis: "x" | "y"): { value: number; label: string }[] {
  const [g] = byClass(svg, "axis", axis);
  if (g === undefined) throw new Error(`no ${axis} axis`);
  return byClass(g, "tick").filter((t) => !(t.attrs.class ?? "").includes("minor")).map((t) => ({
    value: Number(t.attrs["data-value"]),
    label: texts(t).join(""),
  }));
}
