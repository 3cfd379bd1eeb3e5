// Chapter 4, "The demo's results": reads out/demo/results.json (written by `deno task demo`) and
// shows it with tables, charts and sentences computed from the numbers. Every field is read
// defensively: the demo is evolving, and a missing file or section shows a message instead of
// failing.
//
// In the cell sources below, `${…}` is filled in here (the language's text), `\${…}` is a
// template literal of the notebook's own code.
import { type Cell, type Chapter, md } from "./_cell.ts";
import { codeEach, displayHelpers } from "../_notebook.ts";

const cells: Cell[] = [
  md(
    `
    \`deno task demo\` hace en un par de minutos, con dígitos manuscritos reales (MNIST), lo que
    cuenta la clase: entrena un clasificador de dígitos (576 → 128 → 10), lo adapta a dos tareas nuevas con
    ajuste completo y con LoRA de rango 1 a 16, mide el espectro del cambio ΔW, fusiona el
    adaptador y guarda el modelo fusionado en diez formatos numéricos. Escribe todos los números en
    \`out/demo/results.json\` (el formato está en \`docs/demo.md\` y \`demo/results.ts\`).

    Este cuaderno lee ese archivo y lo interpreta: cada frase con números se calcula a partir de
    los resultados, así que vale para cualquier ejecución (\`--quick\`, otra semilla, con o sin
    GPU). Si el archivo no existe, la primera celda de código explica cómo generarlo.
    `,
    `
    \`deno task demo\` does in a couple of minutes, on real handwritten digits (MNIST), what the
    lecture tells: it trains a digit classifier (576 → 128 → 10), adapts it to two new tasks by full
    fine-tuning and by LoRA of rank 1 to 16, measures the spectrum of the change ΔW, merges the
    adapter and stores the merged model in ten number formats. It writes every number to
    \`out/demo/results.json\` (the format is in \`docs/demo.md\` and \`demo/results.ts\`).

    This notebook reads that file and interprets it: every sentence with numbers is computed from
    the results, so it holds for any run (\`--quick\`, another seed, with or without a GPU). If the
    file does not exist, the first code cell explains how to produce it.
    `,
  ),
  codeEach((t) => `
    import { barChart, lineChart, scatterChart } from "@loraquant/notebook";

    ${displayHelpers(t, "    ")}

    const LOCALE = "${t("es-ES", "en-US")}";
    const int = (x: number): string => Math.round(x).toLocaleString(LOCALE);
    /** A difference of accuracies (fractions) in percentage points, with its sign. */
    const points = (x: number): string => \`\${x > 0 ? "+" : ""}\${fixed(100 * x, 1)}\`;
    // The demo writes its descriptions in English; known ones are translated here.
    const TEXT: Record<string, string> = ${
    t(
      `{
      "swapped-labels": "las etiquetas de los pares 0↔1, 2↔3, 4↔5 y 6↔7 intercambiadas " +
        "(el ΔW₂ ideal, (P − I)·W₂, tiene rango 4)",
      "rotated-90": "las imágenes giradas 90° " +
        "(una permutación de los píxeles: ΔW₁ = W₁·(Pᵀ − I), de rango alto)",
      "float32": "la referencia",
      "float16": "cast, al más cercano (empates a par)",
      "bfloat16": "cast, al más cercano (empates a par)",
      "fp8-e4m3": "cast, al más cercano (empates a par)",
      "int8": "por canal, simétrico; activaciones int8 por fila; acumulación int32",
      "int4": "por grupos de 32, simétrico, escalas float32",
      "nf4": "bitsandbytes, bloques de 64, absmax float32",
      "q4_0": "ggml, bloques de 32: 16 bytes de nibbles + escala float16",
      "mxfp4": "OCP MX, bloques de 32: elementos fp4-e2m1 + un byte de escala E8M0",
      "ternary": "absmean por tensor, 2 bits por peso + γ float32",
      "reference": "referencia",
    }`,
      "{}",
    )
  };
    /** A description from the results, in the notebook's language when known. */
    const describe = (key: string, given: unknown): string =>
      TEXT[key] ?? (typeof given === "string" ? given : "");

    // results.json is read as plain JSON and every field is checked before use: the demo is
    // evolving, and a section it does not write yet is skipped with a message.
    // deno-lint-ignore no-explicit-any
    type Json = any;
    const isNumber = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
    const list = (x: unknown): Json[] => (Array.isArray(x) ? x : []);

    /**
     * The repository root: the nearest directory at or above \`start\` whose deno.json has
     * "workspace".
     */
    function findRoot(start: string): string | null {
      let dir = start;
      while (true) {
        try {
          const config = JSON.parse(Deno.readTextFileSync(\`\${dir}/deno.json\`));
          if (config !== null && typeof config === "object" && "workspace" in config) return dir;
        } catch { /* no deno.json here, or not JSON: keep walking up */ }
        const parent = dir.slice(0, dir.lastIndexOf("/")) || "/";
        if (parent === dir) return null;
        dir = parent;
      }
    }

    // LORAQUANT_DEMO_RESULTS points to another results.json (e.g. one written with --out DIR).
    const root = findRoot(Deno.cwd());
    const resultsPath = Deno.env.get("LORAQUANT_DEMO_RESULTS") ??
      (root === null ? null : \`\${root}/out/demo/results.json\`);
    let results: Json | null = null;
    let problem = "";
    if (resultsPath === null) {
      problem = \`${
    t(
      "no encuentro la raíz del repositorio (un deno.json con \\`workspace\\`) desde",
      "cannot find the repository root (a deno.json with \\`workspace\\`) from",
    )
  } \` +
        \`\\\`\${Deno.cwd()}\\\`\`;
    } else {
      try {
        const parsed = JSON.parse(await Deno.readTextFile(resultsPath));
        if (parsed !== null && typeof parsed === "object") results = parsed;
        else {
          problem = \`\\\`\${resultsPath}\\\` ${
    t("no contiene un objeto JSON", "does not hold a JSON object")
  }\`;
        }
      } catch (error) {
        problem = error instanceof Deno.errors.NotFound
          ? \`${t("no existe", "there is no")} \\\`\${resultsPath}\\\`\`
          : \`${
    t("no puedo leer", "cannot read")
  } \\\`\${resultsPath}\\\`: \${(error as Error).message}\`;
      }
    }
    /** What every later cell shows when there are no results. */
    const missing = () =>
      say("_${
    t(
      "Sin resultados de la demo: ver la primera celda de código.",
      "No demo results: see the first code cell.",
    )
  }_");

    // notebooks:run (and so CI) sets LORAQUANT_REQUIRE_DEMO_RESULTS=1 after making sure the demo
    // ran: there, missing or unreadable results are a failure, not a notice.
    if (results === null && Deno.env.get("LORAQUANT_REQUIRE_DEMO_RESULTS") === "1") {
      throw new Error(\`LORAQUANT_REQUIRE_DEMO_RESULTS=1: \${problem}\`);
    }
    if (results === null) {
      await say(
        \`**${t("No hay resultados de la demo", "No demo results")}**: \${problem}.\\n\\n\` +
          "${
    t(
      "Para generarlos, desde la raíz del repositorio:",
      "To produce them, from the repository root:",
    )
  }\\n\\n" +
          "\`\`\`sh\\n" +
          "deno task demo --quick   # ${t("menos de un minuto", "under a minute")}\\n" +
          "deno task demo           # ${
    t("la versión completa, unos dos minutos", "the full run, about two minutes")
  }\\n" +
          "\`\`\`\\n\\n" +
          "${
    t(
      "y vuelve a ejecutar este cuaderno. Las demás celdas solo mostrarán un aviso.",
      "and run this notebook again. The other cells will only show a notice.",
    )
  }",
      );
    } else {
      await say(\`${t("Resultados leídos de", "Results read from")} \\\`\${resultsPath}\\\`.\`);
    }
  `),

  // ----------------------------------------------------------------------------- run and base
  md(
    `
    ## 1. La ejecución y el modelo base

    Dónde se ejecutó (con la GPU, vía WebGPU, o solo con la referencia en float64), con qué datos,
    y la precisión del modelo base en los dígitos sin modificar.
    `,
    `
    ## 1. The run and the base model

    Where it ran (on the GPU, through WebGPU, or on the float64 reference only), on which data, and
    the base model's accuracy on the unmodified digits.
    `,
  ),
  codeEach((t) => `
    if (results === null) await missing();
    else {
      const r = results;
      const adapter = typeof r.adapter === "string" ? \` (\${r.adapter})\` : "";
      const device = r.device === "gpu"
        ? \`GPU\${adapter}\`
        : r.device === "reference"
        ? "${t("referencia (float64, CPU)", "reference (float64, CPU)")}"
        : String(r.device ?? "?");
      const rows: (string | number)[][] = [["${t("dispositivo", "device")}", device]];
      if (isNumber(r.seed)) rows.push(["${t("semilla", "seed")}", r.seed]);
      if (typeof r.quick === "boolean") rows.push(["--quick", r.quick ? "${
    t("sí", "yes")
  }" : "no"]);
      const data = r.data;
      if (data && typeof data === "object") {
        if (typeof data.source === "string") rows.push(["${t("datos", "data")}", data.source]);
        if (isNumber(data.trainSize)) {
          const sizes = \`\${int(data.trainSize)} / \${int(data.testSize)}\`;
          rows.push(["${t("entrenamiento / prueba", "train / test")}", sizes]);
        }
        if (isNumber(data.pixels)) {
          rows.push(["${t("píxeles por imagen", "pixels per image")}", data.pixels]);
        }
      }
      const base = r.base;
      if (base && isNumber(base.accuracy)) {
        rows.push(["${t("precisión del modelo base", "base model accuracy")}", pct(base.accuracy)]);
        if (isNumber(base.trainable)) {
          rows.push(["${t("parámetros del modelo", "model parameters")}", int(base.trainable)]);
        }
        if (isNumber(base.wallSeconds)) {
          rows.push(["${
    t("tiempo del modelo base", "base model time")
  }", \`\${fixed(base.wallSeconds, 1)} s\`]);
        }
      }
      if (isNumber(r.wallSeconds)) {
        rows.push(["${t("tiempo total", "total time")}", \`\${fixed(r.wallSeconds, 1)} s\`]);
      }
      await table(["", ""], rows);
      if (r.config && typeof r.config === "object") {
        const settings = Object.entries(r.config).map(([k, v]) => [k, JSON.stringify(v)]);
        await table(["config", ""], settings);
      }
    }
  `),

  // ---------------------------------------------------------------------------- shifted tasks
  md(
    `
    ## 2. Ajuste completo frente a LoRA

    Dos tareas desplazadas, partiendo del mismo modelo base: **swapped-labels** intercambia las
    etiquetas de cuatro pares de dígitos (el cambio ideal de la última capa tiene **rango 4**) y
    **rotated-90** gira las imágenes 90° (una permutación de los píxeles: un cambio de rango
    alto). Para cada una, el ajuste completo entrena todos los pesos; LoRA, solo A y B de cada
    capa. La **ganancia** de un método es lo que sube la precisión sobre el modelo base; la
    comparamos con la del ajuste completo.
    `,
    `
    ## 2. Full fine-tuning against LoRA

    Two shifted tasks, starting from the same base model: **swapped-labels** exchanges the labels of
    four pairs of digits (the ideal change of the last layer has **rank 4**) and **rotated-90**
    rotates the images by 90° (a permutation of the pixels: a high-rank change). For each, full
    fine-tuning trains every weight; LoRA trains only A and B of each layer. A method's **gain** is
    how much it raises the accuracy over the base model; we compare it with full fine-tuning's.
    `,
  ),
  codeEach((t) => `
    /** The tasks that have what this section needs: a base accuracy and a full fine-tune. */
    const tasks: Json[] = results === null ? [] : list(results.shifted).filter((s) =>
      isNumber(s?.baseAccuracy) && isNumber(s?.full?.accuracy) && isNumber(s?.full?.trainable)
    );
    /** LoRA runs of a task with rank, accuracy and trainable count, by rank. */
    const loraRuns = (task: Json): Json[] =>
      list(task.lora)
        .filter((l) => isNumber(l?.rank) && isNumber(l?.accuracy) && isNumber(l?.trainable))
        .sort((a, b) => a.rank - b.rank);
    /** The fraction of full fine-tuning's gain that an accuracy reaches on a task. */
    const gain = (task: Json, accuracy: number): number =>
      (accuracy - task.baseAccuracy) / (task.full.accuracy - task.baseAccuracy);
    /** A byte count and a time in seconds, or "" when the results do not have them. */
    const bytesAndTime = (run: Json): string[] => [
      isNumber(run.stateBytes) ? int(run.stateBytes) : "",
      isNumber(run.wallSeconds) ? fixed(run.wallSeconds, 1) : "",
    ];

    if (results === null) await missing();
    else if (tasks.length === 0) {
      await say("_${
    t("Los resultados no traen tareas desplazadas.", "The results hold no shifted tasks.")
  }_");
    } else {
      for (const task of tasks) {
        const kind = task.lowRank === true
          ? " (${t("cambio de rango bajo", "low-rank change")})"
          : task.lowRank === false
          ? " (${t("cambio de rango alto", "high-rank change")})"
          : "";
        await say(\`### \${task.task}\${kind}\\n\\n\${describe(task.task, task.description)}\`);
        const full = task.full;
        const rows: (string | number)[][] = [
          ["${t("modelo base", "base model")}", pct(task.baseAccuracy), "", "", "", "", ""],
          [
            "${t("ajuste completo", "full fine-tuning")}",
            pct(full.accuracy),
            int(full.trainable),
            pct(1),
            pct(1),
            ...bytesAndTime(full),
          ],
        ];
        for (const l of loraRuns(task)) {
          rows.push([
            \`LoRA r = \${l.rank}\`,
            pct(l.accuracy),
            int(l.trainable),
            pct(l.trainable / full.trainable),
            pct(gain(task, l.accuracy)),
            ...bytesAndTime(l),
          ]);
        }
        await table(
          [
            "",
            "${t("precisión", "accuracy")}",
            "${t("parámetros entrenables", "trainable parameters")}",
            "${t("fracción de los del ajuste completo", "fraction of full's")}",
            "${t("fracción de la ganancia", "fraction of the gain")}",
            "${t("bytes de estado (Adam)", "state bytes (Adam)")}",
            "${t("tiempo (s)", "time (s)")}",
          ],
          rows,
        );
      }

      const colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];
      const minTrainable = Math.min(
        ...tasks.flatMap((task) => loraRuns(task).map((l) => l.trainable)),
        ...tasks.map((task) => task.full.trainable),
      );
      /** A horizontal dashed line at an accuracy, across the chart's x range. */
      const level = (task: Json, accuracy: number) =>
        [[minTrainable, accuracy], [task.full.trainable, accuracy]] as const;
      await show(lineChart({
        locale: LANG,
        title: "${
    t("Precisión frente a parámetros entrenables", "Accuracy against trainable parameters")
  }",
        xLabel: "${t("parámetros entrenables (escala log)", "trainable parameters (log scale)")}",
        yLabel: "${t("precisión", "accuracy")}",
        xScale: "log",
        markers: true,
        yDomain: [0, 1],
        width: 720,
        height: 400,
        series: tasks.flatMap((task, i) => {
          const color = colors[i % colors.length];
          return [
            {
              name: \`LoRA, \${task.task}\`,
              color,
              points: loraRuns(task).map((l) => [l.trainable, l.accuracy] as const),
              labels: loraRuns(task).map((l) => \`r=\${l.rank}\`),
            },
            {
              name: \`${t("ajuste completo", "full fine-tuning")}, \${task.task}\`,
              color,
              dashed: true,
              points: level(task, task.full.accuracy),
            },
            {
              name: \`${t("modelo base", "base model")}, \${task.task}\`,
              color,
              dashed: true,
              points: level(task, task.baseAccuracy),
            },
          ];
        }),
      }));

      // The sentences: per task, the smallest rank that reaches 90 % of the gain.
      const sentences: string[] = [];
      for (const task of tasks) {
        const runs = loraRuns(task);
        if (runs.length === 0) continue;
        const enough = runs.find((l) => gain(task, l.accuracy) >= 0.9);
        const best = runs.reduce((a, b) => (gain(task, b.accuracy) > gain(task, a.accuracy) ? b : a));
        const pick = enough ?? best;
        const state = isNumber(pick.stateBytes) && isNumber(task.full.stateBytes)
          ? \` ${t("y el", "and")} \${pct(pick.stateBytes / task.full.stateBytes)} \` +
            \`${t("de su estado de entrenamiento", "of its training state")}\`
          : "";
        const reached = pct(gain(task, pick.accuracy));
        const share = pct(pick.trainable / task.full.trainable);
        sentences.push(enough
          ? \`**\${task.task}**: ${t("LoRA de rango", "LoRA at rank")} \${pick.rank} \` +
            \`${t("alcanza el", "reaches")} \${reached} \` +
            \`${
    t("de la ganancia del ajuste completo con el", "of full fine-tuning's gain with")
  } \` +
            \`\${share} ${t("de sus parámetros", "of its parameters")}\${state}.\`
          : \`**\${task.task}**: \` +
            \`${
    t(
      "ningún rango llega al 90 % de la ganancia; el mejor, r =",
      "no rank reaches 90% of the gain; the best, r =",
    )
  } \${pick.rank}, \` +
            \`${t("se queda en el", "stops at")} \${reached} \` +
            \`${t("con el", "with")} \${share} ${t("de los parámetros", "of the parameters")}.\`);
      }
      // The same rank on both kinds of task.
      const low = tasks.find((task) => task.lowRank === true);
      const high = tasks.find((task) => task.lowRank === false);
      if (low && high) {
        const common = loraRuns(low).filter((l) => loraRuns(high).some((h) => h.rank === l.rank));
        const rank = (common.find((l) => gain(low, l.accuracy) >= 0.9) ?? common.at(-1))?.rank;
        const other = loraRuns(high).find((h) => h.rank === rank);
        const mine = loraRuns(low).find((l) => l.rank === rank);
        if (other && mine) {
          sentences.push(
            \`${t("Con el mismo rango", "At the same rank")} r = \${rank}, \` +
              \`${t("la tarea de rango bajo", "the low-rank task")} (\${low.task}) \` +
              \`${t("recupera el", "recovers")} \${pct(gain(low, mine.accuracy))} \` +
              \`${t("de la ganancia y la de rango alto", "of the gain and the high-rank one")} \` +
              \`(\${high.task}) ${t("solo el", "only")} \${pct(gain(high, other.accuracy))}\` +
              \`${
    t(
      ": LoRA funciona cuando el cambio necesario es de rango bajo.",
      ": LoRA works when the needed change is low-rank.",
    )
  }\`,
          );
          const closing = loraRuns(high).find((h) =>
            gain(high, h.accuracy) >= gain(low, mine.accuracy)
          );
          if (closing) {
            sentences.push(
              \`${t("En", "On")} \${high.task} ${
    t("hace falta r =", "it takes r =")
  } \${closing.rank} \` +
                \`${t("para llegar a esa fracción", "to reach that fraction")} \` +
                \`(\${pct(gain(high, closing.accuracy))}).\`,
            );
          }
        }
      }
      await say(sentences.join("\\n\\n"));
    }
  `),

  // --------------------------------------------------------------------------------- spectrum
  md(
    `
    ## 3. ¿Es ΔW de rango bajo? El espectro

    La hipótesis de LoRA es que el cambio que necesita el ajuste, ΔW = W_ajustado − W_base, es de
    rango bajo. La demo lo mide sobre el ajuste completo: los valores singulares σ_i de ΔW de cada
    capa, la **energía** de los r primeros, Σ_{i≤r} σ_i² / Σ σ_i², y la precisión del modelo
    ajustado cuando el ΔW de esa capa se trunca a rango r (la mejor aproximación de rango r, por
    Eckart–Young), al lado de la precisión de LoRA con ese rango.
    `,
    `
    ## 3. Is ΔW low-rank? The spectrum

    LoRA's hypothesis is that the change fine-tuning needs, ΔW = W_tuned − W_base, is low-rank. The
    demo measures it on the full fine-tune: the singular values σ_i of each layer's ΔW, the
    **energy** of the first r, Σ_{i≤r} σ_i² / Σ σ_i², and the accuracy of the fine-tuned model when
    that layer's ΔW is truncated to rank r (the best rank-r approximation, by Eckart–Young), next to
    LoRA's accuracy at that rank.
    `,
  ),
  codeEach((t) => `
    /** Layers of a task with a usable spectrum. */
    const spectra = (task: Json): Json[] =>
      list(task.spectrum).filter((s) =>
        list(s?.singularValues).length > 0 && list(s.singularValues).every(isNumber)
      );
    /** Cumulative energy Σ_{i≤r} σ_i² / Σ σ_i², r = 1 … n. */
    const energy = (sigma: number[]): number[] => {
      const total = sigma.reduce((sum, s) => sum + s * s, 0);
      let running = 0;
      return sigma.map((s) => (running += s * s) / total);
    };

    if (results === null) await missing();
    else if (!tasks.some((task) => spectra(task).length > 0)) {
      await say("_${
    t("Los resultados no traen el espectro de ΔW.", "The results hold no spectrum of ΔW.")
  }_");
    } else {
      const series = tasks.flatMap((task) =>
        spectra(task).map((s) => ({
          name: \`\${task.task}, \${s.layer}\`,
          points: energy(s.singularValues).map((e, i) => [i + 1, e] as const),
        }))
      );
      await show(lineChart({
        locale: LANG,
        title: "${
    t(
      "Energía de los r primeros valores singulares de ΔW",
      "Energy of the first r singular values of ΔW",
    )
  }",
        xLabel: "${t("rango r (escala log)", "rank r (log scale)")}",
        yLabel: "${t("energía", "energy")}",
        xScale: "log",
        yDomain: [0, 1],
        width: 720,
        series,
      }));
      const sentences: string[] = [];
      for (const task of tasks) {
        for (const s of spectra(task)) {
          const e = energy(s.singularValues);
          const r90 = e.findIndex((x) => x >= 0.9) + 1;
          const shape = Array.isArray(s.shape) ? \` (\${s.shape.join("×")})\` : "";
          // The smallest truncation rank that keeps 90 % of full fine-tuning's gain.
          const keeps = list(s.truncations)
            .filter((tr) => isNumber(tr?.rank) && isNumber(tr.truncatedAccuracy))
            .sort((a, b) => a.rank - b.rank)
            .find((tr) => gain(task, tr.truncatedAccuracy) >= 0.9);
          const kept = keeps
            ? \`${t("truncado a rango", "truncated to rank")} \${keeps.rank}, \` +
              \`${t("el ajuste completo aún conserva el", "the full fine-tune still keeps")} \` +
              \`\${pct(gain(task, keeps.truncatedAccuracy))} ${t("de su ganancia", "of its gain")}\`
            : "${
    t(
      "ningún truncamiento medido conserva el 90 % de la ganancia",
      "no measured truncation keeps 90% of the gain",
    )
  }";
          sentences.push(
            \`**\${task.task}, \${s.layer}**\${shape}: \` +
              \`${t("el 90 % de la energía necesita rango", "90% of the energy needs rank")} \` +
              \`\${r90} ${t("de", "out of")} \${e.length}; \${kept}.\`,
          );
        }
        const rows = spectra(task).flatMap((s) =>
          list(s.truncations)
            .filter((tr) => isNumber(tr?.rank))
            .map((tr) => {
              const lora = loraRuns(task).find((l) => l.rank === tr.rank);
              return [
                s.layer,
                tr.rank,
                isNumber(tr.energy) ? pct(tr.energy) : "",
                isNumber(tr.relativeError) ? fixed(tr.relativeError, 3) : "",
                isNumber(tr.truncatedAccuracy) ? pct(tr.truncatedAccuracy) : "",
                lora ? pct(lora.accuracy) : "",
              ];
            })
        );
        if (rows.length > 0) {
          await say(\`### \${task.task}\`);
          await table(
            [
              "${t("capa", "layer")}",
              "r",
              "${t("energía", "energy")}",
              "${t("error relativo de rango r", "rank-r relative error")}",
              "${t("ajuste completo truncado a rango r", "full fine-tune truncated to rank r")}",
              "${t("LoRA de rango r", "LoRA at rank r")}",
            ],
            rows,
          );
        }
      }
      await say(sentences.join("\\n\\n"));
    }
  `),
  md(
    `
    Si ΔW de una capa necesita muchos valores singulares para acumular su energía, ningún
    adaptador de rango pequeño puede reproducirlo: eso es lo que separa las dos tareas.
    `,
    `
    If a layer's ΔW needs many singular values to gather its energy, no small-rank adapter can
    reproduce it: that is what separates the two tasks.
    `,
  ),

  // ------------------------------------------------------------------------------------ merge
  md(
    `
    ## 4. Fusionar el adaptador

    Tras entrenar, LoRA se puede fusionar: W' = W + s·B·A, y la inferencia no cuesta nada extra. La
    demo compara las salidas (logits) del modelo fusionado con las del modelo sin fusionar, y
    comprueba cada diferencia contra una cota de redondeo en float64 deducida en \`docs/demo.md\`.
    `,
    `
    ## 4. Merging the adapter

    After training, LoRA can be merged: W' = W + s·B·A, and inference costs nothing extra. The demo
    compares the outputs (logits) of the merged model with those of the unmerged one, and checks
    each difference against a float64 rounding bound derived in \`docs/demo.md\`.
    `,
  ),
  codeEach((t) => `
    if (results === null) await missing();
    else if (!results.merge || !isNumber(results.merge.maxAbsDifference)) {
      await say("_${
    t("Los resultados no traen la comprobación de la fusión.", "The results hold no merge check.")
  }_");
    } else {
      const m = results.merge;
      const rows: (string | number)[][] = [
        ["${t("tarea y rango", "task and rank")}", \`\${m.task ?? "?"}, r = \${m.rank ?? "?"}\`],
        ["${t("filas de prueba", "test rows")}", isNumber(m.rows) ? int(m.rows) : ""],
        ["${
    t("máx |logit fusionado − sin fusionar|", "max |merged − unmerged logit|")
  }", sci(m.maxAbsDifference, 1)],
      ];
      if (isNumber(m.bound)) rows.push(["${t("mayor cota", "largest bound")}", sci(m.bound, 1)]);
      if (typeof m.withinBound === "boolean") {
        const within = m.withinBound ? "${t("sí", "yes")}" : "NO";
        rows.push(["${t("cada logit dentro de su cota", "every logit within its bound")}", within]);
      }
      if (isNumber(m.argmaxAgreement)) {
        rows.push(["${t("misma predicción", "same prediction")}", pct(m.argmaxAgreement, 2)]);
      }
      if (isNumber(m.unmergeRoundTripMaxAbs)) {
        rows.push([
          "${t("máx |W − separar(fusionar(W))|", "max |W − unmerge(merge(W))|")}",
          sci(m.unmergeRoundTripMaxAbs, 1),
        ]);
      }
      if (isNumber(m.accuracy)) {
        rows.push(["${
    t("precisión del modelo fusionado", "merged model accuracy")
  }", pct(m.accuracy)]);
      }
      await table(["", ""], rows);
      if (isNumber(m.bound) && m.maxAbsDifference > 0) {
        await say(
          \`${t("La mayor diferencia es", "The largest difference is")} \` +
            \`\${int(m.bound / m.maxAbsDifference)} \` +
            "${t("veces menor que la mayor cota: ", "times smaller than the largest bound: ")}" +
            "${
    t(
      "fusionar no cambia el modelo más allá del redondeo de float64.",
      "merging changes the model by no more than float64 rounding.",
    )
  }",
        );
      }
    }
  `),

  // ---------------------------------------------------------------------------- quantization
  md(
    `
    ## 5. El modelo fusionado en diez formatos

    Los pesos del modelo fusionado se guardan en cada formato (los sesgos quedan en float32) y se
    mide la precisión. Los bytes incluyen las escalas de cada formato; la SQNR se mide sobre todos
    los pesos.
    `,
    `
    ## 5. The merged model in ten formats

    The merged model's weights are stored in each format (biases stay float32) and the accuracy is
    measured. The bytes include each format's scales; the SQNR is measured over all the weights.
    `,
  ),
  codeEach((t) => `
    const formats: Json[] = results === null ? [] : list(results.quantized).filter((q) =>
      typeof q?.format === "string" && isNumber(q.accuracy) && isNumber(q.bytes) && q.bytes > 0
    );
    if (results === null) await missing();
    else if (formats.length === 0) {
      await say("_${
    t("Los resultados no traen formatos cuantizados.", "The results hold no quantized formats.")
  }_");
    } else {
      const reference = formats.find((q) => q.format === "float32") ??
        formats.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      await table(
        [
          "${t("formato", "format")}",
          "${t("precisión", "accuracy")}",
          \`${t("frente a", "vs")} \${reference.format} (${t("puntos", "points")})\`,
          "bytes",
          \`${t("fracción de", "fraction of")} \${reference.format}\`,
          "${t("bits por peso", "bits per weight")}",
          "SQNR (dB)",
          "${t("cómo", "how")}",
        ],
        formats.map((q) => [
          q.format,
          pct(q.accuracy),
          points(q.accuracy - reference.accuracy),
          int(q.bytes),
          pct(q.bytes / reference.bytes),
          isNumber(q.bitsPerWeight) ? fixed(q.bitsPerWeight, 2) : "",
          isNumber(q.sqnrDb) ? fixed(q.sqnrDb, 1) : "",
          describe(q.format, q.note),
        ]),
      );
      await show(scatterChart({
        locale: LANG,
        title: "${t("Precisión frente a bytes del modelo", "Accuracy against the model's bytes")}",
        xLabel: "${t("bytes (escala log)", "bytes (log scale)")}",
        yLabel: "${t("precisión", "accuracy")}",
        xScale: "log",
        width: 720,
        points: formats.map((q) => ({ x: q.bytes, y: q.accuracy, label: q.format })),
      }));
      const withSqnr = formats.filter((q) => isNumber(q.sqnrDb) && q.sqnrDb < 1000);
      if (withSqnr.length > 0) {
        await show(barChart({
          locale: LANG,
          title: "${t("SQNR de los pesos en cada formato", "SQNR of the weights in each format")}",
          yLabel: "SQNR (dB)",
          valueFormat: ".1f",
          bars: withSqnr.map((q) => ({ label: q.format, value: q.sqnrDb })),
        }));
      }
      // Interpretation: the smallest format within one point of the reference, and the worst.
      const close = formats
        .filter((q) => reference.accuracy - q.accuracy <= 0.01)
        .sort((a, b) => a.bytes - b.bytes)[0]!;
      const worst = formats.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
      const sentences = [
        \`${
    t("El formato más pequeño a menos de un punto de", "The smallest format within one point of")
  } \` +
          \`\${reference.format} ${t("es", "is")} **\${close.format}**: \${pct(close.accuracy)} \` +
          \`${t("con el", "with")} \${pct(close.bytes / reference.bytes)} ${
    t("de los bytes", "of the bytes")
  } \` +
          \`(\${fixed(reference.bytes / close.bytes, 1)}× ${t("menos", "fewer")}).\`,
      ];
      if (worst !== close && reference.accuracy - worst.accuracy > 0.01) {
        const loss = fixed(100 * (reference.accuracy - worst.accuracy), 1);
        const sqnrNote = isNumber(worst.sqnrDb)
          ? \`, ${t("con una SQNR de", "with an SQNR of")} \${fixed(worst.sqnrDb, 1)} dB\`
          : "";
        sentences.push(
          \`${t("El que más pierde es", "The one that loses most is")} **\${worst.format}**: \` +
            \`\${loss} ${t("puntos", "points")} (\${pct(worst.accuracy)})\${sqnrNote}.\`,
        );
      }
      await say(sentences.join(" "));
    }
  `),
  codeEach((t) => `
    const acc = results?.accumulation;
    if (results === null) await missing();
    else if (!acc || !acc.float16 || !acc.float32) {
      await say("_${
    t(
      "Los resultados no traen la comparación de acumuladores.",
      "The results hold no accumulator comparison.",
    )
  }_");
    } else {
      const rowCount = isNumber(acc.rows) ? int(acc.rows) : "?";
      await say(
        "### ${
    t("Acumular en float16 o en float32", "Accumulating in float16 or in float32")
  }\\n\\n" +
          \`${
    t("Con pesos y activaciones en", "With weights and activations in")
  } \${acc.inputs ?? "float16"}, \` +
          "${
    t(
      "los productos de matrices del modelo fusionado se repiten con un acumulador float16 ",
      "the merged model's matrix products are repeated with a float16 ",
    )
  }" +
          "${
    t(
      "y con uno float32 (un redondeo por paso), y se comparan con los logits en float64",
      "and a float32 accumulator (one rounding per step), and compared with the float64 logits",
    )
  }" +
          \` (\${rowCount} ${t("filas", "rows")}).\`,
      );
      const rows = (["float16", "float32"] as const).map((name) => {
        const run = acc[name];
        return [
          name,
          isNumber(run.maxAbsDifference) ? sci(run.maxAbsDifference, 2) : "",
          isNumber(run.argmaxAgreement) ? pct(run.argmaxAgreement, 2) : "",
          isNumber(run.accuracy) ? pct(run.accuracy) : "",
        ];
      });
      await table(
        [
          "${t("acumulador", "accumulator")}",
          "${t("máx |Δlogit|", "max |Δlogit|")}",
          "${t("misma predicción que float64", "same prediction as float64")}",
          "${t("precisión", "accuracy")}",
        ],
        rows,
      );
      const half = acc.float16.maxAbsDifference;
      const single = acc.float32.maxAbsDifference;
      if (isNumber(half) && isNumber(single) && single > 0) {
        await say(
          \`${
    t("El acumulador float16 se equivoca", "The float16 accumulator errs")
  } \${fixed(half / single, 1)}× \` +
            "${
    t(
      "más que el float32 con las mismas entradas: ",
      "more than the float32 one on the same inputs: ",
    )
  }" +
            "${
    t(
      "por eso los kernels acumulan en float32 aunque los datos sean de 16 bits.",
      "that is why kernels accumulate in float32 even when the data is 16-bit.",
    )
  }",
        );
      }
    }
  `),

  // ------------------------------------------------------------------------ QLoRA and mixed
  md(
    `
    ## 6. QLoRA y precisión mixta

    Si la demo los incluye: LoRA entrenado sobre una base congelada cuantizada (NF4 o int4) frente
    a la base en float, y el entrenamiento con el cálculo en bfloat16 o float16 y pesos maestros en
    float32 (capítulo 3, secciones 6 y 7).
    `,
    `
    ## 6. QLoRA and mixed precision

    If the demo includes them: LoRA trained on a frozen quantized base (NF4 or int4) against the
    float base, and training with compute in bfloat16 or float16 and float32 master weights
    (chapter 3, sections 6 and 7).
    `,
  ),
  codeEach((t) => `
    const qlora: Json[] = results === null ? [] : list(results.qlora).filter((q) =>
      typeof q?.base === "string" && isNumber(q.accuracy)
    );
    if (results === null) await missing();
    else if (qlora.length === 0) {
      await say("_${
    t("Los resultados no traen filas de QLoRA.", "The results hold no QLoRA rows.")
  }_");
    } else {
      const float = qlora.find((q) => q.base === "float");
      /** The frozen bytes of a base as a fraction of the float base's, or "". */
      const fraction = (q: Json): string =>
        float && isNumber(q.frozenBytes) && isNumber(float.frozenBytes)
          ? pct(q.frozenBytes / float.frozenBytes)
          : "";
      await table(
        [
          "${t("base congelada", "frozen base")}",
          "r",
          "${t("precisión", "accuracy")}",
          "${t("bytes de la base", "base bytes")}",
          "${t("fracción de la base float", "fraction of the float base")}",
          "${t("tiempo (s)", "time (s)")}",
        ],
        qlora.map((q) => [
          q.base,
          q.rank ?? "",
          pct(q.accuracy),
          isNumber(q.frozenBytes) ? int(q.frozenBytes) : "",
          fraction(q),
          isNumber(q.wallSeconds) ? fixed(q.wallSeconds, 1) : "",
        ]),
      );
      const sentences = qlora.filter((q) => q !== float && float).map((q) => {
        const smaller = isNumber(q.frozenBytes) && isNumber(float!.frozenBytes)
          ? \` ${t("con", "with")} \${fixed(float!.frozenBytes / q.frozenBytes, 1)}× \` +
            \`${t("menos bytes congelados", "fewer frozen bytes")}\`
          : "";
        return \`${t("Sobre la base", "On the")} \${q.base}${t("", " base")}, \` +
          \`LoRA ${t("llega al", "reaches")} \${pct(q.accuracy)} \` +
          \`(\${points(q.accuracy - float!.accuracy)} \` +
          \`${t("puntos frente a la base float", "points against the float base")})\${smaller}.\`;
      });
      if (sentences.length > 0) await say(sentences.join(" "));
    }
  `),
  codeEach((t) => `
    const mixed: Json[] = results === null ? [] : list(results.mixedPrecision).filter((m) =>
      typeof m?.compute === "string" && isNumber(m.accuracy)
    );
    if (results === null) await missing();
    else if (mixed.length === 0) {
      await say("_${
    t(
      "Los resultados no traen filas de precisión mixta.",
      "The results hold no mixed-precision rows.",
    )
  }_");
    } else {
      /** The fraction of weight gradients flushed to zero, as a percentage (two digits). */
      const flushed = (fraction: number): string =>
        fraction === 0 ? "0" : \`\${(100 * fraction).toPrecision(2)} %\`;
      await table(
        [
          "${t("cálculo", "compute")}",
          "${t("pesos maestros", "master weights")}",
          "${t("escala de la pérdida", "loss scale")}",
          "${t("precisión", "accuracy")}",
          "${t("pasos descartados", "skipped steps")}",
          "${t("gradientes anulados (underflow)", "gradients flushed to 0 (underflow)")}",
          "${t("tiempo (s)", "time (s)")}",
        ],
        mixed.map((m) => [
          m.compute,
          m.master ?? "",
          isNumber(m.lossScale) ? int(m.lossScale) : "",
          pct(m.accuracy),
          isNumber(m.skippedSteps) ? int(m.skippedSteps) : "",
          isNumber(m.flushedFraction) ? flushed(m.flushedFraction) : "",
          isNumber(m.wallSeconds) ? fixed(m.wallSeconds, 1) : "",
        ]),
      );
      const base = mixed.find((m) => m.compute === "float32") ?? mixed[0]!;
      const spread = Math.max(...mixed.map((m) => Math.abs(m.accuracy - base.accuracy)));
      const skipped = mixed.reduce(
        (sum, m) => sum + (isNumber(m.skippedSteps) ? m.skippedSteps : 0),
        0,
      );
      const verdict = spread <= 0.01
        ? "${
    t(
      "Con este modelo, calcular en 16 bits no cuesta precisión medible; ",
      "With this model, 16-bit compute costs no measurable accuracy; ",
    )
  }" +
          "${
    t(
      "los fallos de float16 sin *loss scaling* aparecen con gradientes más pequeños, ",
      "float16's failures without loss scaling appear with smaller gradients, ",
    )
  }" +
          "${
    t(
      "como los de los modelos grandes (capítulo 3, sección 6).",
      "like those of large models (chapter 3, section 6).",
    )
  }"
        : "${
    t(
      "Aquí el cálculo en 16 bits sí cuesta precisión: ",
      "Here 16-bit compute does cost accuracy: ",
    )
  }" +
          "${
    t(
      "compara las filas con y sin *loss scaling*.",
      "compare the rows with and without loss scaling.",
    )
  }";
      await say(
        \`${
    t(
      "La mayor diferencia de precisión frente al cálculo en",
      "The largest accuracy difference against compute in",
    )
  } \` +
          \`\${base.compute} ${t("es de", "is")} \${fixed(100 * spread, 1)} ${
    t("puntos", "points")
  }; \` +
          \`${
    t("pasos descartados por desbordamiento en total", "steps skipped for overflow in total")
  }: \` +
          \`\${int(skipped)}. \` + verdict,
      );
    }
  `),

  // -------------------------------------------------------------------------------------- GPU
  md(
    `
    ## 7. GPU frente a referencia

    Con un adaptador WebGPU, la demo recalcula los logits del modelo con los kernels de
    \`@loraquant/gpu\` (float32) y los compara con los de la referencia (float64). La diferencia
    debe quedar dentro de la cota de docs/gpu.md, del orden de γ_k·M con u = 2⁻²⁴.
    `,
    `
    ## 7. GPU against the reference

    With a WebGPU adapter, the demo recomputes the model's logits with \`@loraquant/gpu\`'s kernels
    (float32) and compares them with the reference's (float64). The difference must stay within the
    bound of docs/gpu.md, of the order of γ_k·M with u = 2⁻²⁴.
    `,
  ),
  codeEach((t) => `
    const gpu = results?.gpu;
    if (results === null) await missing();
    else if (!gpu || !isNumber(gpu.maxAbsDifference)) {
      const device = describe(String(results.device), results.device ?? "?");
      await say(
        \`_${t("Esta ejecución no usó la GPU", "This run did not use the GPU")} \` +
          \`(${t("dispositivo", "device")}: \${device}); \` +
          \`${
    t("con un adaptador WebGPU y sin", "with a WebGPU adapter and without")
  } \\\`--cpu\\\` \` +
          \`${t("la demo añade esta sección.", "the demo adds this section.")}_\`,
      );
    } else {
      const gpuAccuracy = isNumber(gpu.gpuAccuracy) ? pct(gpu.gpuAccuracy) : "?";
      const referenceAccuracy = isNumber(gpu.referenceAccuracy) ? pct(gpu.referenceAccuracy) : "?";
      await table(["", ""], [
        ["${t("filas", "rows")}", isNumber(gpu.rows) ? int(gpu.rows) : ""],
        ["${
    t("máx |logit GPU − referencia|", "max |GPU − reference logit|")
  }", sci(gpu.maxAbsDifference, 2)],
        [
          "${t("misma predicción", "same prediction")}",
          isNumber(gpu.argmaxAgreement) ? pct(gpu.argmaxAgreement, 2) : "",
        ],
        ["${
    t("precisión GPU / referencia", "accuracy GPU / reference")
  }", \`\${gpuAccuracy} / \${referenceAccuracy}\`],
      ]);
      const difference = \`${
    t("Una diferencia de", "A difference of")
  } \${sci(gpu.maxAbsDifference, 1)} \`;
      await say(gpu.maxAbsDifference <= 1e-3
        ? difference +
          "${t("es del orden del redondeo de float32 ", "is of the order of float32 rounding ")}" +
          "${
    t(
      "(2⁻²⁴ ≈ 6·10⁻⁸ por operación, acumulado sobre cientos de términos), ",
      "(2⁻²⁴ ≈ 6·10⁻⁸ per operation, accumulated over hundreds of terms), ",
    )
  }" +
          "${t("no un error del kernel.", "not a kernel error.")}"
        : difference +
          "${
    t(
      "es mayor que el 10⁻³ que admite el test de la demo: revisa el kernel.",
      "is above the 10⁻³ that the demo's test allows: check the kernel.",
    )
  }");
    }
  `),
  codeEach((t) => `
    // Whatever else the demo writes (it is evolving): the top-level fields this notebook does not
    // show yet, with a short preview.
    const shown = new Set([
      "device", "adapter", "seed", "quick", "config", "data", "base", "shifted", "chosenRank",
      "merge", "quantized", "accumulation", "qlora", "mixedPrecision", "gpu", "wallSeconds",
    ]);
    if (results === null) await missing();
    else {
      const extra = Object.keys(results).filter((key) => !shown.has(key));
      if (extra.length === 0) {
        await say("_${
    t(
      "Este cuaderno muestra todos los campos de los resultados.",
      "This notebook shows every field of the results.",
    )
  }_");
      } else {
        await say("${
    t(
      "Campos de los resultados que este cuaderno aún no interpreta:",
      "Fields of the results this notebook does not interpret yet:",
    )
  }");
        await table(
          ["${t("campo", "field")}", "${t("contenido (inicio)", "content (start)")}"],
          extra.map((key) => {
            const text = JSON.stringify(results[key]) ?? "";
            return [key, text.length > 300 ? \`\${text.slice(0, 300)}…\` : text];
          }),
        );
      }
    }
  `),
  md(
    `
    ## Para recordar

    - En la tarea cuyo cambio es de rango bajo, LoRA con un rango pequeño recupera casi toda la
      ganancia del ajuste completo con una fracción pequeña de sus parámetros y de su estado de
      entrenamiento; en la de rango alto necesita más rango. Truncar el ΔW del ajuste completo
      mide cuánto rango necesita de verdad cada tarea.
    - Fusionar el adaptador no cambia las predicciones: las diferencias quedan dentro de una cota
      de redondeo demostrada.
    - Los formatos de 8 bits casi no pierden precisión; los de 4 bits por bloque pierden poco con
      la octava parte de los bytes de float32; el ternario aplicado a un modelo ya entrenado pierde
      mucho.
    `,
    `
    ## To remember

    - On the task whose change is low-rank, LoRA with a small rank recovers almost all of full
      fine-tuning's gain with a small fraction of its parameters and training state; on the
      high-rank task it needs more rank. Truncating the full fine-tune's ΔW measures how much rank
      each task really needs.
    - Merging the adapter does not change the predictions: the differences stay within a proven
      rounding bound.
    - The 8-bit formats lose almost no accuracy; the 4-bit block formats lose little with an eighth
      of float32's bytes; ternary applied to an already trained model loses a lot.
    `,
  ),
];

/** Chapter 4: the demo's results, read from out/demo/results.json and interpreted. */
export const chapter: Chapter = {
  slug: "04-demo",
  number: 4,
  title: { es: "Los resultados de la demo", en: "The demo's results" },
  cells,
};
