// Chapter 1 of the lecture "LoRA y cuantización": LoRA, the idea. Rendered by build.ts into
// notebooks/es/01-lora.ipynb and notebooks/en/01-lora.ipynb; every number is computed in a cell.
import { type Chapter, code, md } from "./_cell.ts";
import { codeEach, displayHelpers } from "../_notebook.ts";

/** LoRA: W frozen, ΔW ≈ B·A, α/r, the 7B count, the three benefits, training, merging. */
export const chapter: Chapter = {
  slug: "01-lora",
  number: 1,
  title: { es: "LoRA: la idea", en: "LoRA: the idea" },
  cells: [
    md(
      `
Ajustar (*fine-tuning*) un modelo grande es seguir entrenándolo con los datos de una tarea nueva.
En el **ajuste completo** se entrenan *todos* sus parámetros: en un modelo de 7000 millones de
parámetros, 7000 millones de números, cada uno con su gradiente y con el estado del optimizador.

**LoRA** (*Low-Rank Adaptation*, Hu et al., 2021) parte de una observación: el cambio que
necesita cada matriz de pesos, ΔW, suele tener **rango bajo**. Por eso congela la matriz original
W y aprende solo dos matrices pequeñas:

> W' = W + ΔW ≈ W + (α/r) · B · A

con W de tamaño d×k (salidas × entradas), B de d×r, A de r×k y un rango r mucho menor que d y k.
Una capa que calculaba y = W·x calcula ahora y = W·x + (α/r) · B·(A·x).

- **W está congelada**: no recibe gradientes ni estado del optimizador.
- **A empieza aleatoria y B empieza en cero**, así que al principio ΔW = 0 y el modelo adaptado
  es exactamente el original.
- **α/r escala la actualización**: con α fijo, cambiar el rango no obliga a reajustar la tasa de
  aprendizaje.

Todos los números de este cuaderno los calcula \`@loraquant/reference\`, la referencia exacta del
proyecto (en float64), y todas las figuras se dibujan a partir de esos números. En el código,
como en PyTorch, los datos van por filas: x es n×k y la capa calcula x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ.
`,
      `
Fine-tuning a large model means training it further on the data of a new task. **Full
fine-tuning** trains *all* of its parameters: in a model with 7 billion parameters, 7 billion
numbers, each with its gradient and its optimizer state.

**LoRA** (*Low-Rank Adaptation*, Hu et al., 2021) starts from an observation: the change each
weight matrix needs, ΔW, tends to have **low rank**. So it freezes the original matrix W and
learns only two small matrices:

> W' = W + ΔW ≈ W + (α/r) · B · A

with W of size d×k (outputs × inputs), B of d×r, A of r×k and a rank r much smaller than d and k.
A layer that computed y = W·x now computes y = W·x + (α/r) · B·(A·x).

- **W is frozen**: it gets no gradients and no optimizer state.
- **A starts random and B starts at zero**, so at first ΔW = 0 and the adapted model is exactly
  the original one.
- **α/r scales the update**: with α fixed, changing the rank does not force a new learning rate.

Every number in this notebook is computed by \`@loraquant/reference\`, the project's exact
reference (in float64), and every figure is drawn from those numbers. In the code, as in PyTorch,
data goes in rows: x is n×k and the layer computes x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ.
`,
    ),
    codeEach((t) => `
import {
  Adam, addScaled, countParameters, frobeniusNorm, initLora, LLAMA_7B_SHAPES, loraLinearBackward,
  loraLinearForward, loraScaling, lowRank, matrix, memoryBytes, mergeLora, mseLoss, multiply, qr,
  SplitMix64, svd, unmergeLora,
} from "@loraquant/reference";
import { barChart, heatmap, lineChart, loraUpdate } from "@loraquant/notebook";

${displayHelpers(t)}
// ${
      t(
        "Matrices aleatorias reproducibles: normales N(0, std²) a partir de SplitMix64.",
        "Reproducible random matrices: normal N(0, std²) from SplitMix64.",
      )
    }
const rng = new SplitMix64(2024);
const gauss = () =>
  Math.sqrt(-2 * Math.log(1 - rng.nextUniform())) * Math.cos(2 * Math.PI * rng.nextUniform());
const randn = (rows: number, cols: number, std = 1) =>
  matrix([rows, cols], Array.from({ length: rows * cols }, () => std * gauss()));
`),
    md(
      `
## 1. La actualización completa frente a la de LoRA

El ajuste completo aprende una matriz ΔW entera: d·k números. LoRA aprende B y A: r·(d + k)
números. En la figura, una ΔW de 24×16 obtenida «por ajuste completo» (casi de rango 2, con un
poco de ruido, como las actualizaciones reales) y, a escala, su mejor aproximación de rango 2,
B·A, calculada con la SVD (teorema de Eckart–Young): B es 24×2 y A es 2×16.
`,
      `
## 1. The full update next to the LoRA update

Full fine-tuning learns a whole matrix ΔW: d·k numbers. LoRA learns B and A: r·(d + k) numbers.
The figure shows a 24×16 ΔW obtained "by full fine-tuning" (almost rank 2, plus a little noise,
like real updates) and, to scale, its best rank-2 approximation B·A, computed with the SVD (the
Eckart–Young theorem): B is 24×2 and A is 2×16.
`,
    ),
    codeEach((t) => `
const d = 24, k = 16, r = 2;
// ${
      t(
        "ΔW del ajuste completo: rango 2 más un poco de ruido.",
        "ΔW of full fine-tuning: rank 2 plus a little noise.",
      )
    }
const deltaFull = addScaled(multiply(randn(d, r), randn(r, k, 0.5)), randn(d, k, 0.05));
// ${
      t(
        "La mejor aproximación de rango r: B (d×r) y A (r×k).",
        "The best rank-r approximation: B (d×r) and A (r×k).",
      )
    }
const { b, a, s: sigma, error } = lowRank(deltaFull, r);
await show(loraUpdate({
  deltaW: deltaFull,
  b,
  a,
  labels: {
    full: "${t("ΔW del ajuste completo", "ΔW of full fine-tuning")}: " + fmt(d * k) + " ${
      t("parámetros", "parameters")
    }",
    lora: "LoRA, B·A: " + fmt(r * (d + k)) + " ${t("parámetros", "parameters")}",
    b: "B (" + d + "×" + r + ")",
    a: "A (" + r + "×" + k + ")",
  },
}));
await print("${
      t("Valores singulares de ΔW:", "Singular values of ΔW:")
    }", [...sigma].slice(0, 4).map((v) => fmt(v, 3)).join("; "), "…");
await print("${
      t("Error relativo", "Relative error")
    } ‖ΔW − B·A‖ / ‖ΔW‖ =", fmt(error / frobeniusNorm(deltaFull), 3));
`),
    md(
      `
Los dos primeros valores singulares dominan: casi toda la «energía» de ΔW cabe en rango 2, y B·A
la reproduce con un error pequeño usando 80 números en lugar de 384.

## 2. El factor de escala α/r

La rama de LoRA se multiplica por s = α/r (\`lora_alpha\` en PEFT). Si se duplica r con α fijo,
s se reduce a la mitad; así la magnitud inicial de la actualización no crece con el rango y la
misma tasa de aprendizaje sirve para varios rangos. rsLoRA (Kalajdzievski, 2023) propone
s = α/√r, que se comporta mejor con rangos grandes.
`,
      `
The first two singular values dominate: almost all the "energy" of ΔW fits in rank 2, and B·A
reproduces it with a small error using 80 numbers instead of 384.

## 2. The scaling factor α/r

The LoRA branch is multiplied by s = α/r (\`lora_alpha\` in PEFT). Doubling r with α fixed halves
s; so the initial size of the update does not grow with the rank and one learning rate works for
several ranks. rsLoRA (Kalajdzievski, 2023) proposes s = α/√r, which behaves better at large
ranks.
`,
    ),
    code(`
const alpha = 16;
await table(
  ["r", "s = α/r (α = 16)", "rsLoRA: s = α/√r"],
  [1, 2, 4, 8, 16, 32, 64].map((rank) => [
    rank,
    fmt(loraScaling(rank, { alpha }), 4),
    fmt(loraScaling(rank, { alpha, rslora: true }), 4),
  ]),
);
`),
    md(
      `
## 3. Contar parámetros: el ejemplo de 7B

Tomemos un modelo con la forma de LLaMA-7B: 32 capas, dimensión del modelo d = 4096. Cada capa
tiene cuatro proyecciones de atención (W_q, W_k, W_v, W_o) de 4096×4096 y tres matrices del MLP
de 11008×4096; además hay embeddings, la capa de salida y normalizaciones. El artículo de LoRA
adapta solo W_q y W_v: con r = 8, cada una recibe r·(d + k) = 8·(4096 + 4096) parámetros.
Calculamos los totales a partir de las formas, y comparamos con el contador de la referencia
(\`countParameters\`).
`,
      `
## 3. Counting parameters: the 7B example

Take a model shaped like LLaMA-7B: 32 layers, model dimension d = 4096. Each layer has four
attention projections (W_q, W_k, W_v, W_o) of 4096×4096 and three MLP matrices of 11008×4096;
there are also embeddings, the output layer and normalizations. The LoRA paper adapts only W_q
and W_v: with r = 8 each gets r·(d + k) = 8·(4096 + 4096) parameters. We compute the totals from
the shapes and compare with the reference's counter (\`countParameters\`).
`,
    ),
    codeEach((t) => `
const layers = 32, dModel = 4096, dMlp = 11008, vocab = 32000;
// ${
      t(
        "Por capa: 4 proyecciones de atención, 3 matrices del MLP y 2 normalizaciones.",
        "Per layer: 4 attention projections, 3 MLP matrices and 2 normalizations.",
      )
    }
const linearPerLayer = 4 * dModel * dModel + 3 * dMlp * dModel;
const total7b = layers * (linearPerLayer + 2 * dModel) + 2 * vocab * dModel + dModel;

const rank = 8;
const qv = Array.from({ length: layers }, () => [[dModel, dModel], [dModel, dModel]] as const).flat();
const loraByHand = layers * 2 * rank * (dModel + dModel);
const counted = countParameters(qv, rank); // ${t("la referencia", "the reference")}
if (BigInt(loraByHand) !== counted.lora) throw new Error("${
      t("los recuentos no coinciden", "the counts disagree")
    }");
// ${
      t(
        "Las matrices lineales de LLaMA-7B según la referencia: las mismas que las nuestras.",
        "LLaMA-7B's linear matrices according to the reference: the same as ours.",
      )
    }
if (countParameters(LLAMA_7B_SHAPES, rank).full !== BigInt(layers * linearPerLayer)) throw new Error("LLAMA_7B_SHAPES");

await print("${
      t("Parámetros del modelo completo:", "Parameters of the whole model:")
    }   ", fmt(total7b));
await print("${
      t("Entrenables con LoRA r = 8 en W_q y W_v:", "Trainable with LoRA r = 8 on W_q, W_v:")
    }", fmt(counted.lora));
await print("${t("Fracción:", "Fraction:")}", fmt((100 * Number(counted.lora)) / total7b, 3), "%");
`),
    codeEach((t) => `
// ${
      t(
        "Y si adaptamos las 7 matrices de cada capa (LLAMA_7B_SHAPES) con distintos rangos:",
        "And adapting all 7 matrices of each layer (LLAMA_7B_SHAPES) at several ranks:",
      )
    }
await table(
  ["r", "${t("W_q y W_v", "W_q and W_v")}", "${t("% del modelo", "% of the model")}", "${
      t("las 7 matrices", "all 7 matrices")
    }", "${t("% del modelo", "% of the model")}"],
  [1, 2, 4, 8, 16, 64].map((rr) => {
    const two = countParameters(qv, rr).lora;
    const all = countParameters(LLAMA_7B_SHAPES, rr).lora;
    return [rr, fmt(two), fmt((100 * Number(two)) / total7b, 3), fmt(all), fmt((100 * Number(all)) / total7b, 3)];
  }),
);
`),
    md(
      `
## 4. Las tres ventajas, con números

1. **Eficiencia.** Solo se entrenan los parámetros de LoRA, así que solo ellos necesitan
   gradientes y estado de Adam (dos números en float32 por parámetro: m y v).
2. **Personalización.** Un modelo base sirve para muchas tareas: cada tarea guarda solo su
   adaptador (B y A), no una copia entera del modelo.
3. **Accesibilidad.** El ajuste cabe en mucha menos memoria. Contamos: los pesos de todo el
   modelo en el formato de entrenamiento, los gradientes de los parámetros entrenables en ese
   mismo formato y el estado de Adam en float32. No contamos las activaciones, que dependen del
   tamaño del lote y de la longitud de la secuencia. GB = 10⁹ bytes.
`,
      `
## 4. The three benefits, in numbers

1. **Efficiency.** Only the LoRA parameters are trained, so only they need gradients and Adam
   state (two float32 numbers per parameter: m and v).
2. **Personalization.** One base model serves many tasks: each task stores only its adapter
   (B and A), not a whole copy of the model.
3. **Accessibility.** Fine-tuning fits in much less memory. We count: the weights of the whole
   model in the training format, the gradients of the trainable parameters in that same format,
   and Adam's state in float32. We do not count activations, which depend on the batch size and
   the sequence length. GB = 10⁹ bytes.
`,
    ),
    codeEach((t) => `
const all7b = BigInt(total7b);
const adapter = counted.lora;
const gb = (bytes: bigint) => Number(bytes) / 1e9;
const adamState = (n: bigint) => 2n * memoryBytes(n, "float32"); // m ${t("y", "and")} v
const training = (format: string, trainable: bigint) =>
  memoryBytes(all7b, format) + memoryBytes(trainable, format) + adamState(trainable);

await table(["", "${t("ajuste completo", "full fine-tuning")}", "LoRA r = 8", "${
      t("razón", "ratio")
    }"], [
  ["${
      t("Parámetros entrenables", "Trainable parameters")
    }", fmt(all7b), fmt(adapter), fmt(Number(all7b) / Number(adapter))],
  ["${
      t("Estado de Adam (GB)", "Adam state (GB)")
    }", fmt(gb(adamState(all7b)), 1), fmt(gb(adamState(adapter)), 3), fmt(Number(adamState(all7b)) / Number(adamState(adapter)))],
  ["${
      t("Lo que se guarda por tarea, float16 (GB)", "Stored per task, float16 (GB)")
    }", fmt(gb(memoryBytes(all7b, "float16")), 1), fmt(gb(memoryBytes(adapter, "float16")), 4), fmt(Number(all7b) / Number(adapter))],
]);
const perCopy = memoryBytes(all7b, "float16") / memoryBytes(adapter, "float16");
await print("${
      t("En el espacio de una copia del modelo caben", "The space of one copy of the model holds")
    }", fmt(perCopy), "${t("adaptadores.", "adapters.")}");
`),
    codeEach((t) => `
const bars = ["float32", "float16"].flatMap((format) => [
  { label: format, value: gb(training(format, all7b)), group: "${
      t("ajuste completo", "full fine-tuning")
    }" },
  { label: format, value: gb(training(format, adapter)), group: "LoRA r = 8" },
]);
await show(barChart({
  locale: LANG,
  bars,
  title: "${
      t(
        "Memoria para ajustar un modelo de 7B con Adam (sin activaciones)",
        "Memory to fine-tune a 7B model with Adam (without activations)",
      )
    }",
  yLabel: "GB",
  valueFormat: ".1f",
}));
for (const bar of bars) await print(bar.group + ", " + bar.label + ":", fmt(bar.value, 1), "GB");
`),
    md(
      `
El ajuste completo en float16 no cabe ni en una GPU de 80 GB; con LoRA, los pesos congelados en
float16 y unos pocos megabytes de adaptador caben en una GPU de consumo de 24 GB (y con los pesos
cuantizados, como en QLoRA, en bastante menos: es el tema del capítulo 2).

## 5. Entrenar una LoRA: el experimento plantado

¿Encuentra el entrenamiento la ΔW correcta? Lo comprobamos con un experimento cuya respuesta
conocemos:

1. una W₀ aleatoria de 12×16, congelada;
2. una actualización «plantada» ΔW\\* = B\\*·A\\* de **rango 2**;
3. entradas X (64×16) blanqueadas (XᵀX = 64·I) y objetivos Y = X·(W₀ + ΔW\\*)ᵀ;
4. una LoRA sobre W₀ entrenada con Adam sobre el error cuadrático medio, con las funciones
   \`loraLinearForward\`, \`loraLinearBackward\`, \`mseLoss\` y \`Adam\` de la referencia.

Con entradas blanqueadas la pérdida es exactamente ‖s·B·A − ΔW\\*‖² / 12, así que el rango 2
puede llevarla a cero, mientras que el rango 1 se queda en el mínimo de Eckart–Young, σ₂² / 12
(σ₂ es el segundo valor singular de ΔW\\*).
`,
      `
Full fine-tuning in float16 does not fit even on an 80 GB GPU; with LoRA, the frozen weights in
float16 plus a few megabytes of adapter fit on a 24 GB consumer GPU (and with quantized weights,
as in QLoRA, in much less: that is chapter 2's topic).

## 5. Training a LoRA: the planted experiment

Does training find the right ΔW? We check with an experiment whose answer we know:

1. a random 12×16 W₀, frozen;
2. a "planted" update ΔW\\* = B\\*·A\\* of **rank 2**;
3. whitened inputs X (64×16, XᵀX = 64·I) and targets Y = X·(W₀ + ΔW\\*)ᵀ;
4. a LoRA on W₀ trained by Adam on the mean squared error, with the reference's
   \`loraLinearForward\`, \`loraLinearBackward\`, \`mseLoss\` and \`Adam\`.

With whitened inputs the loss is exactly ‖s·B·A − ΔW\\*‖² / 12, so rank 2 can drive it to zero,
while rank 1 stops at the Eckart–Young floor σ₂² / 12 (σ₂ is the second singular value of ΔW\\*).
`,
    ),
    codeEach((t) => `
const out = 12, inputs = 16, samples = 64;
const w0 = randn(out, inputs, 1 / Math.sqrt(inputs));
const planted = multiply(randn(out, 2), randn(2, inputs, 1 / Math.sqrt(inputs))); // ${
      t("rango 2", "rank 2")
    }
const q = qr(randn(samples, inputs)).q; // ${t("columnas ortonormales", "orthonormal columns")}
const x = matrix([samples, inputs], q.data.map((v) => v * Math.sqrt(samples))); // XᵀX = n·I
const target = multiply(x, addScaled(w0, planted), { transposeB: true });

function trainLora(rank: number, steps: number) {
  const { adapter } = initLora(w0, { rank, alpha: rank, seed: 1 }); // B = 0
  const layer = { w: w0, a: adapter.a, b: adapter.b, alpha: rank };
  const adam = new Adam({ lr: 0.02 });
  const losses: [number, number][] = [];
  for (let step = 0; step <= steps; step++) {
    const { y, cache } = loraLinearForward(x, layer);
    const { loss, grad } = mseLoss(y, target);
    losses.push([step, loss]);
    if (step === steps) break;
    const { da, db } = loraLinearBackward(layer, { cache, dy: grad }); // ${
      t("W no recibe gradiente", "W gets no gradient")
    }
    adam.step([layer.a.data, layer.b.data], [da.data, db.data]);
  }
  return { layer, losses };
}
const rank1 = trainLora(1, 400);
const rank2 = trainLora(2, 400);
const floor = svd(planted).s[1]! ** 2 / out; // Eckart–Young: σ₂² / out
`),
    codeEach((t) => `
await show(lineChart({
  locale: LANG,
  series: [
    { name: "LoRA r = 1", points: rank1.losses },
    { name: "LoRA r = 2", points: rank2.losses },
    { name: "${
      t("mínimo de rango 1: σ₂²/12", "rank-1 floor: σ₂²/12")
    }", points: [[0, floor], [400, floor]], dashed: true },
  ],
  title: "${t("Pérdida de entrenamiento (ΔW* de rango 2)", "Training loss (rank-2 ΔW*)")}",
  xLabel: "${t("paso de Adam", "Adam step")}",
  yLabel: "${t("error cuadrático medio", "mean squared error")}",
  yScale: "log",
}));
await print("${
      t("Pérdida final con r = 1:", "Final loss at r = 1:")
    }", fmt(rank1.losses.at(-1)![1], 12), " ${
      t("mínimo teórico:", "theoretical floor:")
    }", fmt(floor, 12));
await print("${
      t("Pérdida final con r = 2:", "Final loss at r = 2:")
    }", sci(rank2.losses.at(-1)![1]), " ${
      t("(la inicial era", "(the initial one was")
    }", fmt(rank2.losses[0]![1], 3) + ")");
`),
    codeEach((t) => `
// ${
      t(
        "¿Se parece la ΔW aprendida, s·B·A (aquí s = 1), a la plantada?",
        "Does the learned ΔW, s·B·A (here s = 1), match the planted one?",
      )
    }
const learned = multiply(rank2.layer.b, rank2.layer.a);
const gap = frobeniusNorm(addScaled(learned, planted, { factor: -1 })) / frobeniusNorm(planted);
await print("‖B·A − ΔW*‖ / ‖ΔW*‖ =", sci(gap, 2));
const range = Math.max(...planted.data.map(Math.abs));
await show(heatmap({ matrix: planted, title: "${
      t("ΔW* plantada", "planted ΔW*")
    }", domain: [-range, range] }));
await show(heatmap({ matrix: learned, title: "${
      t("B·A aprendida (r = 2)", "learned B·A (r = 2)")
    }", domain: [-range, range] }));
`),
    md(
      `
La pérdida con r = 2 cae más de diez órdenes de magnitud y B·A coincide con ΔW\\* en muchas
cifras; con r = 1 la pérdida se detiene justo en σ₂²/12: a LoRA le falta rango, no
entrenamiento. Fíjate en que B y A por separado **no** tienen por qué coincidir con B\\* y A\\*
(B·M y M⁻¹·A dan el mismo producto para cualquier M invertible); lo que se recupera es el
producto.

## 6. Fusionar el adaptador (*merge*)

Tras entrenar, se puede sumar la actualización a los pesos: W' = W + s·B·A (\`mergeLora\`).
La capa fusionada calcula lo mismo que W más la rama de LoRA, pero la inferencia vuelve a costar
exactamente lo que costaba el modelo base. Para cambiar de tarea se resta (\`unmergeLora\`) y se
suma otro adaptador. Fusionar cuesta un producto B·A por matriz, una sola vez.
`,
      `
At r = 2 the loss falls by more than ten orders of magnitude and B·A matches ΔW\\* to many digits;
at r = 1 the loss stops exactly at σ₂²/12: LoRA lacks rank, not training. Note that B and A on
their own need **not** match B\\* and A\\* (B·M and M⁻¹·A give the same product for any invertible
M); what is recovered is the product.

## 6. Merging the adapter

After training, the update can be added to the weights: W' = W + s·B·A (\`mergeLora\`). The
merged layer computes the same as W plus the LoRA branch, but inference again costs exactly what
the base model cost. To switch tasks, subtract it (\`unmergeLora\`) and add another adapter.
Merging costs one product B·A per matrix, once.
`,
    ),
    codeEach((t) => `
const trained = rank2.layer;
const merged = mergeLora(w0, trained); // W' = W₀ + s·B·A
const xNew = randn(5, inputs); // ${
      t("entradas que no se usaron al entrenar", "inputs not used in training")
    }
const yAdapter = loraLinearForward(xNew, trained).y; // x·W₀ᵀ + s·(x·Aᵀ)·Bᵀ
const yMerged = multiply(xNew, merged, { transposeB: true }); // x·W'ᵀ
const maxDiff = (p: { data: Float64Array }, q: { data: Float64Array }) =>
  Math.max(...p.data.map((v, i) => Math.abs(v - q.data[i]!)));
await print("${
      t("Máx. |salida sin fusionar − salida fusionada|:", "Max |unmerged output − merged output|:")
    }", sci(maxDiff(yAdapter, yMerged), 1));
await print("${
      t("Máx. |unmerge(merge(W₀)) − W₀|:", "Max |unmerge(merge(W₀)) − W₀|:")
    }", sci(maxDiff(unmergeLora(merged, trained), w0), 1));

// ${
      t(
        "Coste en el modelo de 7B (LoRA r = 8 en W_q y W_v), en multiplicaciones-sumas:",
        "Cost in the 7B model (LoRA r = 8 on W_q and W_v), in multiply-adds:",
      )
    }
const mergeCost = layers * 2 * dModel * dModel * rank; // ${
      t("B·A por matriz, una vez", "B·A per matrix, once")
    }
const perTokenBase = layers * linearPerLayer; // ${t("x·Wᵀ por token", "x·Wᵀ per token")}
const perTokenBranch = layers * 2 * rank * (dModel + dModel); // ${
      t("(x·Aᵀ)·Bᵀ por token", "(x·Aᵀ)·Bᵀ per token")
    }
await table(["", "${t("multiplicaciones-sumas", "multiply-adds")}"], [
  ["${
      t("Fusionar (una vez)", "Merge (once)")
    }", fmt(mergeCost) + " (" + fmt(mergeCost / perTokenBase, 2) + " ${t("tokens", "tokens")})"],
  ["${
      t(
        "Un token con el modelo base (matrices lineales)",
        "One token with the base model (linear matrices)",
      )
    }", fmt(perTokenBase)],
  ["${
      t("Extra por token sin fusionar", "Extra per token when not merged")
    }", fmt(perTokenBranch) + " (" + fmt((100 * perTokenBranch) / perTokenBase, 3) + " %)"],
  ["${t("Extra por token ya fusionado", "Extra per token once merged")}", "0"],
]);
`),
    md(
      `
Las dos salidas coinciden hasta el redondeo de float64 (unas pocas unidades en la última cifra),
y deshacer la fusión devuelve W₀ con el mismo margen. Fusionar cuesta, una sola vez, poco más que
procesar un token; sin fusionar, la rama de LoRA añade a cada token una fracción pequeña de
cálculo, a cambio de poder cambiar de adaptador al vuelo.

### Resumen

- LoRA congela W y entrena ΔW ≈ (α/r)·B·A, con r·(d + k) parámetros en lugar de d·k.
- En un modelo de 7B con r = 8 en W_q y W_v se entrenan 4.194.304 parámetros, un 0,06 % del
  total: menos gradientes, menos estado de Adam, adaptadores de megabytes.
- Si la actualización necesaria tiene rango ≤ r, LoRA la encuentra; si no, se queda en el mínimo
  de Eckart–Young.
- Fusionar el adaptador devuelve el coste de inferencia del modelo base.
`,
      `
The two outputs agree up to float64 rounding (a few units in the last place), and unmerging gives
W₀ back within the same margin. Merging costs, once, little more than processing one token;
unmerged, the LoRA branch adds a small fraction of compute to every token, in exchange for
switching adapters on the fly.

### Summary

- LoRA freezes W and trains ΔW ≈ (α/r)·B·A, with r·(d + k) parameters instead of d·k.
- In a 7B model with r = 8 on W_q and W_v it trains 4,194,304 parameters, 0.06 % of the total:
  fewer gradients, less Adam state, adapters of megabytes.
- If the needed update has rank ≤ r, LoRA finds it; if not, it stops at the Eckart–Young floor.
- Merging the adapter brings back the base model's inference cost.
`,
    ),
  ],
};
