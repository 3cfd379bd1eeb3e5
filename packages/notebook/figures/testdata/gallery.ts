// One of each figure on one HTML page, for looking at them in a browser:
//   deno run packages/notebook/figures/testdata/gallery.ts > /tmp/gallery.html
import {
  barChart,
  bitLayout,
  heatmap,
  histogram,
  lineChart,
  loraUpdate,
  overflowLine,
  scatterChart,
} from "../mod.ts";

/** Deterministic pseudo-random numbers in [0, 1) (a linear congruential generator). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = lcg(7);
const gauss = (): number => {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
};
const d = 12;
const k = 16;
const r = 2;
const b = { rows: d, cols: r, data: Array.from({ length: d * r }, gauss) };
const a = { rows: r, cols: k, data: Array.from({ length: r * k }, gauss) };
const dw = new Array<number>(d * k).fill(0);
for (let i = 0; i < d; i++) {
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < r; t++) dw[i * k + j]! += b.data[i * r + t]! * a.data[t * k + j]!;
  }
}
const labels = { sign: "signo", exponent: "exponente", mantissa: "mantisa", integer: "entero" };
const figures = [
  lineChart({
    series: [
      {
        name: "intercambio de etiquetas",
        points: [[842, 0.76], [1684, 0.89], [3368, 0.9], [6736, 0.92], [12644, 0.92]],
        labels: ["r=1", "r=2", "r=4", "r=8", "r=16"],
      },
      {
        name: "rotación 90°",
        points: [[842, 0.63], [1684, 0.81], [3368, 0.875], [6736, 0.89], [12644, 0.916]],
        labels: ["r=1", "r=2", "r=4", "r=8", "r=16"],
      },
      { name: "ajuste completo", points: [[75146, 0.93]] },
      { name: "base <sin ajuste>", points: [[842, 0.16], [75146, 0.16]], dashed: true },
    ],
    title: "Precisión frente a parámetros entrenables",
    xLabel: "parámetros entrenables (log)",
    yLabel: "precisión",
    xScale: "log",
    xTickFormat: "~s",
    yDomain: [0, 1],
    markers: true,
  }),
  lineChart({
    series: [{
      name: "σ",
      points: Array.from({ length: 40 }, (_, i) => [i + 1, 10 * Math.exp(-i / 3) + 1e-4]),
    }],
    title: "Espectro de ΔW",
    xLabel: "índice i",
    yLabel: "σᵢ (log)",
    yScale: "log",
  }),
  barChart({
    bars: [
      { label: "float32", value: 32 },
      { label: "float16", value: 16 },
      { label: "bfloat16", value: 16 },
      { label: "fp8-e4m3", value: 8 },
      { label: "int8", value: 8 },
      { label: "int4", value: 4.5 },
      { label: "nf4", value: 4.13 },
      { label: "mxfp4", value: 4.25 },
      { label: "ternary", value: 1.6 },
    ],
    title: "Bits por peso",
    yLabel: "bits",
    valueFormat: ".3~g",
  }),
  barChart({
    bars: ([["r = 1", 0.76], ["r = 4", 0.9]] as const).flatMap(([label, lora]) => [
      { label, value: lora, group: "LoRA" },
      { label, value: 0.93, group: "completo" },
    ]),
    title: "Barras agrupadas",
    yLabel: "precisión",
    valueFormat: ".0%",
    yTickFormat: ".0%",
  }),
  histogram({
    values: Array.from({ length: 2000 }, gauss),
    bins: 30,
    title: "Pesos de una capa",
    xLabel: "valor",
    yLabel: "frecuencia",
  }),
  heatmap({ matrix: { rows: d, cols: k, data: dw }, title: "ΔW = B·A" }),
  loraUpdate({
    deltaW: { rows: d, cols: k, data: dw },
    b,
    a,
    labels: {
      full: `ΔW: ${d}·${k} = ${d * k} parámetros`,
      lora: `B·A: ${r}·(${d} + ${k}) = ${r * (d + k)} parámetros`,
    },
  }),
  bitLayout({ format: "float16", value: 1, title: "1.0 en float16", labels }),
  bitLayout({ format: "float32", value: 0.1, title: "0.1 en float32", labels }),
  bitLayout({ format: "fp8-e4m3", value: -448, title: "−448 en fp8-e4m3", labels }),
  bitLayout({ format: "fp4-e2m1", value: 0.5, title: "0.5 en fp4", labels }),
  bitLayout({ format: "int8", value: -2, title: "−2 en int8", labels }),
  overflowLine({
    a: 127,
    b: 127,
    dtype: "int8",
    title: "int8: 127 + 127",
    labels: {
      exact: "exacto",
      wrap: "envolver (wrap)",
      saturate: "saturar",
      widen: "ampliar a int32",
      range: "rango de int8",
    },
  }),
  overflowLine({
    a: -100,
    b: -100,
    dtype: "int8",
    labels: {
      exact: "exact",
      wrap: "wrap",
      saturate: "saturate",
      widen: "widen (int32)",
      range: "int8",
    },
  }),
  scatterChart({
    points: [
      { x: 305000, y: 0.893, label: "float32", group: "float" },
      { x: 152000, y: 0.893, label: "float16", group: "float" },
      { x: 152000, y: 0.892, label: "bfloat16", group: "float" },
      { x: 76000, y: 0.89, label: "fp8-e4m3", group: "float" },
      { x: 77000, y: 0.89, label: "int8", group: "integer" },
      { x: 40000, y: 0.88, label: "int4", group: "integer" },
      { x: 41000, y: 0.89, label: "nf4", group: "block" },
      { x: 42000, y: 0.875, label: "mxfp4", group: "block" },
      { x: 43000, y: 0.88, label: "q4_0", group: "block" },
      { x: 16000, y: 0.646, label: "ternary", group: "integer" },
    ],
    title: "Precisión frente a bytes",
    xLabel: "bytes del modelo (log)",
    yLabel: "precisión",
    xScale: "log",
    xTickFormat: "~s",
    yTickFormat: ".0%",
  }),
];
console.log(
  `<!doctype html><meta charset="utf-8"><title>figures</title><body style="font-family:system-ui">${
    figures.map((f) =>
      `<div style="margin:12px;border:1px solid #ddd;display:inline-block">${f}</div>`
    ).join("\n")
  }</body>`,
);
