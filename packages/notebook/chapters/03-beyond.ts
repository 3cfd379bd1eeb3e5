// Chapter 3, "Beyond the lecture": fp8, MX, NF4, ggml blocks, BitNet ternary, mixed precision,
// QLoRA's memory, and how the GPU kernels are proven against the reference. Every number the
// notebook shows is computed by @loraquant/reference when the notebook runs.
//
// In the cell sources below, `${…}` is filled in here (the language's text), `\${…}` is a
// template literal of the notebook's own code.
import { type Cell, type Chapter, code, md } from "./_cell.ts";
import { codeEach, displayHelpers } from "../_notebook.ts";

const cells: Cell[] = [
  md(
    `
    En clase vimos float16, bfloat16, int8 e int4, y LoRA sobre pesos en coma flotante. Este
    cuaderno recorre lo que se usa hoy en los modelos grandes y que no cupo en la clase:

    1. **fp8** (e4m3 y e5m2) y las reglas de OCP para NaN y saturación;
    2. **MX** (microscaling de OCP): bloques de 32 valores que comparten una escala E8M0;
    3. **NF4**, los 16 niveles NormalFloat de QLoRA, con un absmax por bloque;
    4. los **bloques de ggml** (llama.cpp): q8_0, q4_0 y q4_1;
    5. **BitNet b1.58**: pesos ternarios −1, 0, +1 con escala absmean;
    6. **precisión mixta**: cálculo en bfloat16/float16 con pesos maestros en float32, y el
       *loss scaling*;
    7. **QLoRA**: LoRA sobre una base congelada en NF4, y cuánta memoria ahorra;
    8. cómo se **demuestra** que los kernels de GPU calculan lo mismo que la referencia.

    Cada número de este cuaderno lo calcula \`@loraquant/reference\`, la especificación exacta en
    float64 del proyecto, al ejecutar el cuaderno: no hay ninguna cifra copiada a mano. No hace
    falta GPU.
    `,
    `
    The lecture covered float16, bfloat16, int8 and int4, and LoRA on floating-point weights. This
    notebook walks through what large models use today and did not fit in the lecture:

    1. **fp8** (e4m3 and e5m2) and the OCP rules for NaN and saturation;
    2. **MX** (OCP microscaling): blocks of 32 values sharing one E8M0 scale;
    3. **NF4**, QLoRA's 16 NormalFloat levels, with one absmax per block;
    4. the **ggml blocks** (llama.cpp): q8_0, q4_0 and q4_1;
    5. **BitNet b1.58**: ternary weights −1, 0, +1 with an absmean scale;
    6. **mixed precision**: compute in bfloat16/float16 with float32 master weights, and loss
       scaling;
    7. **QLoRA**: LoRA on a frozen NF4 base, and how much memory it saves;
    8. how the GPU kernels are **proven** to compute what the reference computes.

    Every number in this notebook is computed by \`@loraquant/reference\`, the project's exact
    float64 specification, when the notebook runs: no figure is copied by hand. No GPU is needed.
    `,
  ),
  md(
    `
    Primero, las importaciones y unas funciones auxiliares para mostrar tablas y figuras. Los
    pesos de ejemplo son 4096 valores gaussianos (σ = 0,02, la escala típica de una capa de un
    modelo de lenguaje), generados con SplitMix64 para que el cuaderno dé siempre lo mismo.
    `,
    `
    First, the imports and a few helpers to show tables and figures. The example weights are 4096
    Gaussian values (σ = 0.02, the typical scale of a language-model layer), drawn from SplitMix64
    so that the notebook always gives the same numbers.
    `,
  ),
  codeEach((t) => `
    import {
      cast, countParameters, decode, dequantize, encode, floatFormat, LLAMA_7B_SHAPES, matmul,
      matrix, memoryBytes, metrics, MX_FORMATS, MX_SCALE_MODES, NF4_CODE, quantize,
      quantizeBitsandbytes, quantizeGgml, quantizeMx, roundToFormat, sharedExponent, SplitMix64,
      ternary,
    } from "@loraquant/reference";
    import { barChart, bitLayout, histogram, lineChart, scatterChart } from "@loraquant/notebook";

    ${displayHelpers(t, "    ")}

    const LOCALE = "${t("es-ES", "en-US")}";
    /** x with up to \`significant\` significant digits, in the notebook's language. */
    const num = (x: number, significant = 8): string =>
      Number.isFinite(x)
        ? x.toLocaleString(LOCALE, { maximumSignificantDigits: significant })
        : String(x);
    const hex = (bits: number, width: number): string =>
      "0x" + bits.toString(16).padStart(Math.ceil(width / 4), "0");

    /** n Gaussian values N(0, σ²) from SplitMix64(seed) by Box–Muller, rounded to float32. */
    function gaussian(n: number, seed: number, sigma: number): Float64Array {
      const rng = new SplitMix64(seed);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i += 2) {
        const radius = sigma * Math.sqrt(-2 * Math.log(1 - rng.nextUniform())); // 1 − u ∈ (0, 1]
        const angle = 2 * Math.PI * rng.nextUniform();
        out[i] = Math.fround(radius * Math.cos(angle));
        if (i + 1 < n) out[i + 1] = Math.fround(radius * Math.sin(angle));
      }
      return out;
    }

    const w = gaussian(4096, 2024, 0.02); // the example weights, float32 values
    /** Signal-to-quantization-noise ratio of an approximation of w, in dB (reference metrics). */
    const sqnr = (y: ArrayLike<number>): number => metrics(w, y).sqnrDb;
    /** Every format measured in this notebook: name → bits per weight (scales included), SQNR. */
    const summary: { format: string; family: string; bits: number; sqnrDb: number }[] = [];
    const maxAbs = Math.max(...w.map(Math.abs));
    await say(\`${t("Pesos", "Weights")}: n = \${w.length}, max |w| = \${fixed(maxAbs, 4)}\`);
  `),

  // ---------------------------------------------------------------------------------------- fp8
  md(
    `
    ## 1. fp8: e4m3 y e5m2

    La especificación OCP 8-bit Floating Point (OFP8, 2023) define dos formatos de 8 bits. **e4m3**
    (4 bits de exponente, 3 de mantisa) da más precisión y se usa para pesos y activaciones;
    **e5m2** (5 y 2) da más rango y se usa para gradientes. Las reglas especiales difieren:

    - **e5m2** sigue a IEEE 754: el exponente todo unos es ±∞ o NaN, y un desbordamiento
      redondeado al más cercano da ±∞.
    - **e4m3** no tiene infinitos: solo el patrón S.1111.111 es NaN, y el resto de la última
      binada es finito, lo que sube el máximo a 448. Sin saturación, un desbordamiento da NaN
      (lo mismo que hace \`torch.float8_e4m3fn\`); con saturación (*satfinite*), ±448.

    La tabla sale de los descriptores de \`floatFormat\` y de decodificar los 256 patrones de cada
    formato con \`decode\`.
    `,
    `
    ## 1. fp8: e4m3 and e5m2

    The OCP 8-bit Floating Point specification (OFP8, 2023) defines two 8-bit formats. **e4m3**
    (4 exponent bits, 3 mantissa bits) gives more precision and is used for weights and
    activations; **e5m2** (5 and 2) gives more range and is used for gradients. Their special
    values differ:

    - **e5m2** follows IEEE 754: the all-ones exponent is ±∞ or NaN, and an overflow rounded to
      nearest gives ±∞.
    - **e4m3** has no infinities: only the pattern S.1111.111 is NaN, and the rest of the top
      binade is finite, which raises the maximum to 448. Without saturation an overflow gives NaN
      (as \`torch.float8_e4m3fn\` does); with saturation (*satfinite*), ±448.

    The table comes from the \`floatFormat\` descriptors and from decoding all 256 patterns of each
    format with \`decode\`.
    `,
  ),
  codeEach((t) => `
    const fp8 = ["fp8-e4m3", "fp8-e5m2"] as const;
    const patterns = (name: (typeof fp8)[number]) => {
      const values = Array.from({ length: 256 }, (_, p) => decode(p, name));
      return {
        nan: values.filter(Number.isNaN).length,
        infinite: values.filter((v) => v === Infinity || v === -Infinity).length,
        finite: new Set(values.filter(Number.isFinite)).size, // +0 and −0 count once
      };
    };
    await table(
      [
        "${t("formato", "format")}",
        "${t("exponente / mantisa", "exponent / mantissa")}",
        "${t("sesgo", "bias")}",
        "max",
        "${t("mínimo normal", "min normal")}",
        "${t("mínimo subnormal", "min subnormal")}",
        "${t("binadas", "binades")}",
        "${t("valores finitos", "finite values")}",
        "±∞",
        "NaN",
      ],
      fp8.map((name) => {
        const f = floatFormat(name);
        const p = patterns(name);
        return [
          name,
          \`\${f.exponentBits} / \${f.mantissaBits}\`,
          f.bias,
          f.max,
          \`2^\${Math.log2(f.minNormal)}\`,
          \`2^\${Math.log2(f.minSubnormal)}\`,
          fixed(Math.log2(f.max / f.minSubnormal), 1),
          p.finite,
          p.infinite,
          p.nan,
        ];
      }),
    );
    const labels = {
      sign: "${t("signo", "sign")}",
      exponent: "${t("exponente", "exponent")}",
      mantissa: "${t("mantisa", "mantissa")}",
      integer: "${t("entero", "integer")}",
    };
    for (const [name, value] of [["fp8-e4m3", 448], ["fp8-e5m2", 57344]] as const) {
      const title = \`\${value} ${t("en", "in")} \${name}\`;
      await show(bitLayout({ format: name, value, title, labels }));
    }
  `),
  md(
    `
    Ahora convertimos unos cuantos valores con \`roundToFormat\` (un único redondeo al más cercano,
    empates a par), sin y con saturación. Fíjate en los casos frontera: 464 es el punto medio entre
    448 y 480 (el siguiente valor si el exponente no tuviera límite); el empate va al par, 448. Por
    encima, e4m3 da NaN y e5m2 da ∞ (61440 es el punto medio entre 57344 y 65536).
    `,
    `
    Now we convert a few values with \`roundToFormat\` (one rounding to nearest, ties to even),
    without and with saturation. Look at the boundary cases: 464 is the midpoint between 448 and 480
    (the next value if the exponent had no limit); the tie goes to even, 448. Above it, e4m3 gives
    NaN and e5m2 gives ∞ (61440 is the midpoint between 57344 and 65536).
    `,
  ),
  codeEach((t) => `
    const samples: [string, number][] = [
      [num(0.1), 0.1], ["1/3", 1 / 3], ["17", 17], ["240", 240], ["448", 448], ["464", 464],
      ["465", 465], ["500", 500], ["57344", 57344], ["61440", 61440], ["100000", 1e5],
      ["2^-9", 2 ** -9], ["2^-17", 2 ** -17], ["∞", Infinity], ["NaN", NaN],
    ];
    const cell = (x: number, name: (typeof fp8)[number], saturate: boolean): string => {
      const y = roundToFormat(x, name, { saturate });
      return \`\${num(y)} (\${hex(encode(y, name), 8)})\`;
    };
    await table(
      [
        "x",
        "e4m3",
        "${t("e4m3 saturado", "e4m3 saturating")}",
        "e5m2",
        "${t("e5m2 saturado", "e5m2 saturating")}",
      ],
      samples.map(([label, x]) => [
        label,
        cell(x, "fp8-e4m3", false),
        cell(x, "fp8-e4m3", true),
        cell(x, "fp8-e5m2", false),
        cell(x, "fp8-e5m2", true),
      ]),
    );
  `),
  md(
    `
    Con σ = 0,02 muchos pesos caen por debajo del mínimo normal de e4m3 (2⁻⁶ ≈ 0,0156), en la
    zona subnormal, donde la precisión relativa se pierde (la tabla cuenta cuántos). Por eso fp8 se usa **con una escala
    por tensor**: se multiplica por una potencia de dos s que lleva max |w| cerca del máximo del
    formato, se convierte, y se divide por s (ambas operaciones son exactas). Medimos la SQNR
    (relación señal/ruido de cuantización, \`metrics\`) con y sin escala.
    `,
    `
    With σ = 0.02 many weights fall below e4m3's smallest normal (2⁻⁶ ≈ 0.0156), in the subnormal
    range, where relative precision is lost (the table counts how many). That is why fp8 is used **with a per-tensor
    scale**: multiply by a power of two s that brings max |w| close to the format's maximum,
    convert, and divide by s (both operations are exact). We measure the SQNR (signal to
    quantization noise ratio, \`metrics\`) with and without the scale.
    `,
  ),
  codeEach((t) => `
    const amax = Math.max(...w.map(Math.abs));
    const fp8Rows = fp8.map((name) => {
      const f = floatFormat(name);
      const s = 2 ** Math.floor(Math.log2(f.max / amax)); // a power of two: w·s and y/s are exact
      const plain = cast(w, name);
      const scaled = cast(w.map((x) => x * s), name).map((y) => y / s);
      const subnormal = w.filter((x) => Math.abs(x) < f.minNormal).length / w.length;
      const format = \`\${name} ${t("(escalado)", "(scaled)")}\`;
      summary.push({ format, family: "fp8", bits: 8, sqnrDb: sqnr(scaled) });
      return [
        name,
        pct(subnormal),
        fixed(sqnr(plain), 1),
        \`2^\${Math.log2(s)}\`,
        fixed(sqnr(scaled), 1),
      ];
    });
    for (const name of ["float16", "bfloat16"] as const) {
      const family = "${t("coma flotante", "floating point")}";
      summary.push({ format: name, family, bits: 16, sqnrDb: sqnr(cast(w, name)) });
    }
    await table(
      [
        "${t("formato", "format")}",
        "${t("pesos subnormales sin escala", "weights subnormal unscaled")}",
        "${t("SQNR sin escala (dB)", "SQNR unscaled (dB)")}",
        "${t("escala s", "scale s")}",
        "${t("SQNR con escala (dB)", "SQNR scaled (dB)")}",
      ],
      fp8Rows,
    );
    const fp8Sqnr = (name: (typeof fp8)[number], scaled: boolean): number =>
      scaled
        ? summary.find((s) => s.format.startsWith(name))!.sqnrDb
        : sqnr(cast(w, name));
    const e4m3Loss = fp8Sqnr("fp8-e4m3", true) - fp8Sqnr("fp8-e4m3", false);
    const e5m2Loss = fp8Sqnr("fp8-e5m2", true) - fp8Sqnr("fp8-e5m2", false);
    const e4m3Lead = fp8Sqnr("fp8-e4m3", true) - fp8Sqnr("fp8-e5m2", true);
    await say(
      \`${
    t("Sin escala, e4m3 pierde", "Without the scale, e4m3 loses")
  } \${fixed(e4m3Loss, 1)} dB \` +
        \`${t("y e5m2", "and e5m2")} \${fixed(e5m2Loss, 1)} dB; \` +
        \`${t("con escala, e4m3 supera a e5m2 en", "with it, e4m3 beats e5m2 by")} \` +
        \`\${fixed(e4m3Lead, 1)} dB.\`,
    );
  `),
  md(
    `
    Con escala, e4m3 gana a e5m2 por su bit extra de mantisa (cada bit de mantisa vale unos 6 dB).
    e5m2 apenas necesita la escala porque su rango llega mucho más abajo (2⁻¹⁶): es la razón de
    usarlo para los gradientes, cuyas magnitudes varían mucho.
    `,
    `
    With the scale, e4m3 beats e5m2 thanks to its extra mantissa bit (each mantissa bit is worth
    about 6 dB). e5m2 hardly needs the scale because its range goes much lower (2⁻¹⁶): the reason
    to use it for gradients, whose magnitudes vary widely.
    `,
  ),

  // ----------------------------------------------------------------------------------------- MX
  md(
    `
    ## 2. MX: bloques de 32 con una escala E8M0

    La especificación OCP Microscaling (MX v1.0) lleva la escala del tensor al **bloque**: cada 32
    elementos consecutivos comparten una escala X = 2^e guardada en un byte **E8M0** (solo
    exponente, sesgo 127, 0xFF es NaN). Cada elemento se guarda en un formato pequeño (fp8, fp6, fp4
    o int8) y vale X · P_i. La regla de la especificación es

    e = ⌊log₂(amax)⌋ − emax_elem,

    donde amax es el máximo |V| del bloque y emax_elem el exponente del mayor valor del formato
    del elemento (2 en fp4-e2m1, cuyo máximo es 6). Cada V/X se redondea al más cercano **con
    saturación**. Coste: los bits del elemento más 8/32 = 0,25 bits por peso de escala.
    `,
    `
    ## 2. MX: blocks of 32 with one E8M0 scale

    The OCP Microscaling specification (MX v1.0) moves the scale from the tensor to the **block**:
    every 32 consecutive elements share one scale X = 2^e stored in one **E8M0** byte (exponent
    only, bias 127, 0xFF is NaN). Each element is stored in a small format (fp8, fp6, fp4 or int8)
    and is worth X · P_i. The specification's rule is

    e = ⌊log₂(amax)⌋ − emax_elem,

    where amax is the block's largest |V| and emax_elem the exponent of the element format's
    largest value (2 in fp4-e2m1, whose maximum is 6). Each V/X is rounded to nearest **with
    saturation**. Cost: the element's bits plus 8/32 = 0.25 bits per weight of scale.
    `,
  ),
  codeEach((t) => `
    const first = quantizeMx(w, "mxfp4").blocks[0]!;
    const firstAmax = Math.max(...w.slice(0, 32).map(Math.abs));
    await say(
      \`${t("Primer bloque en mxfp4", "First block in mxfp4")}: amax = \${fixed(firstAmax, 5)}, \` +
        \`⌊log₂ amax⌋ = \${Math.floor(Math.log2(firstAmax))}, \` +
        \`e = \${sharedExponent(firstAmax, "mxfp4")}, \` +
        \`${t("byte E8M0", "E8M0 byte")} = \${hex(first.scaleBits, 8)}, \` +
        \`X = 2^\${Math.log2(first.scale)}\`,
    );
    await table(
      [
        "i",
        "V",
        "V / X",
        "${t("código fp4", "fp4 code")}",
        "${t("elemento", "element")}",
        "${t("X · elemento", "X · element")}",
      ],
      first.codes.slice(0, 8).map((code, i) => [
        i,
        fixed(w[i]!, 5),
        fixed(w[i]! / first.scale, 3),
        "0b" + code.toString(2).padStart(4, "0"),
        num(decode(code, "fp4-e2m1")),
        fixed(decode(code, "fp4-e2m1") * first.scale, 5),
      ]),
    );
    const elementBits: Record<string, number> = {
      "mxint8": 8,
      "mxfp8-e4m3": 8,
      "mxfp8-e5m2": 8,
      "mxfp6-e2m3": 6,
      "mxfp6-e3m2": 6,
      "mxfp4": 4,
    };
    const mxRows = MX_FORMATS.map((name) => {
      const { y } = quantizeMx(w, name);
      const bits = elementBits[name]! + 8 / 32;
      summary.push({ format: name, family: "MX", bits, sqnrDb: sqnr(y) });
      return [name, fixed(bits, 2), fixed(sqnr(y), 1)];
    });
    await table(
      ["${t("formato", "format")}", "${t("bits por peso", "bits per weight")}", "SQNR (dB)"],
      mxRows,
    );
  `),
  md(
    `
    La regla *floor* de la especificación puede dejar amax/X por encima del máximo del elemento
    (en fp4, amax/X ∈ [4, 8) y el máximo es 6), así que los mayores valores del bloque se saturan.
    Las otras reglas que conoce la referencia lo evitan (\`ceil\` y \`rceil\`, la de NVIDIA, que
    sube el exponente solo cuando hace falta) o lo reducen (\`even\` redondea amax antes de tomar
    el logaritmo), a cambio de menos resolución para los valores pequeños.
    Contamos los elementos saturados y la SQNR de mxfp4 con cada regla:
    `,
    `
    The specification's *floor* rule can leave amax/X above the element's maximum (in fp4, amax/X
    ∈ [4, 8) and the maximum is 6), so the block's largest values saturate. The other rules the
    reference knows avoid
    it (\`ceil\`, and NVIDIA's \`rceil\`, which raises the exponent only when needed) or reduce it
    (\`even\` rounds amax before taking the logarithm), at the cost of less resolution for the
    small values. We count the saturated elements and
    the SQNR of mxfp4 under each rule:
    `,
  ),
  codeEach((t) => `
    const ruleRows = MX_SCALE_MODES.map((scaleMode) => {
      const { blocks, y } = quantizeMx(w, "mxfp4", { scaleMode });
      // Saturated: |V| beyond the largest element times the block's scale.
      const saturated = w.filter((v, i) => Math.abs(v) > 6 * blocks[Math.floor(i / 32)]!.scale);
      return [scaleMode, saturated.length, fixed(sqnr(y), 2)];
    });
    await table(
      ["${t("regla", "rule")}", "${
    t("elementos saturados", "saturated elements")
  }", "SQNR mxfp4 (dB)"],
      ruleRows,
    );
    const bySqnr = MX_SCALE_MODES
      .map((scaleMode) => ({ scaleMode, db: sqnr(quantizeMx(w, "mxfp4", { scaleMode }).y) }))
      .sort((x, y) => y.db - x.db);
    const bestRule = bySqnr[0]!;
    const worstRule = bySqnr.at(-1)!;
    await say(
      \`${t("Sobre estos pesos, la mejor regla es", "On these weights the best rule is")} \` +
        \`\\\`\${bestRule.scaleMode}\\\` (\${fixed(bestRule.db, 2)} dB) \` +
        \`${t("y la peor", "and the worst")} \` +
        \`\\\`\${worstRule.scaleMode}\\\` (\${fixed(worstRule.db, 2)} dB): \` +
        "${
    t(
      "saturar unos pocos valores grandes cuesta menos que perder resolución en todos los pequeños",
      "saturating a few large values costs less than losing resolution on all the small ones",
    )
  }.",
    );
  `),

  // ---------------------------------------------------------------------------------------- NF4
  md(
    `
    ## 3. NF4: los 16 niveles NormalFloat de QLoRA

    Los pesos de una red entrenada son aproximadamente gaussianos. int4 reparte sus 16 niveles de
    forma **uniforme**; NF4 (Dettmers et al., QLoRA, 2023) los coloca en los **cuantiles de una
    normal**, para que cada nivel reciba más o menos la misma cantidad de pesos. Cada bloque de 64
    pesos se divide por su absmax (guardado en float32), así que los niveles viven en [−1, 1]. NF4
    es asimétrico: 8 niveles positivos, 7 negativos y un cero exacto.

    La construcción de QLoRA: con δ = ½·(1 − 1/(2·15) + 1 − 1/(2·16)) ≈ 0,9677, los niveles
    positivos son Φ⁻¹ de 8 probabilidades equiespaciadas de δ a ½ (sin ½), los negativos −Φ⁻¹ de 7,
    más el 0, todo dividido por Φ⁻¹(δ). La recalculamos aquí (Φ con la serie de erf, Φ⁻¹ por
    bisección; las probabilidades en float32, como \`torch.linspace\`) y la comparamos con la
    tabla \`NF4_CODE\` de la referencia, copiada de bitsandbytes.
    `,
    `
    ## 3. NF4: QLoRA's 16 NormalFloat levels

    The weights of a trained network are roughly Gaussian. int4 spreads its 16 levels
    **uniformly**; NF4 (Dettmers et al., QLoRA, 2023) puts them at the **quantiles of a normal
    distribution**, so that each level receives about the same share of the weights. Each block of
    64 weights is divided by its absmax (stored in float32), so the levels live in [−1, 1]. NF4 is
    asymmetric: 8 positive levels, 7 negative ones and an exact zero.

    QLoRA's construction: with δ = ½·(1 − 1/(2·15) + 1 − 1/(2·16)) ≈ 0.9677, the positive levels
    are Φ⁻¹ of 8 evenly spaced probabilities from δ to ½ (½ excluded), the negative ones −Φ⁻¹ of 7,
    plus 0, all divided by Φ⁻¹(δ). We recompute it here (Φ from the erf series, Φ⁻¹ by bisection;
    the probabilities in float32, as \`torch.linspace\` makes them) and compare it with the
    reference's \`NF4_CODE\` table, copied from bitsandbytes.
    `,
  ),
  codeEach((t) => `
    /** erf by its Taylor series (accurate to float64 for |x| ≤ 3). */
    function erf(x: number): number {
      let term = x;
      let sum = x;
      for (let n = 1; n < 200; n++) {
        term *= (-x * x) / n;
        const next = term / (2 * n + 1);
        sum += next;
        if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    }
    const normalCdf = (z: number): number => 0.5 * (1 + erf(z / Math.SQRT2));
    function normalQuantile(p: number): number {
      let lo = -8;
      let hi = 8;
      for (let i = 0; i < 100; i++) {
        const mid = (lo + hi) / 2;
        if (normalCdf(mid) < p) lo = mid;
        else hi = mid;
      }
      return (lo + hi) / 2;
    }
    const delta = (1 - 1 / 30 + 1 - 1 / 32) / 2;
    const linspace = (a: number, b: number, n: number): number[] =>
      Array.from({ length: n }, (_, i) => Math.fround(a + ((b - a) * i) / (n - 1)));
    const positive = linspace(Math.fround(delta), 0.5, 9).slice(0, -1).map(normalQuantile);
    const negative = linspace(Math.fround(delta), 0.5, 8)
      .slice(0, -1)
      .map((p) => -normalQuantile(p));
    const topQuantile = normalQuantile(Math.fround(delta));
    const derived = [...negative, 0, ...positive].sort((a, b) => a - b).map((v) => v / topQuantile);
    const gap = Math.max(...derived.map((v, i) => Math.abs(v - NF4_CODE[i]!)));
    await say(
      \`δ = \${fixed(delta, 7)}; \` +
        \`${
    t(
      "diferencia máxima entre los niveles recalculados y \\`NF4_CODE\\`",
      "largest difference between the recomputed levels and \\`NF4_CODE\\`",
    )
  }: \${sci(gap, 1)}\`,
    );
    await show(scatterChart({
      locale: LANG,
      title: "${
    t(
      "Los 16 niveles de NF4 frente a los de int4 simétrico",
      "The 16 NF4 levels against symmetric int4's",
    )
  }",
      xLabel: "${t("código", "code")}",
      yLabel: "${t("nivel (× absmax)", "level (× absmax)")}",
      points: [
        ...NF4_CODE.map((y, i) => ({ x: i, y, group: "NF4" })),
        ...Array.from({ length: 15 }, (_, i) => ({
          x: i + 1,
          y: (i - 7) / 7,
          group: "int4 (q/7)",
        })),
      ],
    }));
  `),
  md(
    `
    Comparamos NF4, el FP4 de bitsandbytes (\`fp4-bnb\`) e int4 simétrico (escala absmax/7), los
    tres con una escala float32 por bloque de 64 pesos, es decir, 4 + 32/64 = 4,5 bits por peso.
    QLoRA añade la **doble cuantización**: los absmax se cuantizan a su vez a 8 bits, en grupos de
    256, con una media y un absmax float32 por grupo. El histograma muestra los pesos divididos
    por el absmax de su bloque: la forma de campana que los niveles de NF4 siguen.
    `,
    `
    We compare NF4, bitsandbytes' FP4 (\`fp4-bnb\`) and symmetric int4 (scale absmax/7), all three
    with one float32 scale per block of 64 weights, i.e. 4 + 32/64 = 4.5 bits per weight. QLoRA
    adds **double quantization**: the absmax values are themselves quantized to 8 bits, in groups
    of 256, with one mean and one float32 absmax per group. The histogram shows the weights divided
    by their block's absmax: the bell shape that the NF4 levels follow.
    `,
  ),
  codeEach((t) => `
    const nf4 = quantizeBitsandbytes(w, "nf4", { blockSize: 64, doubleQuant: true });
    const fp4bnb = quantizeBitsandbytes(w, "fp4-bnb", { blockSize: 64 });
    const int4 = quantize(matrix([64, 64], w), "int4", { granularity: "group", groupSize: 64 });
    const int4y = dequantize(int4.q, int4.scale, { granularity: "group", groupSize: 64 }).data;
    const blocks64 = w.length / 64;
    const dq = nf4.doubleQuant!;
    // Double quantization: 8 bits per block absmax, plus a float32 absmax per group of 256 absmax
    // values and one float32 mean (offset).
    const doubleBits = (w.length * 4 + blocks64 * 8 + dq.absmax.length * 32 + 32) / w.length;
    const nf4Rows: [string, number, number][] = [
      ["nf4", 4.5, sqnr(nf4.y)],
      ["${
    t("nf4 con doble cuantización", "nf4 with double quantization")
  }", doubleBits, sqnr(dq.y)],
      ["fp4-bnb", 4.5, sqnr(fp4bnb.y)],
      ["${t("int4, grupos de 64", "int4, groups of 64")}", 4 + 32 / 64, sqnr(int4y)],
    ];
    const family4 = "${t("4 bits por bloque", "4-bit blocks")}";
    for (const [format, bits, sqnrDb] of nf4Rows) {
      summary.push({ format, family: family4, bits, sqnrDb });
    }
    await table(
      ["${t("formato", "format")}", "${t("bits por peso", "bits per weight")}", "SQNR (dB)"],
      nf4Rows.map(([f, b, s]) => [f, fixed(b, 3), fixed(s, 2)]),
    );
    const normalized = w.map((v, i) => v / nf4.blocks[Math.floor(i / 64)]!.scale);
    await show(histogram({
      locale: LANG,
      values: normalized,
      bins: 40,
      domain: [-1, 1],
      title: "${
    t(
      "Pesos divididos por el absmax de su bloque de 64",
      "Weights divided by their 64-block's absmax",
    )
  }",
      xLabel: "w / absmax",
      yLabel: "${t("pesos", "weights")}",
    }));
    const nf4Gain = sqnr(nf4.y) - sqnr(int4y);
    await say(
      \`${
    t("Con los mismos bits, NF4 supera a int4 en", "With the same bits, NF4 beats int4 by")
  } \` +
        \`\${fixed(nf4Gain, 2)} dB \` +
        \`${
    t(
      "sobre estos pesos gaussianos; la doble cuantización baja el coste a",
      "on these Gaussian weights; double quantization brings the cost down to",
    )
  } \` +
        \`\${fixed(doubleBits, 3)} ${t("bits por peso", "bits per weight")}.\`,
    );
  `),

  // --------------------------------------------------------------------------------------- ggml
  md(
    `
    ## 4. Los bloques de ggml (llama.cpp)

    llama.cpp guarda los pesos en bloques de 32 con una escala float16 \`d\`. La referencia
    reproduce bit a bit \`quantize_row_*_ref\` de \`ggml-quants.c\`, incluidos sus pasos en float32:

    - **q8_0**: d = amax/127, códigos int8 (\`roundf\`: empates lejos de cero); 2 + 32 = 34 bytes.
    - **q4_0**: d = max/−8, donde max es el valor con signo de mayor magnitud; nibbles 0…15 con el
      8 como cero; 2 + 16 = 18 bytes.
    - **q4_1**: d = (max − min)/15 y un mínimo m, ambos float16; 2 + 2 + 16 = 20 bytes.

    Los bytes se cuentan a partir de los bloques que devuelve \`quantizeGgml\`.
    `,
    `
    ## 4. The ggml blocks (llama.cpp)

    llama.cpp stores weights in blocks of 32 with a float16 scale \`d\`. The reference reproduces
    \`quantize_row_*_ref\` of \`ggml-quants.c\` bit for bit, float32 steps included:

    - **q8_0**: d = amax/127, int8 codes (\`roundf\`: ties away from zero); 2 + 32 = 34 bytes.
    - **q4_0**: d = max/−8, where max is the signed value of largest magnitude; nibbles 0…15 with
      8 as zero; 2 + 16 = 18 bytes.
    - **q4_1**: d = (max − min)/15 and a minimum m, both float16; 2 + 2 + 16 = 20 bytes.

    The bytes are counted from the blocks that \`quantizeGgml\` returns.
    `,
  ),
  codeEach((t) => `
    const ggmlRows = (["q8_0", "q4_0", "q4_1"] as const).map((name) => {
      const { blocks, y } = quantizeGgml(w, name);
      const codeBits = name === "q8_0" ? 8 : 4;
      // float16 d (2 bytes), q4_1's float16 m (2 bytes), then the packed codes.
      const blockBytes = (b: (typeof blocks)[number]): number =>
        2 + (b.min === undefined ? 0 : 2) + (b.codes.length * codeBits) / 8;
      const bytes = blocks.reduce((sum, b) => sum + blockBytes(b), 0);
      const bits = (8 * bytes) / w.length;
      summary.push({ format: name, family: "ggml", bits, sqnrDb: sqnr(y) });
      return [
        name,
        bytes / blocks.length,
        fixed(bytes / w.length, 4),
        fixed(bits, 3),
        fixed(sqnr(y), 2),
      ];
    });
    await table(
      [
        "${t("formato", "format")}",
        "${t("bytes por bloque", "bytes per block")}",
        "${t("bytes por peso", "bytes per weight")}",
        "${t("bits por peso", "bits per weight")}",
        "SQNR (dB)",
      ],
      ggmlRows,
    );
  `),
  md(
    `
    q4_1 gasta medio bit más por peso que q4_0 en guardar el mínimo: su rejilla se ajusta a
    [min, max] del bloque en lugar de a un intervalo simétrico, y aprovecha mejor los 16 niveles.
    `,
    `
    q4_1 spends half a bit more per weight than q4_0 on storing the minimum: its grid fits the
    block's [min, max] instead of a symmetric interval, and uses the 16 levels better.
    `,
  ),

  // ------------------------------------------------------------------------------------ ternary
  md(
    `
    ## 5. BitNet b1.58: pesos ternarios

    BitNet b1.58 (Ma et al., 2024) entrena con pesos −1, 0 o +1 por una única escala γ por
    tensor: γ = media de |W| (*absmean*), q = clamp(redondeo(W/γ), −1, 1). Tres niveles contienen
    log₂ 3 ≈ 1,58 bits de información, de ahí el nombre. El umbral entre 0 y ±1 está en γ/2; para
    pesos gaussianos, γ ≈ σ·√(2/π), así que se esperan P(|Z| < √(2/π)/2) ≈ 31 % de ceros.
    `,
    `
    ## 5. BitNet b1.58: ternary weights

    BitNet b1.58 (Ma et al., 2024) trains with weights −1, 0 or +1 times a single scale γ per
    tensor: γ = mean of |W| (*absmean*), q = clamp(round(W/γ), −1, 1). Three levels hold log₂ 3 ≈
    1.58 bits of information, hence the name. The threshold between 0 and ±1 sits at γ/2; for
    Gaussian weights γ ≈ σ·√(2/π), so about P(|Z| < √(2/π)/2) ≈ 31 % zeros are expected.
    `,
  ),
  codeEach((t) => `
    const tern = ternary(matrix([64, 64], w));
    const levels = [-1, 0, 1].map((level) =>
      tern.q.data.filter((q) => q === level).length / w.length
    );
    const expectedZeros = 2 * normalCdf(Math.sqrt(2 / Math.PI) / 2) - 1;
    // 5 ternary digits fit in a byte (3⁵ = 243 ≤ 256): 1.6 bits; plus one float32 γ for the tensor.
    const ternaryBits = 8 / 5 + 32 / w.length;
    summary.push({
      format: "${t("ternario (b1.58)", "ternary (b1.58)")}",
      family: "${t("ternario", "ternary")}",
      bits: ternaryBits,
      sqnrDb: sqnr(tern.y.data),
    });
    await table(
      [
        "γ",
        "${t("−1", "−1")}",
        "0",
        "+1",
        "${t("ceros esperados", "expected zeros")}",
        "log₂ 3",
        "${t("bits por peso (5 por byte)", "bits per weight (5 per byte)")}",
        "SQNR (dB)",
      ],
      [[
        fixed(tern.scale, 5),
        pct(levels[0]!),
        pct(levels[1]!),
        pct(levels[2]!),
        pct(expectedZeros),
        fixed(Math.log2(3), 3),
        fixed(ternaryBits, 3),
        fixed(sqnr(tern.y.data), 2),
      ]],
    );
  `),
  md(
    `
    Una SQNR de unos 5 dB sería desastrosa para un modelo ya entrenado (ver el capítulo 4: el
    modelo de la demo cae mucho en ternario). BitNet funciona porque el modelo se **entrena** así
    desde el principio, no porque los pesos de un modelo en float se puedan redondear a tres niveles.

    ### Resumen: bits por peso y SQNR de cada formato

    Todos los formatos anteriores sobre los mismos pesos. En los formatos enteros, cada bit de más
    vale unos 6 dB; en los de coma flotante, lo que cuenta son los bits de mantisa, no los de
    exponente.
    `,
    `
    An SQNR of about 5 dB would be disastrous for an already trained model (see chapter 4: the
    demo's model drops a lot in ternary). BitNet works because the model is **trained** that way
    from the start, not because a float model's weights can be rounded to three levels.

    ### Summary: bits per weight and SQNR of every format

    Every format above, on the same weights. In the integer formats each extra bit is worth about
    6 dB; in the floating-point ones what counts is the mantissa bits, not the exponent bits.
    `,
  ),
  codeEach((t) => `
    const ordered = [...summary].sort((a, b) => b.bits - a.bits || b.sqnrDb - a.sqnrDb);
    await table(
      [
        "${t("formato", "format")}",
        "${t("bits por peso", "bits per weight")}",
        "SQNR (dB)",
        "${t("dB por bit", "dB per bit")}",
      ],
      ordered.map((s) => [
        s.format,
        fixed(s.bits, 3),
        fixed(s.sqnrDb, 1),
        fixed(s.sqnrDb / s.bits, 2),
      ]),
    );
    await show(barChart({
      locale: LANG,
      title: "${
    t("SQNR de los pesos gaussianos en cada formato", "SQNR of the Gaussian weights in each format")
  }",
      yLabel: "SQNR (dB)",
      valueFormat: ".1f",
      width: 760,
      bars: ordered.map((s) => ({ label: s.format, value: s.sqnrDb })),
    }));
    await show(barChart({
      locale: LANG,
      title: "${t("Bits por peso (con las escalas)", "Bits per weight (scales included)")}",
      yLabel: "${t("bits", "bits")}",
      valueFormat: ".2f",
      width: 760,
      bars: ordered.map((s) => ({ label: s.format, value: s.bits })),
    }));
    await show(scatterChart({
      locale: LANG,
      title: "${t("SQNR frente a bits por peso", "SQNR against bits per weight")}",
      xLabel: "${t("bits por peso", "bits per weight")}",
      yLabel: "SQNR (dB)",
      points: ordered.map((s) => ({ x: s.bits, y: s.sqnrDb, group: s.family })),
    }));
    const db = (format: string): number => summary.find((s) => s.format === format)!.sqnrDb;
    const perCodeBit = (db("q8_0") - db("q4_0")) / 4;
    const mantissaGap = db("float16") - db("bfloat16");
    await say(
      \`q8_0 ${t("frente a", "against")} q4_0: \${fixed(perCodeBit, 2)} \` +
        \`${t("dB por cada bit de código", "dB per code bit")}. \` +
        \`float16 ${t("frente a", "against")} bfloat16 \` +
        \`(${
    t(
      "los mismos 16 bits; 10 de mantisa frente a 7",
      "the same 16 bits; 10 mantissa bits against 7",
    )
  }): \` +
        \`\${fixed(mantissaGap, 1)} dB, ${t("es decir", "that is")} \` +
        \`\${fixed(mantissaGap / 3, 2)} ${t("dB por bit de mantisa", "dB per mantissa bit")}.\`,
    );
  `),

  // ---------------------------------------------------------------------------- mixed precision
  md(
    `
    ## 6. Precisión mixta: pesos maestros en float32, cálculo en 16 bits

    Entrenar en precisión mixta (Micikevicius et al., 2018) hace los productos de matrices en
    float16 o bfloat16, pero guarda una **copia maestra** de los pesos en float32. ¿Por qué? Una
    actualización pequeña se pierde al sumarla a un peso de 16 bits: cerca de 1, float16 tiene un
    espaciado de 2⁻¹⁰ ≈ 0,001 y bfloat16 de 2⁻⁷ ≈ 0,008. Aplicamos 1000 pasos de +10⁻⁴ a un peso 1,
    redondeando tras cada paso con \`roundToFormat\`:
    `,
    `
    ## 6. Mixed precision: float32 master weights, 16-bit compute

    Mixed-precision training (Micikevicius et al., 2018) runs the matrix products in float16 or
    bfloat16 but keeps a **master copy** of the weights in float32. Why? A small update is lost
    when added to a 16-bit weight: near 1, float16 has a spacing of 2⁻¹⁰ ≈ 0.001 and bfloat16 of
    2⁻⁷ ≈ 0.008. We apply 1000 steps of +10⁻⁴ to a weight of 1, rounding after every step with
    \`roundToFormat\`:
    `,
  ),
  codeEach((t) => `
    const updateRows = (["float32", "bfloat16", "float16"] as const).map((name) => {
      let weight = 1;
      for (let step = 0; step < 1000; step++) weight = roundToFormat(weight + 1e-4, name);
      return [name, fixed(weight, 6), fixed(1 + 1000 * 1e-4, 6)];
    });
    await table(
      [
        "${t("formato del peso", "weight format")}",
        "${t("peso tras 1000 pasos", "weight after 1000 steps")}",
        "${t("valor exacto", "exact value")}",
      ],
      updateRows,
    );
  `),
  md(
    `
    El segundo problema son los **gradientes pequeños**. El menor subnormal de float16 es 2⁻²⁴ ≈
    6·10⁻⁸: un gradiente por debajo de 2⁻²⁵ se convierte en 0, y entre 2⁻²⁴ y 2⁻¹⁴ pierde dígitos.
    bfloat16 tiene el rango de float32 y no sufre esto (pierde precisión, no rango). La solución
    de float16 es el ***loss scaling***: multiplicar la pérdida (y por tanto todos los gradientes)
    por 2^k antes de la pasada hacia atrás, y dividir por 2^k en float32 antes de actualizar. Al
    ser potencia de dos, escalar y desescalar es exacto.
    `,
    `
    The second problem is **small gradients**. float16's smallest subnormal is 2⁻²⁴ ≈ 6·10⁻⁸: a
    gradient below 2⁻²⁵ becomes 0, and between 2⁻²⁴ and 2⁻¹⁴ it loses digits. bfloat16 has
    float32's range and does not suffer from this (it loses precision, not range). float16's fix is
    **loss scaling**: multiply the loss (and so every gradient) by 2^k before the backward pass, and
    divide by 2^k in float32 before the update. Being a power of two, scaling and unscaling are
    exact.
    `,
  ),
  codeEach((t) => `
    const small = [1e-3, 1e-5, 1e-6, 1e-7, 5e-8, 2e-8, 1e-9];
    const k = 16;
    const relative = (x: number, y: number): string => pct(Math.abs(y - x) / x, 2);
    await table(
      [
        "${t("gradiente", "gradient")}",
        "float16",
        "${t("error relativo", "relative error")}",
        "bfloat16",
        \`float16 ${t("con", "with")} 2^\${k}, ${t("desescalado", "unscaled")}\`,
        "${t("error relativo", "relative error")}",
      ],
      small.map((g) => {
        const half = roundToFormat(g, "float16");
        const scaled = roundToFormat(g * 2 ** k, "float16") / 2 ** k;
        return [
          sci(g, 0),
          sci(half, 3),
          relative(g, half),
          sci(roundToFormat(g, "bfloat16"), 3),
          sci(scaled, 3),
          relative(g, scaled),
        ];
      }),
    );
  `),
  md(
    `
    ¿Qué k elegir? Demasiado pequeño y los gradientes se anulan; demasiado grande y los mayores
    desbordan a ∞ en float16 (su máximo es 65504), y el paso se descarta. Simulamos gradientes con
    magnitudes log-normales (10^N(−6, 1,5²), un rango típico) y, para cada k, contamos con \`cast\`
    qué fracción se anula y cuál desborda. Es lo que hace el *loss scaling* dinámico: sube k mientras
    no haya desbordamientos y lo baja cuando aparecen.
    `,
    `
    Which k to choose? Too small and the gradients vanish; too large and the biggest ones overflow
    to ∞ in float16 (its maximum is 65504), and the step is skipped. We simulate gradients with
    log-normal magnitudes (10^N(−6, 1.5²), a typical spread) and, for each k, count with \`cast\`
    which fraction vanishes and which overflows. This is what dynamic loss scaling does: raise k
    while there is no overflow and lower it when one appears.
    `,
  ),
  codeEach((t) => `
    const exponents = gaussian(20000, 7, 1.5); // log10 of the gradient magnitudes
    const grads = exponents.map((e, i) => (i % 2 === 0 ? 1 : -1) * 10 ** (e - 6));
    const ks = Array.from({ length: 33 }, (_, i) => i);
    const lost = ks.map((kk) => {
      const y = cast(grads.map((g) => g * 2 ** kk), "float16");
      return {
        k: kk,
        zero: y.filter((v) => v === 0).length / y.length,
        inf: y.filter((v) => !Number.isFinite(v)).length / y.length,
      };
    });
    await show(lineChart({
      locale: LANG,
      title: "${
    t(
      "Gradientes perdidos en float16 según el factor 2^k",
      "Gradients lost in float16 by the factor 2^k",
    )
  }",
      xLabel: "k",
      yLabel: "${t("fracción de gradientes", "fraction of gradients")}",
      markers: true,
      series: [
        {
          name: "${t("anulados (→ 0)", "vanished (→ 0)")}",
          points: lost.map((l) => [l.k, l.zero] as const),
        },
        {
          name: "${t("desbordados (→ ∞)", "overflowed (→ ∞)")}",
          points: lost.map((l) => [l.k, l.inf] as const),
        },
      ],
    }));
    const best = lost.filter((l) => l.inf === 0).at(-1)!; // the largest k without overflow
    const bf16Zero = cast(grads, "bfloat16").filter((v) => v === 0).length / grads.length;
    const bf16Lost = pct(bf16Zero, 2);
    await say(
      \`${t("Sin escalar (k = 0) se anula el", "Unscaled (k = 0),")} \${pct(lost[0]!.zero)} \` +
        \`${t("de los gradientes", "of the gradients vanish")}; \` +
        \`${
    t("el mayor k sin desbordamientos es", "the largest k without overflow is")
  } \${best.k}, \` +
        \`${t("y con él se anula el", "and with it")} \${pct(best.zero, 2)}${t("", " vanish")}. \` +
        \`${t("En bfloat16, sin escala", "In bfloat16, unscaled")}: \${bf16Lost}.\`,
    );
  `),

  // -------------------------------------------------------------------------------------- QLoRA
  md(
    `
    ## 7. QLoRA: LoRA sobre una base congelada en NF4

    QLoRA guarda los pesos congelados en NF4 (con doble cuantización) y entrena encima un
    adaptador LoRA en bfloat16; en la pasada hacia delante, cada bloque se descuantiza a bfloat16
    justo antes de multiplicar. Contamos la memoria de los **pesos** de las proyecciones lineales
    de LLaMA-7B (\`LLAMA_7B_SHAPES\`: q, k, v, o y las tres del MLP en sus 32 capas) con
    \`countParameters\` y \`memoryBytes\`: la base completa en float16, frente a la base en NF4
    más el adaptador. NF4 con doble cuantización cuesta 4 bits por código, 8/64 por el absmax
    cuantizado de cada bloque de 64 y 32/(64·256) por el absmax float32 de cada grupo de 256
    bloques (la sección 3 da algo más porque sus 4096 pesos no llenan un grupo).
    `,
    `
    ## 7. QLoRA: LoRA on a frozen NF4 base

    QLoRA stores the frozen weights in NF4 (with double quantization) and trains a bfloat16 LoRA
    adapter on top; in the forward pass each block is dequantized to bfloat16 right before the
    product. We count the memory of the **weights** of LLaMA-7B's linear projections
    (\`LLAMA_7B_SHAPES\`: q, k, v, o and the three MLP ones in its 32 layers) with
    \`countParameters\` and \`memoryBytes\`: the whole base in float16, against the base in NF4 plus
    the adapter. NF4 with double quantization costs 4 bits per code, 8/64 for each 64-block's
    quantized absmax and 32/(64·256) for the float32 absmax of each group of 256 blocks (section 3
    gives a little more because its 4096 weights do not fill a group).
    `,
  ),
  codeEach((t) => `
    const GB = 1e9;
    // codes + 8-bit absmax + float32 per 256 blocks
    const nf4BitsPerWeight = 4 + 8 / 64 + 32 / (64 * 256);
    const qloraRows = [8, 16, 64].map((rank) => {
      const { full, lora } = countParameters(LLAMA_7B_SHAPES, rank);
      const base16 = Number(memoryBytes(full, "float16"));
      const baseNf4 = (Number(full) * nf4BitsPerWeight) / 8;
      const adapter = Number(memoryBytes(lora, "bfloat16"));
      return { rank, full, lora, base16, baseNf4, adapter };
    });
    await table(
      [
        "r",
        "${t("pesos de la base", "base weights")}",
        "${t("parámetros LoRA", "LoRA parameters")}",
        "${t("base float16 (GB)", "float16 base (GB)")}",
        "${t("base NF4 + adaptador bf16 (GB)", "NF4 base + bf16 adapter (GB)")}",
        "${t("ahorro", "saving")}",
      ],
      qloraRows.map((q) => [
        q.rank,
        Number(q.full).toLocaleString(LOCALE),
        Number(q.lora).toLocaleString(LOCALE),
        fixed(q.base16 / GB, 2),
        fixed((q.baseNf4 + q.adapter) / GB, 2),
        \`\${fixed(q.base16 / (q.baseNf4 + q.adapter), 2)}×\`,
      ]),
    );
    await show(barChart({
      locale: LANG,
      title: "${
    t(
      "Memoria de los pesos de LLaMA-7B (proyecciones lineales)",
      "Memory of LLaMA-7B's weights (linear projections)",
    )
  }",
      yLabel: "GB",
      valueFormat: ".2f",
      bars: [
        {
          label: "float16",
          value: qloraRows[0]!.base16 / GB,
          group: "${t("ajuste completo", "full fine-tuning")}",
        },
        ...qloraRows.map((q) => ({
          label: \`NF4 + LoRA r=\${q.rank}\`,
          value: (q.baseNf4 + q.adapter) / GB,
          group: "QLoRA",
        })),
      ],
    }));
  `),
  md(
    `
    Son solo los pesos. El ajuste completo necesita además, para cada peso, el gradiente y los dos
    momentos de Adam (y en precisión mixta la copia maestra en float32): unos 16 bytes por
    parámetro. Con QLoRA, esos estados existen solo para los parámetros del adaptador. La base
    congelada no se puede fusionar con el adaptador sin volver a cuantizarla. Cuando la demo incluye
    QLoRA (LoRA sobre una base NF4 e int4), el capítulo 4 muestra su precisión.
    `,
    `
    These are the weights only. Full fine-tuning also needs, for every weight, the gradient and
    Adam's two moments (and in mixed precision the float32 master copy): about 16 bytes per
    parameter. With QLoRA those states exist only for the adapter's parameters. The frozen base
    cannot be merged with the adapter without quantizing it again. When the demo includes QLoRA
    (LoRA on an NF4 and an int4 base), chapter 4 shows its accuracy.
    `,
  ),
  codeEach((t) => `
    // float16 weight and gradient, float32 master, m, v
    const adamBytesPerParameter = 2 + 2 + 4 + 4 + 4;
    const fullTraining = Number(qloraRows[0]!.full) * adamBytesPerParameter;
    const r16 = qloraRows[1]!;
    // Adapter: bf16 weight and gradient, float32 master, m and v, as above; base: NF4 only.
    const qloraTraining = r16.baseNf4 + Number(r16.lora) * adamBytesPerParameter;
    await say(
      \`${
    t(
      "Entrenamiento (pesos + gradientes + estado de Adam, sin activaciones)",
      "Training (weights + gradients + Adam state, no activations)",
    )
  }: \` +
        \`${t("ajuste completo", "full fine-tuning")} \${fixed(fullTraining / GB, 1)} GB, \` +
        \`QLoRA r = 16: \${fixed(qloraTraining / GB, 1)} GB \` +
        \`(\${fixed(fullTraining / qloraTraining, 1)}× ${t("menos", "less")}).\`,
    );
  `),

  // ---------------------------------------------------------------------------------------- GPU
  md(
    `
    ## 8. Cómo se demuestra que los kernels de GPU son correctos

    \`@loraquant/gpu\` ejecuta estas operaciones como kernels WebGPU, y cada kernel se compara con
    la referencia de dos maneras (docs/gpu.md):

    - **Bit a bit** cuando la operación es exacta: conversiones de formato, cuantización entera,
      productos int8 con acumulador int32. El kernel de conversión float32 → formato estrecho no
      usa ninguna operación en coma flotante: desmonta el patrón de bits, redondea el significando
      entero al par más cercano y monta el patrón nuevo (ecuaciones (C1)–(C4) de docs/gpu.md). Los
      tests lo comparan con \`encode(roundToFormat(x, formato))\` en todos los exponentes, en todos
      los empates y en patrones aleatorios.
    - **Con una cota de error demostrada** cuando suma en float32 (el orden de la suma depende del
      kernel). Para un producto con k términos, cada término pasa por k redondeos como mucho, y con
      u = 2⁻²⁴ y γ_k = k·u/(1 − k·u) (Higham, lema 3.1):

      |ĉ_ij − c_ij| ≤ γ_k · Σ_p |a_ip|·|b_pj|     (M2)

    Este es el código WGSL del kernel de conversión, importado de \`@loraquant/gpu/cast\` (solo el
    texto: aquí no se ejecuta en ninguna GPU). Debajo, una transcripción línea a línea en
    TypeScript, que comparamos bit a bit con la referencia en los puntos medios entre valores
    consecutivos de cada formato (los empates: todos en fp8, uno de cada ocho en los formatos de 16
    bits), sus vecinos, y 65 536 patrones float32 repartidos por todo el espacio (NaN e infinitos
    incluidos).
    `,
    `
    ## 8. How the GPU kernels are proven correct

    \`@loraquant/gpu\` runs these operations as WebGPU kernels, and every kernel is compared with
    the reference in one of two ways (docs/gpu.md):

    - **Bit for bit** where the operation is exact: format conversions, integer quantization, int8
      products with an int32 accumulator. The float32 → narrow-format conversion kernel uses no
      floating-point operation at all: it takes the bit pattern apart, rounds the integer
      significand to nearest even and assembles the new pattern (equations (C1)–(C4) of
      docs/gpu.md). The tests compare it with \`encode(roundToFormat(x, format))\` on every
      exponent, every tie and random patterns.
    - **Within a proven error bound** where it sums in float32 (the order of the sum depends on the
      kernel). For a product of k terms, each term goes through at most k roundings, and with u =
      2⁻²⁴ and γ_k = k·u/(1 − k·u) (Higham, Lemma 3.1):

      |ĉ_ij − c_ij| ≤ γ_k · Σ_p |a_ip|·|b_pj|     (M2)

    This is the WGSL code of the conversion kernel, imported from \`@loraquant/gpu/cast\` (the text
    only: it runs on no GPU here). Below it, a line-by-line TypeScript transcription, which we
    compare bit for bit with the reference at the midpoints between consecutive values of each
    format (the ties: all of them in fp8, one in eight in the 16-bit formats), their neighbours,
    and 65,536 float32 patterns spread over the whole space (NaN and infinities included).
    `,
  ),
  code(`
    import { CAST_ENCODE_WGSL, CAST_FORMAT_CONSTANTS, GPU_FLOAT_FORMATS } from "@loraquant/gpu/cast";
    const wgsl = CAST_ENCODE_WGSL.slice(
      CAST_ENCODE_WGSL.indexOf("fn beyondMax"),
      CAST_ENCODE_WGSL.indexOf("@compute"),
    );
    await say("\`\`\`wgsl\\n" + wgsl.trim() + "\\n\`\`\`");
  `),
  codeEach((t) => `
    type Constants = (typeof CAST_FORMAT_CONSTANTS)[keyof typeof CAST_FORMAT_CONSTANTS];
    /** The WGSL \`encode\` above, statement by statement, on u32 values (JavaScript's >>> 0). */
    function kernelEncode(bits: number, c: Constants, saturate: boolean): number {
      const signShift = c.bits - 1;
      const sign = ((bits >>> 31) << signShift) >>> 0;
      const beyondMax = (): number => {
        if (saturate) return (sign | c.maxPattern) >>> 0;
        return c.infinityPattern === 0 ? c.nanPattern : (sign | c.infinityPattern) >>> 0;
      };
      const a = (bits & 0x7fffffff) >>> 0;
      if (a > 0x7f800000) return c.nanPattern;
      if (a === 0x7f800000) return beyondMax();
      const field = a >>> 23;
      const ef = Math.max(field, 1);
      let m = a & 0x7fffff;
      if (field !== 0) m = (m | 0x800000) >>> 0;
      const et = Math.max(ef - 127, c.emin);
      const s = Math.min(et - c.mantissaBits - (ef - 150), 25);
      const kept = m >>> s;
      const rest = m & ((1 << s) - 1);
      const half = 1 << (s - 1);
      let q = kept;
      if (rest > half || (rest === half && (kept & 1) === 1)) q = kept + 1;
      const pattern = (et - c.emin) * 2 ** c.mantissaBits + q;
      if (pattern > c.maxPattern) return beyondMax();
      return (sign | pattern) >>> 0;
    }
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    const floatOfBits = (bits: number): number => ((u32[0] = bits), f32[0]!);
    const bitsOf = (x: number): number => ((f32[0] = x), u32[0]!);

    const checkRows: (string | number)[][] = [];
    for (const name of GPU_FLOAT_FORMATS) {
      const c = CAST_FORMAT_CONSTANTS[name];
      const inputs: number[] = [];
      for (let i = 0; i < 65536; i++) inputs.push((i * 65537 + 12345) >>> 0); // spread over all 2^32
      // Every midpoint between consecutive positive values of the format (they are float32
      // values), one float32 ulp below and above it, and the same negated.
      const stride = Math.ceil(c.maxPattern / 4096); // fp8: every midpoint; 16-bit: one in eight
      for (let p = 0; p < c.maxPattern; p += stride) {
        const mid = (decode(p, name) + decode(p + 1, name)) / 2;
        const b = bitsOf(mid);
        for (const d of [-1, 0, 1]) inputs.push(b + d, (b + d + 0x80000000) >>> 0);
      }
      let mismatches = 0;
      for (const saturate of [false, true]) {
        for (const bits of inputs) {
          const expected = encode(roundToFormat(floatOfBits(bits), name, { saturate }), name);
          if (kernelEncode(bits, c, saturate) !== expected) mismatches++;
        }
      }
      checkRows.push([name, (2 * inputs.length).toLocaleString(LOCALE), mismatches]);
    }
    await table(
      [
        "${t("formato", "format")}",
        "${t("casos (× saturación)", "cases (× saturation)")}",
        "${t("diferencias con la referencia", "differences from the reference")}",
      ],
      checkRows,
    );
  `),
  md(
    `
    El test de \`packages/gpu\` hace lo mismo con el kernel de verdad, en la GPU, y con todos los
    empates de todos los exponentes.

    Ahora la cota (M2). Tomamos A (8 × 512) y B (512 × 8) con valores i/2¹¹, i entero en
    [−2048, 2048]: son valores float32, sus productos son múltiplos de 2⁻²² y cualquier suma parcial
    cabe holgadamente en los 53 bits de float64, así que el producto **exacto** se calcula sin
    error con enteros. El producto con acumulador float32 lo calcula \`matmul\` de la referencia
    (un redondeo por paso, como un FMA: uno de los órdenes que la cota cubre). Hacemos lo mismo con
    acumulador float16 y u = 2⁻¹¹.
    `,
    `
    The test in \`packages/gpu\` does the same with the real kernel, on the GPU, and with every tie
    of every exponent.

    Now the bound (M2). We take A (8 × 512) and B (512 × 8) with values i/2¹¹, i an integer in
    [−2048, 2048]: they are float32 values, their products are multiples of 2⁻²² and every partial
    sum fits easily in float64's 53 bits, so the **exact** product is computed without error from
    integers. The product with a float32 accumulator is computed by the reference's \`matmul\` (one
    rounding per step, like an FMA: one of the orders the bound covers). We do the same with a
    float16 accumulator and u = 2⁻¹¹.
    `,
  ),
  codeEach((t) => `
    const [m, kDim, n] = [8, 512, 8];
    const rng = new SplitMix64(99);
    const randomInts = (count: number): number[] =>
      Array.from({ length: count }, () => Math.floor(rng.nextUniform() * 4097) - 2048);
    const ai = randomInts(m * kDim); // (m, k) row-major, integers
    const bi = randomInts(kDim * n); // (k, n) row-major, integers
    const a = matrix([m, kDim], ai.map((v) => v / 2 ** 11));
    const b = matrix([kDim, n], bi.map((v) => v / 2 ** 11));
    /** γ_k = k·u / (1 − k·u). */
    const gamma = (count: number, u: number): number => (count * u) / (1 - count * u);

    const exact: number[] = [];
    const magnitude: number[] = []; // Σ_p |a_ip|·|b_pj|
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0; // an integer below 2^33: exact in float64
        let abs = 0;
        for (let p = 0; p < kDim; p++) {
          sum += ai[i * kDim + p]! * bi[p * n + j]!;
          abs += Math.abs(ai[i * kDim + p]! * bi[p * n + j]!);
        }
        exact.push(sum / 2 ** 22);
        magnitude.push(abs / 2 ** 22);
      }
    }
    const accumulators = [["float32", 2 ** -24], ["float16", 2 ** -11]] as const;
    const boundRows = accumulators.map(([accumulate, u]) => {
      const y = matmul(a, b, { dtype: "float32", accumulate }).y.data;
      const errors = exact.map((c, idx) => Math.abs(y[idx]! - c));
      const ratios = errors.map((e, idx) => e / (gamma(kDim, u) * magnitude[idx]!));
      return {
        accumulate,
        u,
        worst: Math.max(...errors),
        bound: gamma(kDim, u) * Math.max(...magnitude),
        ratio: Math.max(...ratios),
        within: ratios.every((r) => r <= 1),
        ratios,
      };
    });
    await table(
      [
        "${t("acumulador", "accumulator")}",
        "u",
        "γ_k (k = 512)",
        "${t("máx |ĉ − c|", "max |ĉ − c|")}",
        "${t("máx γ_k·Σ|a||b|", "max γ_k·Σ|a||b|")}",
        "${t("máx error / cota", "max error / bound")}",
        "${t("todos dentro", "all within")}",
      ],
      boundRows.map((r) => [
        r.accumulate,
        \`2^\${Math.log2(r.u)}\`,
        sci(gamma(kDim, r.u), 2),
        sci(r.worst, 2),
        sci(r.bound, 2),
        fixed(r.ratio, 4),
        r.within ? "${t("sí", "yes")}" : "no",
      ]),
    );
    await show(histogram({
      locale: LANG,
      values: boundRows[0]!.ratios,
      bins: 20,
      title: "${
    t(
      "Error / cota de cada elemento (acumulador float32)",
      "Error / bound of each element (float32 accumulator)",
    )
  }",
      xLabel: "|ĉ − c| / (γ_k·Σ|a||b|)",
      yLabel: "${t("elementos", "elements")}",
    }));
  `),
  md(
    `
    La cota es de **peor caso**: los errores reales quedan muy por debajo (los redondeos se
    compensan en parte, y crecen más bien como √k·u que como k·u). Aun así es la herramienta
    correcta para un test: no depende del orden de la suma, así que vale para cualquier kernel
    (por teselas, en árbol, con o sin FMA), y un kernel que se sale de ella tiene un error, no mala
    suerte. En la práctica, los tests de \`packages/gpu\` comparan con la suma en float64 de la
    referencia y amplían la cota con su propio error:
    |ĉ − c̃| ≤ (γ_k(2⁻²⁴) + γ_k(2⁻⁵³))·Σ|a||b|·(1 + 2⁻⁴⁰) + 2k·2⁻¹²⁶ (el último término cubre los
    subnormales, por si la GPU los lleva a cero).

    ## Para recordar

    - fp8 e4m3 para pesos y activaciones, e5m2 para gradientes; siempre con una escala.
    - Las escalas por bloque (MX, NF4, ggml) cuestan menos de un bit por peso y adaptan la rejilla
      a los valores de cada zona del tensor.
    - NF4 usa los mismos 4 bits que int4 mejor, porque sus niveles siguen la distribución de los
      pesos.
    - En precisión mixta, los pesos maestros en float32 evitan perder las actualizaciones pequeñas,
      y el *loss scaling* evita perder los gradientes pequeños en float16.
    - Un kernel rápido se acepta cuando coincide bit a bit con la referencia (operaciones exactas)
      o queda dentro de una cota demostrada (sumas en coma flotante).
    `,
    `
    The bound is a **worst case**: the real errors stay far below it (roundings partly cancel, and
    grow more like √k·u than k·u). Still, it is the right tool for a test: it does not depend on the
    order of the sum, so it holds for any kernel (tiled, tree-shaped, with or without FMA), and a
    kernel that exceeds it has a bug, not bad luck. In practice the tests in \`packages/gpu\`
    compare with the reference's float64 sum and widen the bound by that sum's own error:
    |ĉ − c̃| ≤ (γ_k(2⁻²⁴) + γ_k(2⁻⁵³))·Σ|a||b|·(1 + 2⁻⁴⁰) + 2k·2⁻¹²⁶ (the last term covers
    subnormals, in case the GPU flushes them to zero).

    ## To remember

    - fp8 e4m3 for weights and activations, e5m2 for gradients; always with a scale.
    - Per-block scales (MX, NF4, ggml) cost less than one bit per weight and fit the grid to the
      values of each region of the tensor.
    - NF4 uses the same 4 bits as int4 better, because its levels follow the weights' distribution.
    - In mixed precision, float32 master weights keep small updates from being lost, and loss
      scaling keeps small gradients from vanishing in float16.
    - A fast kernel is accepted when it matches the reference bit for bit (exact operations) or
      stays within a proven bound (floating-point sums).
    `,
  ),
];

/** Chapter 3: what large models use beyond the lecture, every number computed by the reference. */
export const chapter: Chapter = {
  slug: "03-beyond",
  number: 3,
  title: { es: "Más allá de la clase", en: "Beyond the lecture" },
  cells,
};
