// Private greedy placement of short point labels: each label takes the first of a few positions
// around its point that overlaps no label placed before it and no point, inside the frame.
import { textWidth } from "./_svg.ts";
import type { Frame } from "./_axis.ts";

/** A label to place at a point (px). */
export interface LabelRequest {
  x: number;
  y: number;
  text: string;
}

/** Where a label goes: its anchor point and text-anchor. */
export interface PlacedLabel {
  x: number;
  y: number;
  anchor: "start" | "middle" | "end";
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const CANDIDATES: readonly (readonly [number, number, PlacedLabel["anchor"]])[] = [
  [7, -6, "start"],
  [7, 13, "start"],
  [-7, -6, "end"],
  [-7, 13, "end"],
  [0, -10, "middle"],
  [0, 19, "middle"],
  [7, -17, "start"],
  [7, 24, "start"],
  [-7, -17, "end"],
  [-7, 24, "end"],
];

const overlaps = (a: Box, b: Box): boolean =>
  a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** Places every label (in order) at its first free candidate position, else the first one. */
export function placeLabels(
  requests: readonly LabelRequest[],
  fontSize: number,
  frame: Frame,
  allPoints: readonly { x: number; y: number }[],
): PlacedLabel[] {
  const taken: Box[] = allPoints.map((p) => ({
    x0: p.x - 4,
    x1: p.x + 4,
    y0: p.y - 4,
    y1: p.y + 4,
  }));
  return requests.map((r) => {
    const w = textWidth(r.text, fontSize);
    let chosen: { label: PlacedLabel; box: Box } | undefined;
    for (const [dx, dy, anchor] of CANDIDATES) {
      const x = r.x + dx;
      const y = r.y + dy;
      const x0 = anchor === "start" ? x : anchor === "end" ? x - w : x - w / 2;
      const box = { x0, x1: x0 + w, y0: y - fontSize * 0.8, y1: y + fontSize * 0.2 };
      const inside = box.x0 >= frame.left && box.x1 <= frame.right + 10 &&
        box.y0 >= frame.top - 10 && box.y1 <= frame.bottom;
      const candidate = { label: { x, y, anchor }, box };
      chosen ??= candidate;
      if (inside && !taken.some((t) => overlaps(t, box))) {
        chosen = candidate;
        break;
      }
    }
    taken.push(chosen!.box);
    return chosen!.label;
  });
}
