/// <reference lib="dom" />
/**
 * The lab page's script (bundled by esbuild into the page): wires the three interactive figures
 * to their controls. Every number comes from `@loraquant/reference` and every picture from
 * `@loraquant/notebook`'s figure functions, recomputed in the browser on each input event.
 * The markup (controls and empty figure boxes) is written by `_pages.ts` with the same ids.
 *
 * @module
 */
import { barChart, histogram, loraUpdate, overflowLine } from "@loraquant/notebook";
import type { Lang } from "../../chapters/_cell.ts";
import { type SiteStrings, STRINGS } from "../_strings.ts";
import { LAYER_SHAPES, pictureFactors, pictureTarget, rankCount } from "./rank_model.ts";
import { labWeights, quantizationError, type ScaleScheme } from "./bits_model.ts";
import {
  addUnderEachRule,
  dtypeRange,
  type PlaygroundDtype,
  readOperand,
} from "./overflow_model.ts";

/** The element with id `id`, of the expected kind; a missing one is a bug in the page. */
function byId<T extends HTMLElement>(id: string, kind: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) {
    throw new TypeError(`The lab page has no <${kind.name}> with id "${id}"`);
  }
  return element;
}

/** Runs `draw` now and on every `input`/`change` event of `controls`. */
function bind(controls: readonly HTMLElement[], draw: () => void): void {
  draw();
  for (const control of controls) {
    control.addEventListener("input", draw);
    control.addEventListener("change", draw);
  }
}

function rankFigure(s: SiteStrings, lang: Lang): void {
  const slider = byId("rank-slider", HTMLInputElement);
  const shape = byId("rank-shape", HTMLSelectElement);
  const value = byId("rank-value", HTMLOutputElement);
  const count = byId("rank-count", HTMLElement);
  const formula = byId("rank-formula", HTMLElement);
  const bars = byId("rank-bars", HTMLElement);
  const picture = byId("rank-picture", HTMLElement);
  const pictureText = byId("rank-picture-text", HTMLElement);
  const integer = new Intl.NumberFormat(lang);
  const percent = new Intl.NumberFormat(lang, { style: "percent", maximumSignificantDigits: 3 });
  const target = pictureTarget();
  bind([slider, shape], () => {
    const rank = Number(slider.value);
    const [d, k] = LAYER_SHAPES[Number(shape.value)] ?? LAYER_SHAPES[0]!;
    const { full, lora, ratio } = rankCount([d, k], rank);
    value.value = String(rank);
    count.dataset.lora = String(lora);
    count.dataset.full = String(full);
    count.textContent = s.countText(
      integer.format(lora),
      integer.format(full),
      percent.format(ratio),
    );
    formula.textContent = `${
      s.countFormula(integer.format(d), integer.format(k), String(rank))
    } = ${integer.format(lora)}`;
    bars.innerHTML = barChart({
      locale: lang,
      bars: [
        { label: s.barFull, value: Number(full) },
        { label: s.barLora, value: Number(lora) },
      ],
      title: s.paramsTitle,
      yLabel: s.paramsAxis,
      yScale: "log",
      valueFormat: ".3~s",
      width: 420,
      height: 320,
    });
    const factors = pictureFactors(target, rank);
    picture.innerHTML = loraUpdate({
      deltaW: factors.product,
      b: factors.b,
      a: factors.a,
      cellSize: 12,
      labels: { full: s.pictureFull, lora: s.pictureLora(factors.rank), b: "B", a: "A" },
    });
    pictureText.textContent = s.pictureText(
      rank,
      factors.rank,
      percent.format(factors.relativeError),
    );
  });
}

function bitsFigure(s: SiteStrings, lang: Lang): void {
  const slider = byId("bits-slider", HTMLInputElement);
  const scheme = byId("bits-scheme", HTMLSelectElement);
  const value = byId("bits-value", HTMLOutputElement);
  const figure = byId("bits-histogram", HTMLElement);
  const summary = byId("bits-summary", HTMLElement);
  const decimal = new Intl.NumberFormat(lang, {
    maximumFractionDigits: 1,
    minimumFractionDigits: 1,
  });
  const small = new Intl.NumberFormat(lang, { maximumSignificantDigits: 3 });
  const weights = labWeights();
  bind([slider, scheme], () => {
    const bits = Number(slider.value);
    const chosen: ScaleScheme = scheme.value === "group" ? "group" : "tensor";
    const outcome = quantizationError(weights, bits, chosen);
    value.value = String(bits);
    const schemeName = chosen === "group" ? s.schemeGroup : s.schemeTensor;
    figure.innerHTML = histogram({
      locale: lang,
      values: outcome.errors,
      bins: 41,
      title: s.histogramTitle(bits, schemeName),
      xLabel: s.errorAxis,
      yLabel: s.countAxis,
    });
    summary.dataset.sqnr = String(outcome.sqnrDb);
    summary.textContent = s.sqnrText(
      decimal.format(outcome.sqnrDb),
      small.format(outcome.rmse),
      outcome.levels,
    );
  });
}

function overflowFigure(s: SiteStrings, lang: Lang): void {
  const dtype = byId("ov-dtype", HTMLSelectElement);
  const a = byId("ov-a", HTMLInputElement);
  const b = byId("ov-b", HTMLInputElement);
  const message = byId("ov-message", HTMLElement);
  const figure = byId("ov-figure", HTMLElement);
  const verdict = byId("ov-verdict", HTMLElement);
  const cells = {
    exact: byId("ov-exact", HTMLElement),
    wrap: byId("ov-wrap", HTMLElement),
    saturate: byId("ov-saturate", HTMLElement),
    widen: byId("ov-widen", HTMLElement),
  };
  const integer = new Intl.NumberFormat(lang);
  bind([dtype, a, b], () => {
    const type: PlaygroundDtype = dtype.value === "int16" ? "int16" : "int8";
    const [min, max] = dtypeRange(type);
    for (const input of [a, b]) {
      input.min = String(min);
      input.max = String(max);
    }
    const left = readOperand(a.value, type);
    const right = readOperand(b.value, type);
    const problems = [
      ...(left.ok ? [] : [s.notInteger("a", integer.format(min), integer.format(max))]),
      ...(right.ok ? [] : [s.notInteger("b", integer.format(min), integer.format(max))]),
    ];
    a.setAttribute("aria-invalid", String(!left.ok));
    b.setAttribute("aria-invalid", String(!right.ok));
    if (!left.ok || !right.ok) {
      message.textContent = problems.join(" ");
      message.hidden = false;
      figure.classList.add("stale");
      verdict.textContent = "";
      for (const cell of Object.values(cells)) {
        cell.textContent = "—";
        delete cell.dataset.value;
      }
      return;
    }
    message.hidden = true;
    message.textContent = "";
    figure.classList.remove("stale");
    const outcome = addUnderEachRule(left.value, right.value, type);
    for (const rule of ["exact", "wrap", "saturate", "widen"] as const) {
      cells[rule].dataset.value = String(outcome[rule]);
      cells[rule].textContent = integer.format(outcome[rule]);
    }
    verdict.textContent = outcome.overflowed ? s.overflows : s.fits;
    figure.innerHTML = overflowLine({
      a: left.value,
      b: right.value,
      dtype: type,
      title: s.overflowTitleOf(integer.format(left.value), integer.format(right.value), type),
      labels: {
        exact: s.exact,
        wrap: s.wrap,
        saturate: s.saturate,
        widen: s.widen,
        range: s.range,
      },
    });
  });
}

const lang: Lang = document.documentElement.lang === "en" ? "en" : "es";
const strings = STRINGS[lang];
rankFigure(strings, lang);
bitsFigure(strings, lang);
overflowFigure(strings, lang);
document.body.dataset.ready = "true";
