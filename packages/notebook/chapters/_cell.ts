// The shape of a chapter source: one TypeScript file per chapter renders both notebooks (es, en).

/** A text in the two languages of the course. */
export interface Text {
  readonly es: string;
  readonly en: string;
}

/** The two languages every chapter is rendered in. */
export type Lang = keyof Text;

/** The languages, in the order the site lists them. */
export const LANGS: readonly Lang[] = ["es", "en"];

/** One notebook cell: prose (markdown) or code for the Deno kernel, the same or per language. */
export type Cell =
  | { readonly kind: "markdown"; readonly text: Text }
  | { readonly kind: "code"; readonly code: string | Text };

/** A chapter: its file name stem, number, title and cells, in order. */
export interface Chapter {
  /** File name stem of the notebook, e.g. `"01-lora"` → `notebooks/es/01-lora.ipynb`. */
  readonly slug: string;
  readonly number: number;
  readonly title: Text;
  readonly cells: readonly Cell[];
}

/** A markdown cell in Spanish and English. */
export function md(es: string, en: string): Cell {
  return { kind: "markdown", text: { es, en } };
}

/** A code cell, the same in both languages. */
export function code(source: string): Cell {
  return { kind: "code", code: source };
}

/** A code cell whose source differs per language (labels, messages). */
export function codeIn(es: string, en: string): Cell {
  return { kind: "code", code: { es, en } };
}
