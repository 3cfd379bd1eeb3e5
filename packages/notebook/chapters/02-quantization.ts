// Chapter 2 of the lecture "LoRA y cuantización": quantization. Rendered by build.ts into
// notebooks/es/02-quantization.ipynb and notebooks/en/02-quantization.ipynb.
import { type Chapter, md } from "./_cell.ts";
import { codeEach, displayHelpers } from "../_notebook.ts";

/** Quantization: why, memory and energy, bit layouts and accumulation, overflow, f32→f16, f32→int8. */
export const chapter: Chapter = {
  slug: "02-quantization",
  number: 2,
  title: { es: "Cuantización", en: "Quantization" },
  cells: [
    md(
      `
**Cuantizar** es representar los números de un modelo (pesos, activaciones y a veces gradientes)
con menos bits. ¿Por qué?

- **Memoria.** Cada parámetro ocupa 4 bytes en float32, 2 en float16 y 1 en int8.
- **Ancho de banda.** Generar un token lee todos los pesos del modelo: con la mitad de bytes se
  leen el doble de rápido, y en inferencia ese suele ser el cuello de botella.
- **Energía y cálculo.** Las operaciones con menos bits gastan menos energía y el hardware hace
  más por ciclo (unidades int8 y fp8).

El precio es el **error de redondeo**, un **rango** limitado (¿qué pasa cuando un resultado no
cabe?) y la necesidad de saber **en qué formato se acumulan** las sumas. Aquí lo medimos todo con
la referencia del proyecto, que implementa cada formato y cada regla de redondeo de forma exacta.
`,
      `
To **quantize** is to represent a model's numbers (weights, activations, sometimes gradients) with
fewer bits. Why?

- **Memory.** Each parameter takes 4 bytes in float32, 2 in float16 and 1 in int8.
- **Bandwidth.** Generating one token reads all of the model's weights: with half the bytes they
  are read twice as fast, and in inference that is usually the bottleneck.
- **Energy and compute.** Operations on fewer bits spend less energy and the hardware does more of
  them per cycle (int8 and fp8 units).

The price is **rounding error**, a limited **range** (what happens when a result does not fit?)
and the need to know **which format sums accumulate in**. Here we measure all of it with the
project's reference, which implements every format and every rounding rule exactly.
`,
    ),
    codeEach((t) => `
import {
  ACCUMULATION_TABLE, BITS_PER_VALUE, cast, dequantize, FLOAT_FORMATS, INTEGER_TYPES, integerArithmetic,
  integerMatmul, matmul, matrix, memoryBytes, metrics, quantize, roundToFormat, SplitMix64,
} from "@loraquant/reference";
import { barChart, bitLayout, histogram, overflowLine, scatterChart } from "@loraquant/notebook";

${displayHelpers(t)}
// ${t("Números aleatorios reproducibles.", "Reproducible random numbers.")}
const rng = new SplitMix64(7);
const gauss = () =>
  Math.sqrt(-2 * Math.log(1 - rng.nextUniform())) * Math.cos(2 * Math.PI * rng.nextUniform());
`),
    md(
      `
## 1. Memoria de un modelo de 7B en cada formato

El número de parámetros de LLaMA-7B sale de su forma (capítulo 1): 32 capas con d = 4096 y un MLP
de 11008, más embeddings y normalizaciones. \`memoryBytes\` multiplica por los bits de cada
formato (sin contar las escalas que añaden los formatos por bloques). GB = 10⁹ bytes.
`,
      `
## 1. Memory of a 7B model in each format

LLaMA-7B's parameter count follows from its shape (chapter 1): 32 layers with d = 4096 and an MLP
of 11008, plus embeddings and normalizations. \`memoryBytes\` multiplies by each format's bits
(not counting the scales that block formats add). GB = 10⁹ bytes.
`,
    ),
    codeEach((t) => `
const layers = 32, dModel = 4096, dMlp = 11008, vocab = 32000;
const params = BigInt(
  layers * (4 * dModel * dModel + 3 * dMlp * dModel + 2 * dModel) + 2 * vocab * dModel + dModel,
);
const formats = ["float32", "float16", "bfloat16", "fp8-e4m3", "int8", "int4"];
const gigabytes = formats.map((format) => Number(memoryBytes(params, format)) / 1e9);
await show(barChart({
  locale: LANG,
  bars: formats.map((format, i) => ({ label: format, value: gigabytes[i]! })),
  title: "${t("Pesos de un modelo de 7B (", "Weights of a 7B model (")}" + fmt(params) + " ${
      t("parámetros)", "parameters)")
    }",
  yLabel: "GB",
  valueFormat: ".1f",
}));
await table(
  ["${t("formato", "format")}", "${t("bits por valor", "bits per value")}", "GB", "${
      t("frente a float32", "vs float32")
    }"],
  formats.map((format, i) => [
    format,
    BITS_PER_VALUE[format],
    fmt(gigabytes[i]!, 2),
    "×" + fmt(gigabytes[0]! / gigabytes[i]!, 0),
  ]),
);
`),
    md(
      `
### Energía

La clase afirma que **la energía por operación cae con el ancho de bits**. Para dar una idea de
las magnitudes, la tabla clásica de Mark Horowitz (ISSCC 2014, proceso de 45 nm) da estos
valores. Son **valores citados de ese artículo, no calculados aquí**, y cada chip actual tiene los
suyos; lo que se mantiene es la tendencia, y que leer de DRAM cuesta mucho más que operar.
`,
      `
### Energy

The lecture claims that **energy per operation falls with bit width**. To give an idea of the
magnitudes, Mark Horowitz's classic table (ISSCC 2014, 45 nm process) gives these values. They
are **values cited from that paper, not computed here**, and every current chip has its own; what
holds is the trend, and that reading from DRAM costs far more than computing.
`,
    ),
    codeEach((t) => `
// ${
      t(
        "Horowitz, «Computing's energy problem», ISSCC 2014, 45 nm: picojulios por operación (citados).",
        'Horowitz, "Computing\'s energy problem", ISSCC 2014, 45 nm: picojoules per operation (cited).',
      )
    }
const HOROWITZ_45NM_PJ = [
  { op: "int8 +", pj: 0.03 }, { op: "int32 +", pj: 0.1 },
  { op: "float16 +", pj: 0.4 }, { op: "float32 +", pj: 0.9 },
  { op: "int8 ×", pj: 0.2 }, { op: "int32 ×", pj: 3.1 },
  { op: "float16 ×", pj: 1.1 }, { op: "float32 ×", pj: 3.7 },
  { op: "${t("leer 32 bits de DRAM", "read 32 bits from DRAM")}", pj: 640 },
];
await show(barChart({
  locale: LANG,
  bars: HOROWITZ_45NM_PJ.map(({ op, pj }) => ({ label: op, value: pj })),
  title: "${
      t(
        "Energía por operación, 45 nm (Horowitz, ISSCC 2014; valores citados)",
        "Energy per operation, 45 nm (Horowitz, ISSCC 2014; cited values)",
      )
    }",
  yLabel: "${t("picojulios (escala log)", "picojoules (log scale)")}",
  yScale: "log",
  valueFormat: "~g",
  width: 720,
}));
`),
    md(
      `
## 2. Los formatos bit a bit y su tipo de acumulación

Un número en coma flotante guarda un **signo**, un **exponente** (con sesgo) y una **mantisa**
(la fracción tras el 1 implícito): valor = (−1)^signo · 2^(exponente − sesgo) · 1,mantisa.

- **float32**: 8 bits de exponente y 23 de mantisa.
- **float16**: 5 y 10; el máximo es 65504, así que los valores grandes desbordan.
- **bfloat16**: 8 y 7, el mismo rango que float32 con mucha menos precisión.
- **int16, int8**: enteros en complemento a dos, sin exponente; se usan con una escala
  (sección 5).

Al multiplicar matrices se suman muchos productos; la suma se **acumula** en un formato más ancho,
porque el formato de entrada no puede contenerla. La tabla sale de \`ACCUMULATION_TABLE\` de la
referencia: float32 → float32, bfloat16 → float32, int16 → int32, int8 → int32. Para float16, la
clase dice float32 (o float16): la referencia registra float16 (HGEMM) y anota que muchos núcleos
ofrecen acumular en float32.
`,
      `
## 2. The formats bit by bit, and their accumulation type

A floating-point number stores a **sign**, a biased **exponent** and a **mantissa** (the fraction
after the implicit 1): value = (−1)^sign · 2^(exponent − bias) · 1.mantissa.

- **float32**: 8 exponent bits and 23 mantissa bits.
- **float16**: 5 and 10; the maximum is 65504, so large values overflow.
- **bfloat16**: 8 and 7, float32's range with far less precision.
- **int16, int8**: two's-complement integers, no exponent; used with a scale (section 5).

A matrix product sums many products; the sum is **accumulated** in a wider format, because the
input format cannot hold it. The table comes from the reference's \`ACCUMULATION_TABLE\`:
float32 → float32, bfloat16 → float32, int16 → int32, int8 → int32. For float16 the lecture says
float32 (or float16): the reference records float16 (HGEMM) and notes that many kernels offer
float32 accumulation.
`,
    ),
    codeEach((t) => `
const shown = ["float32", "float16", "bfloat16", "int16", "int8"] as const;
await table(
  ["${t("formato", "format")}", "bits", "${
      t("signo / exponente / mantisa", "sign / exponent / mantissa")
    }", "${t("máximo", "maximum")}", "${t("acumula en", "accumulates in")}"${t("", ', "why"')}],
  shown.map((name) => {
    const rule = ACCUMULATION_TABLE.find((row) => row.input === name)!;
    if (name === "int16" || name === "int8") {
      const type = INTEGER_TYPES[name];
      return [name, type.bits, "${
      t("entero", "integer")
    } [" + type.min + ", " + type.max + "]", fmt(type.max), rule.accumulate${t("", ", rule.why")}];
    }
    const f = FLOAT_FORMATS[name];
    return [name, f.bits, "1 / " + f.exponentBits + " / " + f.mantissaBits, f.max < 1e6 ? fmt(f.max) : sci(f.max), rule.accumulate${
      t("", ", rule.why")
    }];
  }),
);
`),
    codeEach((t) => `
const labels = { sign: "${t("signo", "sign")}", exponent: "${
      t("exponente", "exponent")
    }", mantissa: "${t("mantisa", "mantissa")}", integer: "${
      t("entero (complemento a dos)", "integer (two's complement)")
    }" };
for (const format of ["float32", "float16", "bfloat16"] as const) {
  const stored = roundToFormat(Math.PI, format);
  await show(bitLayout({ format, value: stored, labels, title: format + ": π → " + stored }));
}
await show(bitLayout({ format: "int16", value: -1000, labels, title: "int16: −1000" }));
await show(bitLayout({ format: "int8", value: -100, labels, title: "int8: −100" }));
`),
    md(
      `
¿Por qué acumular en un formato más ancho? Sumemos 4096 unos, como en un producto escalar de
longitud 4096, con la función \`matmul\` de la referencia, que redondea **cada paso** de la suma
al formato de acumulación. En float16, a partir de 2048 sumar 1 ya no cambia nada (el siguiente
float16 después de 2048 es 2050, y el empate se redondea al par); en bfloat16 ocurre ya en 256.
`,
      `
Why accumulate in a wider format? Let us add 4096 ones, as in a dot product of length 4096, with
the reference's \`matmul\`, which rounds **every step** of the sum to the accumulation format. In
float16, from 2048 on adding 1 changes nothing (the next float16 after 2048 is 2050, and the tie
rounds to even); in bfloat16 it already happens at 256.
`,
    ),
    codeEach((t) => `
const n = 4096;
const ones = (rows: number, cols: number) => matrix([rows, cols], new Float64Array(rows * cols).fill(1));
const sums = (["float16", "bfloat16", "float32"] as const).map((accumulate) => [
  accumulate,
  matmul(ones(1, n), ones(n, 1), { dtype: accumulate, accumulate }).y.data[0],
]);
await table(["${t("acumula en", "accumulates in")}", "${
      t("suma de 4096 unos", "sum of 4096 ones")
    }"], sums);
`),
    md(
      `
## 3. Desbordamiento: 127 + 127 en int8

int8 va de −128 a 127. La suma exacta 127 + 127 = 254 no cabe, y hay tres respuestas posibles:

- **wrap** (envolver, lo que hace el hardware entero en complemento a dos): se queda con los 8
  bits bajos, 254 − 256 = **−2**;
- **saturate** (saturar): se queda en el extremo, **127**;
- **widen** (ensanchar): se calcula en el tipo de acumulación, int32, y da **254**.
`,
      `
## 3. Overflow: 127 + 127 in int8

int8 runs from −128 to 127. The exact sum 127 + 127 = 254 does not fit, and there are three
possible answers:

- **wrap** (what two's-complement integer hardware does): keep the low 8 bits,
  254 − 256 = **−2**;
- **saturate**: stop at the end of the range, **127**;
- **widen**: compute in the accumulation type, int32, and get **254**.
`,
    ),
    codeEach((t) => `
const rules = ["wrap", "saturate", "widen"] as const;
await table(
  ["${t("regla", "rule")}", "127 + 127", "${t("¿desbordó int8?", "int8 overflowed?")}"],
  rules.map((overflow) => {
    const { y, overflowed } = integerArithmetic([127], [127], { fn: "add", dtype: "int8", overflow });
    return [overflow, y[0], overflowed[0] ? "${t("sí", "yes")}" : "no"];
  }),
);
await show(overflowLine({
  a: 127,
  b: 127,
  dtype: "int8",
  title: "${t("int8: 127 + 127 en la recta numérica", "int8: 127 + 127 on the number line")}",
  labels: { exact: "${
      t("exacto", "exact")
    }", wrap: "wrap", saturate: "saturate", widen: "widen (int32)", range: "${
      t("rango de int8", "int8 range")
    }" },
}));
`),
    codeEach((t) => `
// ${
      t(
        "Un producto escalar int8 de longitud 4: cada producto cabe en int16 (127·127 = 16129),",
        "An int8 dot product of length 4: each product fits int16 (127·127 = 16129),",
      )
    }
// ${
      t(
        "pero la suma (64516) no. Por eso int8 acumula en int32.",
        "but the sum (64516) does not. That is why int8 accumulates in int32.",
      )
    }
const row = matrix([1, 4], [127, 127, 127, 127]);
const col = matrix([4, 1], [127, 127, 127, 127]);
for (const accumulate of ["int16", "int32"] as const) {
  const { y, overflowed } = integerMatmul(row, col, { dtype: "int8", accumulate, overflow: "wrap" });
  await print("${
      t("acumulando en", "accumulating in")
    }", accumulate + ":", y.data[0], overflowed ? "${
      t("(desbordó y envolvió)", "(overflowed and wrapped)")
    }" : "${t("(exacto)", "(exact)")}");
}
`),
    md(
      `
## 4. El primer caso común: float32 → float16

Convertir pesos de float32 a float16 es redondear cada valor al float16 más cercano (empates al
par). Lo hacemos con \`cast\` de la referencia y lo comprobamos con una implementación
independiente, \`Math.f16round\` de JavaScript. Tomamos 20 000 valores float32 con magnitudes
entre 2⁻²⁰ y 2¹⁵ (uniformes en escala logarítmica) y signo aleatorio.
`,
      `
## 4. The first common case: float32 → float16

Converting weights from float32 to float16 rounds each value to the nearest float16 (ties to
even). We do it with the reference's \`cast\` and check it against an independent implementation,
JavaScript's \`Math.f16round\`. We take 20,000 float32 values with magnitudes between 2⁻²⁰ and 2¹⁵
(uniform on a log scale) and random signs.
`,
    ),
    codeEach((t) => `
const x16 = Float64Array.from({ length: 20000 }, () =>
  Math.fround((rng.nextUniform() < 0.5 ? -1 : 1) * 2 ** (-20 + 35 * rng.nextUniform())));
const y16 = cast(x16, "float16");
const disagree = y16.filter((v, i) => !Object.is(v, Math.f16round(x16[i]!))).length;
await print("${
      t(
        "Valores en los que cast y Math.f16round discrepan:",
        "Values where cast and Math.f16round disagree:",
      )
    }", disagree);

const rel = x16.map((v, i) => (y16[i]! - v) / v); // ${t("error relativo", "relative error")}
const u = 2 ** -11; // ${
      t(
        "la mitad de la distancia entre float16 consecutivos, relativa",
        "half the relative spacing of consecutive float16 values",
      )
    }
const minNormal = FLOAT_FORMATS.float16.minNormal; // 2⁻¹⁴
const normal = rel.filter((_, i) => Math.abs(x16[i]!) >= minNormal);
await print("${
      t("Máx. |error relativo| con |x| ≥ 2⁻¹⁴:", "Max |relative error| with |x| ≥ 2⁻¹⁴:")
    }", sci(Math.max(...normal.map(Math.abs))), "≤ u = 2⁻¹¹ =", sci(u));
await show(histogram({
  locale: LANG,
  values: normal,
  bins: 40,
  domain: [-u, u],
  title: "${
      t(
        "float32 → float16: error relativo (valores normales)",
        "float32 → float16: relative error (normal values)",
      )
    }",
  xLabel: "${t("(float16(x) − x) / x", "(float16(x) − x) / x")}",
  yLabel: "${t("cantidad de valores", "number of values")}",
}));
`),
    codeEach((t) => `
// ${
      t(
        "Error relativo frente a la magnitud (1500 valores, escalas logarítmicas).",
        "Relative error against magnitude (1500 values, log scales).",
      )
    }
const points = [...x16.slice(0, 1500)].flatMap((v, i) =>
  rel[i] === 0 ? [] : [{
    x: Math.abs(v),
    y: Math.abs(rel[i]!),
    group: Math.abs(v) >= minNormal ? "${t("normales", "normal")}" : "${
      t("subnormales", "subnormal")
    }",
  }]
);
await show(scatterChart({
  locale: LANG,
  points,
  title: "${
      t(
        "float32 → float16: |error relativo| según |x|",
        "float32 → float16: |relative error| by |x|",
      )
    }",
  xLabel: "|x|",
  yLabel: "${t("|error relativo|", "|relative error|")}",
  xScale: "log",
  yScale: "log",
}));
// ${
      t(
        "Los extremos: desbordamiento por arriba, subnormales y cero por abajo.",
        "The ends: overflow above, subnormals and zero below.",
      )
    }
const ends: [string, number][] = [["65504", 65504], ["65519", 65519], ["65520", 65520], ["2⁻²⁴", 2 ** -24], ["2⁻²⁶", 2 ** -26]];
await table(["x", "float16(x)"], ends.map(([label, v]) => {
  const y = cast([v], "float16")[0]!;
  return [label, Math.abs(y) >= 1 || y === 0 ? fmt(y) : sci(y)];
}));
`),
    md(
      `
\`cast\` y \`Math.f16round\` coinciden en todos los valores. En el rango normal (|x| ≥ 2⁻¹⁴ ≈
6,1·10⁻⁵) el error relativo nunca pasa de u = 2⁻¹¹ ≈ 4,9·10⁻⁴: unas tres cifras decimales. Por
debajo, en los **subnormales**, la distancia entre valores es fija (2⁻²⁴) y el error relativo
crece a medida que |x| baja. Por arriba, todo lo que redondea por encima de 65504 se convierte en
**infinito**: por eso el entrenamiento en float16 necesita escalar la pérdida, y bfloat16, con el
rango de float32, no.

## 5. El segundo caso común: float32 → int8, simétrico por tensor

Para pasar a enteros hace falta una **escala**: con cuantización simétrica por tensor,
escala = max|x| / 127, q = redondear(x / escala) (al par en los empates) y, al volver,
x̂ = q · escala. El error de cada valor es como mucho escala/2, y si el error se reparte de forma
uniforme su varianza es escala²/12; de ahí una predicción de la SQNR (relación señal/ruido de
cuantización): 10·log₁₀(media(x²) / (escala²/12)). Lo probamos con 4096 pesos gaussianos de
desviación 0,02, como los de una capa de un modelo de lenguaje.
`,
      `
\`cast\` and \`Math.f16round\` agree on every value. In the normal range (|x| ≥ 2⁻¹⁴ ≈ 6.1·10⁻⁵)
the relative error never exceeds u = 2⁻¹¹ ≈ 4.9·10⁻⁴: about three decimal digits. Below, in the
**subnormals**, the spacing between values is fixed (2⁻²⁴) and the relative error grows as |x|
shrinks. Above, everything that rounds beyond 65504 becomes **infinity**: that is why training in
float16 needs loss scaling, and bfloat16, with float32's range, does not.

## 5. The second common case: float32 → int8, symmetric per tensor

Going to integers needs a **scale**: with symmetric per-tensor quantization,
scale = max|x| / 127, q = round(x / scale) (ties to even) and, on the way back, x̂ = q · scale.
Each value's error is at most scale/2, and if the error spreads uniformly its variance is
scale²/12; hence a prediction of the SQNR (signal-to-quantization-noise ratio):
10·log₁₀(mean(x²) / (scale²/12)). We try it on 4096 Gaussian weights with standard deviation
0.02, like those of a layer of a language model.
`,
    ),
    codeEach((t) => `
const weights = matrix([64, 64], Array.from({ length: 64 * 64 }, () => Math.fround(0.02 * gauss())));
function int8RoundTrip(w: typeof weights) {
  const { q, scale } = quantize(w, "int8"); // ${
      t("simétrico, por tensor", "symmetric, per tensor")
    }
  const back = dequantize(q, scale);
  const meanSquare = w.data.reduce((s, v) => s + v * v, 0) / w.data.length;
  return {
    q,
    scale: scale[0]!,
    error: back.data.map((v, i) => v - w.data[i]!),
    sqnr: metrics(w.data, back.data).sqnrDb,
    predicted: 10 * Math.log10(meanSquare / (scale[0]! ** 2 / 12)),
  };
}
const plain = int8RoundTrip(weights);
await show(histogram({
  locale: LANG,
  values: plain.error,
  bins: 30,
  domain: [-plain.scale / 2, plain.scale / 2],
  title: "${
      t(
        "float32 → int8 → float32: error de cada peso",
        "float32 → int8 → float32: error of each weight",
      )
    }",
  xLabel: "x̂ − x",
  yLabel: "${t("cantidad de pesos", "number of weights")}",
}));
await table(["", "${t("valor", "value")}"], [
  ["${t("escala = max|x| / 127", "scale = max|x| / 127")}", sci(plain.scale)],
  ["${
      t("máx. |x̂ − x| (≤ escala/2)", "max |x̂ − x| (≤ scale/2)")
    }", sci(Math.max(...plain.error.map(Math.abs)))],
  ["${t("SQNR medida", "measured SQNR")}", fmt(plain.sqnr, 2) + " dB"],
  ["${t("SQNR predicha", "predicted SQNR")}", fmt(plain.predicted, 2) + " dB"],
  ["${t("niveles usados de 255", "levels used out of 255")}", new Set(plain.q.data).size],
]);
`),
    md(
      `
El error se reparte casi uniforme entre −escala/2 y escala/2, y la SQNR medida coincide con la
predicha. Pero la escala depende de un solo valor, el máximo. Veamos qué pasa si un único peso es
un **valor atípico** (*outlier*), algo habitual en los modelos de lenguaje grandes:
`,
      `
The error spreads almost uniformly between −scale/2 and scale/2, and the measured SQNR matches
the prediction. But the scale depends on a single value, the maximum. Let us see what happens
when one single weight is an **outlier**, something common in large language models:
`,
    ),
    codeEach((t) => `
const withOutlier = matrix([64, 64], weights.data);
withOutlier.data[0] = 1; // ${
      t("un peso de 50 desviaciones típicas", "one weight of 50 standard deviations")
    }
const spoiled = int8RoundTrip(withOutlier);
await table(["", "${t("sin valor atípico", "no outlier")}", "${
      t("con un valor atípico", "with one outlier")
    }"], [
  ["${t("escala", "scale")}", sci(plain.scale), sci(spoiled.scale)],
  ["SQNR", fmt(plain.sqnr, 2) + " dB", fmt(spoiled.sqnr, 2) + " dB"],
  ["${
      t("niveles usados de 255", "levels used out of 255")
    }", new Set(plain.q.data).size, new Set(spoiled.q.data).size],
  ["${
      t("pesos que quedan en 0", "weights that become 0")
    }", plain.q.data.filter((v) => v === 0).length, spoiled.q.data.filter((v) => v === 0).length],
]);
`),
    md(
      `
Un solo valor atípico multiplica la escala, deja casi todos los pesos en unos pocos niveles
alrededor de cero y hunde la SQNR. Por eso en la práctica se usan escalas **por canal** o **por
grupo** de pesos, formatos con exponente (fp8, NF4, MX) y tratamientos especiales de los valores
atípicos: es el tema del capítulo siguiente.

### Resumen

- Menos bits: menos memoria y ancho de banda (un modelo de 7B pasa de 27 GB en float32 a 3,4 GB
  en int4) y, según la clase, menos energía por operación.
- Cada formato tiene su rango, su precisión y su tipo de acumulación; int8 acumula en int32 y
  bfloat16 en float32, porque su propio formato no puede contener la suma.
- Un resultado que no cabe se envuelve, se satura o se ensancha: 127 + 127 en int8 es −2, 127 o
  254, según la regla.
- float32 → float16 tiene un error relativo ≤ 2⁻¹¹ en el rango normal, pero desborda por encima
  de 65504; float32 → int8 necesita una escala, y un solo valor atípico la estropea.
`,
      `
One single outlier multiplies the scale, squeezes almost every weight into a few levels around
zero and sinks the SQNR. That is why practice uses scales **per channel** or **per group** of
weights, formats with an exponent (fp8, NF4, MX) and special handling of outliers: the topic of
the next chapter.

### Summary

- Fewer bits: less memory and bandwidth (a 7B model goes from 27 GB in float32 to 3.4 GB in
  int4) and, as the lecture says, less energy per operation.
- Each format has its range, its precision and its accumulation type; int8 accumulates in int32
  and bfloat16 in float32, because their own format cannot hold the sum.
- A result that does not fit wraps, saturates or widens: 127 + 127 in int8 is −2, 127 or 254,
  depending on the rule.
- float32 → float16 has a relative error ≤ 2⁻¹¹ in the normal range but overflows above 65504;
  float32 → int8 needs a scale, and a single outlier spoils it.
`,
    ),
  ],
};
