// One request line in, one response line out (oracle-protocol.md, "Transport").
import { isLoraquantError } from "../errors.ts";
import { limitError } from "../_fail.ts";
import type { Json, Request } from "../protocol.ts";
import { FLOAT_FORMAT_NAMES } from "../format.ts";
import { OPS } from "./ops.ts";
import { BLOCK_FORMATS } from "./block.ts";
import { INTEGER_DTYPES } from "../dtype.ts";

/** Version of this implementation, reported by `info`. */
export const ORACLE_VERSION = "0.1.0";

/** The most bytes one request line may hold (64 MiB; the protocol requires at least 16 MiB). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The most numbers one request may hold (2^24; the protocol requires at least 2^22). */
export const MAX_NUMBERS = 2 ** 24;

/** Limits of one oracle instance; each defaults to the module's constant. */
export interface OracleLimits {
  /** The most bytes of one request line. @default {MAX_LINE_BYTES} */
  maxLineBytes?: number;
  /** The most numbers in one request. @default {MAX_NUMBERS} */
  maxNumbers?: number;
}

function countNumbers(value: unknown, limit: number): number {
  // Counts the numbers (and protocol number strings) of a request, stopping past `limit`.
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    if (typeof v === "number" || typeof v === "string") count++;
    else if (Array.isArray(v)) { for (const item of v) stack.push(item); }
    else if (v !== null && typeof v === "object") {
      for (const item of Object.values(v)) stack.push(item);
    }
  }
  return count;
}

function failure(id: Json, code: string, message: string): string {
  return JSON.stringify({ id, ok: false, error: { code, message } });
}

/**
 * Answers one request line with one response line (no trailing newline).
 *
 * @param line The request as text (one JSON object).
 * @param limits Lower limits than the defaults (for tests and embedding).
 * @returns The response as text.
 */
export function answerLine(line: string, limits: OracleLimits = {}): string {
  const maxNumbers = limits.maxNumbers ?? MAX_NUMBERS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return failure(null, "E_PARSE", `Request is not JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return failure(null, "E_PARSE", "Request must be a JSON object");
  }
  const request = parsed as Request;
  const id = (request["id"] === undefined ? null : request["id"]) as Json;
  const op = request["op"];
  if (typeof op !== "string") {
    return failure(
      id,
      "E_OP",
      `Missing or non-string "op" (got ${JSON.stringify(op) ?? "nothing"})`,
    );
  }
  const context = {
    checkLimit(): void {
      if (countNumbers(request, maxNumbers) > maxNumbers) {
        throw limitError(`Request holds more than ${maxNumbers} numbers, this oracle's limit`);
      }
    },
  };
  try {
    if (op === "info") return JSON.stringify({ id, ok: true, result: info() });
    if (!Object.hasOwn(OPS, op)) {
      return failure(
        id,
        "E_OP",
        `Unknown op ${JSON.stringify(op)}; known: info, ${Object.keys(OPS).join(", ")}`,
      );
    }
    const result = OPS[op]!(request, context);
    return JSON.stringify({ id, ok: true, result });
  } catch (e) {
    if (isLoraquantError(e)) return failure(id, e.code, e.message);
    // An unexpected fault still answers, so the stream goes on; its code says "argument".
    return failure(
      id,
      "E_ARG",
      `Internal error while answering ${op}: ${(e as Error)?.message ?? e}`,
    );
  }
}

/** The `info` result. */
export function info(): { [key: string]: Json } {
  return {
    name: "@loraquant/reference",
    version: ORACLE_VERSION,
    protocol: "1",
    ops: ["info", ...Object.keys(OPS)],
    formats: [...FLOAT_FORMAT_NAMES, ...INTEGER_DTYPES, ...BLOCK_FORMATS],
    limits: { lineBytes: MAX_LINE_BYTES, numbers: MAX_NUMBERS },
  };
}

/**
 * One line of a JSON Lines stream: its text, or the fact that it was longer than the byte limit
 * (its bytes were skipped as they arrived, never held).
 */
export type StreamLine = { readonly text: string } | { readonly tooLong: true };

/**
 * Splits a byte stream into lines (`\n`; a trailing `\r` is JSON white space), yielding the
 * complete lines of each chunk read together, so that a caller answers them in one go (the GPU
 * oracle batches them). Only the current line is held; a line above `maxLineBytes` is skipped as
 * it arrives and yielded as `{ tooLong: true }`. Lines of white space are dropped; a last line
 * without a newline still counts.
 *
 * @param input The bytes.
 * @param maxLineBytes The most bytes of one line.
 * @returns The lines, grouped by the chunk that completed them.
 */
export async function* streamLines(
  input: ReadableStream<Uint8Array>,
  maxLineBytes: number = MAX_LINE_BYTES,
): AsyncGenerator<StreamLine[]> {
  const decoder = new TextDecoder();
  let parts: Uint8Array[] = [];
  let size = 0;
  let overflow = false;
  let lines: StreamLine[] = [];
  const finishLine = () => {
    if (overflow) lines.push({ tooLong: true });
    else {
      const text = decoder.decode(concat(parts));
      if (text.trim() !== "") lines.push({ text });
    }
    parts = [];
    size = 0;
    overflow = false;
  };
  for await (const chunk of input) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!overflow) {
        if (size + (end - start) > maxLineBytes) {
          overflow = true;
          parts = [];
        } else {
          parts.push(chunk.slice(start, end));
        }
      }
      size += end - start;
      if (nl === -1) break;
      finishLine();
      start = nl + 1;
    }
    if (lines.length > 0) {
      yield lines;
      lines = [];
    }
  }
  if (size > 0 || parts.length > 0) finishLine();
  if (lines.length > 0) yield lines;
}

/** The answer to a line above the byte limit (its id cannot be read without reading it). */
export function tooLongAnswer(maxLineBytes: number): string {
  return failure(
    null,
    "E_LIMIT",
    `Request line longer than ${maxLineBytes} bytes, this oracle's limit`,
  );
}

/**
 * Reads JSON Lines requests from a byte stream and writes one response line per request, in
 * order. Streams: only the current line is held; a line longer than {@linkcode MAX_LINE_BYTES}
 * is skipped as it arrives and answered with `E_LIMIT`. Lines of white space get no answer.
 * Answers are written after every chunk read, so an interactive client gets each answer at once.
 *
 * @param input The request bytes.
 * @param output Where response lines go.
 * @param limits Lower limits than the defaults (for tests and embedding).
 */
export async function serve(
  input: ReadableStream<Uint8Array>,
  output: WritableStream<Uint8Array>,
  limits: OracleLimits = {},
): Promise<void> {
  const maxLineBytes = limits.maxLineBytes ?? MAX_LINE_BYTES;
  const writer = output.getWriter();
  const encoder = new TextEncoder();
  for await (const lines of streamLines(input, maxLineBytes)) {
    const answers = lines.map((line) =>
      ("tooLong" in line ? tooLongAnswer(maxLineBytes) : answerLine(line.text, limits)) + "\n"
    );
    await writer.write(encoder.encode(answers.join("")));
  }
  await writer.close();
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
