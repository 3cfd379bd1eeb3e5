// Every piece of text the site shows, in the two languages of the course. The page templates
// (at build time) and the lab's client code (in the browser) read the same table.
import type { Lang } from "../chapters/_cell.ts";

/** The site's text in one language. */
export interface SiteStrings {
  readonly langName: string;
  readonly siteTitle: string;
  readonly tagline: string;
  readonly home: string;
  readonly chapters: string;
  readonly noChapters: string;
  readonly chapter: (n: number) => string;
  readonly previous: string;
  readonly next: string;
  readonly switchTo: string;
  readonly lab: string;
  readonly labIntro: string;
  readonly labLink: string;
  readonly noscript: string;
  readonly footer: string;
  readonly skip: string;
  // The rank slider.
  readonly rankTitle: string;
  readonly rankIntro: string;
  readonly rankLabel: string;
  readonly shapeLabel: string;
  readonly countText: (lora: string, full: string, percent: string) => string;
  readonly countFormula: (d: string, k: string, r: string) => string;
  readonly barFull: string;
  readonly barLora: string;
  readonly paramsAxis: string;
  readonly paramsTitle: string;
  readonly pictureText: (rank: number, shown: number, error: string) => string;
  readonly pictureFull: string;
  readonly pictureLora: (rank: number) => string;
  // The bits slider.
  readonly bitsTitle: string;
  readonly bitsIntro: string;
  readonly bitsLabel: string;
  readonly schemeLabel: string;
  readonly schemeTensor: string;
  readonly schemeGroup: string;
  readonly errorAxis: string;
  readonly countAxis: string;
  readonly histogramTitle: (bits: number, scheme: string) => string;
  readonly sqnrText: (sqnr: string, rmse: string, levels: number) => string;
  // The overflow playground.
  readonly overflowTitle: string;
  readonly overflowIntro: string;
  readonly dtypeLabel: string;
  readonly exact: string;
  readonly wrap: string;
  readonly saturate: string;
  readonly widen: string;
  readonly range: string;
  readonly overflowTitleOf: (a: string, b: string, dtype: string) => string;
  readonly overflows: string;
  readonly fits: string;
  readonly notInteger: (name: string, min: string, max: string) => string;
}

/** The site's text, per language. */
export const STRINGS: Readonly<Record<Lang, SiteStrings>> = {
  es: {
    langName: "Español",
    siteTitle: "loraquant: LoRA y cuantización",
    tagline: "Material interactivo del curso de modelos generativos: cuadernos ejecutados y un " +
      "laboratorio para experimentar con el rango de LoRA, los bits y el desbordamiento.",
    home: "Inicio",
    chapters: "Capítulos",
    noChapters: "Todavía no hay capítulos.",
    chapter: (n) => `Capítulo ${n}`,
    previous: "Anterior",
    next: "Siguiente",
    switchTo: "English",
    lab: "Laboratorio interactivo",
    labIntro: "Mueve los controles: cada figura se vuelve a calcular en tu navegador con la " +
      "implementación de referencia de loraquant, sin conexión a internet.",
    labLink: "Rango de LoRA, bits de cuantización y desbordamiento de enteros, con controles.",
    noscript: "Las figuras interactivas necesitan JavaScript.",
    footer: "Generado con deno task site. Funciona sin conexión, también desde file://.",
    skip: "Saltar al contenido",
    rankTitle: "LoRA: ¿cuántos parámetros se entrenan?",
    rankIntro: "LoRA congela W (d×k) y entrena solo ΔW ≈ B·A, con B (d×r) y A (r×k): " +
      "d·r + r·k parámetros en lugar de d·k.",
    rankLabel: "Rango r",
    shapeLabel: "Forma de W (d×k)",
    countText: (lora, full, percent) =>
      `Parámetros entrenables: ${lora} de ${full} (${percent} del ajuste completo)`,
    countFormula: (d, k, r) => `d·r + r·k = ${d}·${r} + ${r}·${k}`,
    barFull: "ajuste completo (d·k)",
    barLora: "LoRA (d·r + r·k)",
    paramsAxis: "parámetros entrenables",
    paramsTitle: "Parámetros entrenables (escala logarítmica)",
    pictureText: (rank, shown, error) =>
      (rank > shown
        ? `La imagen usa una ΔW pequeña de 24×16, cuyo rango máximo es 16: se dibuja r = ${shown}. `
        : `La imagen usa una ΔW pequeña de 24×16 aproximada con rango ${shown}. `) +
      `Error relativo ‖ΔW − B·A‖ / ‖ΔW‖ = ${error}.`,
    pictureFull: "ΔW ≈ B·A: 24·16 = 384 números",
    pictureLora: (r) => `B y A: r·(24 + 16) = ${40 * r} parámetros`,
    bitsTitle: "Cuantización: bits y error",
    bitsIntro: "4096 pesos gaussianos (semilla fija) se cuantizan a enteros simétricos de b bits " +
      "(niveles −(2^(b−1) − 1) … 2^(b−1) − 1, escala = máx |x| / (2^(b−1) − 1)) y se " +
      "reconstruyen; el histograma muestra el error x̂ − x.",
    bitsLabel: "Bits b",
    schemeLabel: "Escalas",
    schemeTensor: "una escala por tensor",
    schemeGroup: "una escala por grupo de 32",
    errorAxis: "error x̂ − x",
    countAxis: "número de pesos",
    histogramTitle: (bits, scheme) => `Error de cuantización con ${bits} bits, ${scheme}`,
    sqnrText: (sqnr, rmse, levels) => `SQNR = ${sqnr} dB · RMSE = ${rmse} · ${levels} niveles`,
    overflowTitle: "Desbordamiento de enteros",
    overflowIntro: "La suma exacta de dos enteros puede no caber en su tipo. Envolver (wrap) la " +
      "reduce módulo 2^n, saturar la recorta al rango y ensanchar (widen) la guarda en un " +
      "acumulador más ancho.",
    dtypeLabel: "Tipo",
    exact: "suma exacta",
    wrap: "envolver",
    saturate: "saturar",
    widen: "ensanchar",
    range: "rango",
    overflowTitleOf: (a, b, dtype) => `${a} + ${b} en ${dtype}`,
    overflows: "La suma exacta no cabe en el tipo: las tres reglas dan resultados distintos.",
    fits: "La suma exacta cabe en el tipo: las tres reglas coinciden.",
    notInteger: (name, min, max) => `«${name}» debe ser un número entero entre ${min} y ${max}.`,
  },
  en: {
    langName: "English",
    siteTitle: "loraquant: LoRA and quantization",
    tagline: "Interactive material for the generative models course: executed notebooks and a " +
      "lab to experiment with the LoRA rank, bit widths and integer overflow.",
    home: "Home",
    chapters: "Chapters",
    noChapters: "No chapters yet.",
    chapter: (n) => `Chapter ${n}`,
    previous: "Previous",
    next: "Next",
    switchTo: "Español",
    lab: "Interactive lab",
    labIntro: "Move the controls: every figure is recomputed in your browser by loraquant's " +
      "reference implementation, with no internet connection.",
    labLink: "LoRA rank, quantization bits and integer overflow, with controls.",
    noscript: "The interactive figures need JavaScript.",
    footer: "Built with deno task site. Works offline, from file:// too.",
    skip: "Skip to content",
    rankTitle: "LoRA: how many parameters are trained?",
    rankIntro: "LoRA freezes W (d×k) and trains only ΔW ≈ B·A, with B (d×r) and A (r×k): " +
      "d·r + r·k parameters instead of d·k.",
    rankLabel: "Rank r",
    shapeLabel: "Shape of W (d×k)",
    countText: (lora, full, percent) =>
      `Trainable parameters: ${lora} of ${full} (${percent} of full fine-tuning)`,
    countFormula: (d, k, r) => `d·r + r·k = ${d}·${r} + ${r}·${k}`,
    barFull: "full fine-tuning (d·k)",
    barLora: "LoRA (d·r + r·k)",
    paramsAxis: "trainable parameters",
    paramsTitle: "Trainable parameters (log scale)",
    pictureText: (rank, shown, error) =>
      (rank > shown
        ? `The picture uses a small 24×16 ΔW, whose rank is at most 16: it is drawn at r = ${shown}. `
        : `The picture uses a small 24×16 ΔW approximated at rank ${shown}. `) +
      `Relative error ‖ΔW − B·A‖ / ‖ΔW‖ = ${error}.`,
    pictureFull: "ΔW ≈ B·A: 24·16 = 384 numbers",
    pictureLora: (r) => `B and A: r·(24 + 16) = ${40 * r} parameters`,
    bitsTitle: "Quantization: bits and error",
    bitsIntro: "4096 Gaussian weights (fixed seed) are quantized to symmetric b-bit integers " +
      "(levels −(2^(b−1) − 1) … 2^(b−1) − 1, scale = max |x| / (2^(b−1) − 1)) and reconstructed; " +
      "the histogram shows the error x̂ − x.",
    bitsLabel: "Bits b",
    schemeLabel: "Scales",
    schemeTensor: "one scale per tensor",
    schemeGroup: "one scale per group of 32",
    errorAxis: "error x̂ − x",
    countAxis: "number of weights",
    histogramTitle: (bits, scheme) => `Quantization error with ${bits} bits, ${scheme}`,
    sqnrText: (sqnr, rmse, levels) => `SQNR = ${sqnr} dB · RMSE = ${rmse} · ${levels} levels`,
    overflowTitle: "Integer overflow",
    overflowIntro: "The exact sum of two integers may not fit their type. Wrapping reduces it " +
      "modulo 2^n, saturating clamps it to the range, and widening keeps it in a wider " +
      "accumulator.",
    dtypeLabel: "Type",
    exact: "exact sum",
    wrap: "wrap",
    saturate: "saturate",
    widen: "widen",
    range: "range",
    overflowTitleOf: (a, b, dtype) => `${a} + ${b} in ${dtype}`,
    overflows: "The exact sum does not fit the type: the three rules disagree.",
    fits: "The exact sum fits the type: the three rules agree.",
    notInteger: (name, min, max) => `“${name}” must be an integer between ${min} and ${max}.`,
  },
};
