// The oracle's `block` op (oracle-protocol.md "block"): block formats of other ecosystems,
// bit-compatible — llama.cpp q8_0/q4_0/q4_1, bitsandbytes nf4/fp4-bnb, OCP MX.
import { argError, show } from "../_fail.ts";
import { checkBlockLength } from "../_block.ts";
import {
  BITSANDBYTES_BLOCK_SIZES,
  BITSANDBYTES_FORMATS,
  quantizeBitsandbytes,
} from "../bitsandbytes.ts";
import { GGML_BLOCK_SIZE, GGML_FORMATS, type GgmlBlock, quantizeGgml } from "../ggml.ts";
import { MX_BLOCK_SIZE, MX_FORMATS, MX_SCALE_MODES, quantizeMx } from "../microscaling.ts";
import {
  describe,
  encodeNumber,
  encodeVector,
  type Json,
  readEnum,
  readVector,
} from "../protocol.ts";
import type { OpHandler } from "./handler.ts";

/** The formats of `block`, as the protocol spells them: ggml, bitsandbytes, then OCP MX. */
export const BLOCK_FORMATS = [...GGML_FORMATS, ...BITSANDBYTES_FORMATS, ...MX_FORMATS] as const;

type BlockFormat = typeof BLOCK_FORMATS[number];

type Family = "ggml" | "bitsandbytes" | "mx";

function familyOf(format: BlockFormat): Family {
  if ((GGML_FORMATS as readonly string[]).includes(format)) return "ggml";
  if ((BITSANDBYTES_FORMATS as readonly string[]).includes(format)) return "bitsandbytes";
  return "mx";
}

/**
 * Reads `blockSize`: absent → the format's default (32 for ggml and MX, 64 for bitsandbytes);
 * not an integer, or outside the format's allowed set (only 32 for ggml and MX) → `E_ARG`, as the
 * protocol treats it as an enumeration.
 */
function readBlockSize(request: Record<string, unknown>, format: BlockFormat): number {
  const family = familyOf(format);
  const allowed = family === "bitsandbytes"
    ? BITSANDBYTES_BLOCK_SIZES
    : [family === "ggml" ? GGML_BLOCK_SIZE : MX_BLOCK_SIZE];
  const value = request["blockSize"];
  if (value === undefined) return family === "bitsandbytes" ? 64 : allowed[0]!;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw argError(`Argument "blockSize" must be an integer, got ${describe(value)}`);
  }
  if (!allowed.includes(value)) {
    throw argError(
      `Argument "blockSize" must be ${allowed.length === 1 ? "" : "one of "}${
        allowed.join(", ")
      } for ${format}, got ${show(value)}`,
    );
  }
  return value;
}

function ggmlBlockJson(block: GgmlBlock): { [key: string]: Json } {
  const json: { [key: string]: Json } = {
    scale: encodeNumber(block.scale),
    scaleBits: block.scaleBits,
    codes: block.codes,
  };
  if (block.min !== undefined && block.minBits !== undefined) {
    json["min"] = encodeNumber(block.min);
    json["minBits"] = block.minBits;
  }
  return json;
}

/**
 * `block`: quantize `x` to a block format; returns the blocks (scale, its bits, one code per
 * element) and the dequantized vector `y`. Faults in the protocol's order: `E_ARG` (format, x,
 * blockSize, MX scaleMode), `E_SHAPE` (length not a multiple of the block size), `E_LIMIT`,
 * `E_RANGE` (NaN or ±Infinity in x, NaN allowed in MX formats; a finite value beyond float32's
 * range rounds to ±Infinity and is refused the same way).
 */
export const blockOp: OpHandler = (request, context) => {
  const format = readEnum(request, "format", BLOCK_FORMATS);
  const x = readVector(request, "x");
  const blockSize = readBlockSize(request, format);
  const family = familyOf(format);
  // scaleMode is read only for MX; the other formats ignore it, whatever its value.
  const scaleMode = family === "mx"
    ? readEnum(request, "scaleMode", MX_SCALE_MODES, "floor")
    : undefined;
  checkBlockLength(x.length, blockSize, format);
  context.checkLimit();
  if (family === "ggml") {
    const { blocks, y } = quantizeGgml(x, format as "q8_0" | "q4_0" | "q4_1");
    return { blocks: blocks.map(ggmlBlockJson), y: encodeVector(y) };
  }
  const { blocks, y } = family === "bitsandbytes"
    ? quantizeBitsandbytes(x, format as "nf4" | "fp4-bnb", { blockSize })
    : quantizeMx(x, format as Exclude<BlockFormat, "q8_0" | "q4_0" | "q4_1" | "nf4" | "fp4-bnb">, {
      scaleMode: scaleMode ?? "floor",
    });
  return {
    blocks: blocks.map((b) => ({
      scale: encodeNumber(b.scale),
      scaleBits: b.scaleBits,
      codes: b.codes,
    })),
    y: encodeVector(y),
  };
};
