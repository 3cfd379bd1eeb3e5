/**
 * Progress bars for long steps: a bar redrawn in place on a terminal, plain lines otherwise
 * (start, every quarter, end) so that logs stay readable.
 *
 * @module
 */

/** One running step. */
export interface Progress {
  /** Reports the fraction done, in [0, 1]. */
  update(fraction: number): void;
  /** Ends the step, printing its wall time and an optional note. */
  done(note?: string): void;
}

const WIDTH = 28;
const encoder = new TextEncoder();

/**
 * Starts a progress report.
 *
 * @param label What runs.
 * @param options `tty`: draw a bar (@default `Deno.stdout.isTerminal()`); `write`: the sink
 * (@default stdout).
 * @returns The progress handle.
 */
export function startProgress(
  label: string,
  options: { tty?: boolean; write?: (text: string) => void } = {},
): Progress {
  const tty = options.tty ?? Deno.stdout.isTerminal();
  const write = options.write ?? ((text: string) => Deno.stdout.writeSync(encoder.encode(text)));
  const start = performance.now();
  let quarter = 0;
  let lastDraw = 0;
  if (!tty) write(`${label} ...\n`);
  return {
    update(fraction: number): void {
      const f = Math.min(1, Math.max(0, fraction));
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100 && f < 1) return;
        lastDraw = now;
        const filled = Math.round(f * WIDTH);
        write(
          `\r  ${label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${
            (f * 100).toFixed(0).padStart(3)
          }%`,
        );
      } else if (f >= (quarter + 1) / 4 && f < 1) {
        quarter = Math.floor(f * 4);
        write(`  ${label}: ${quarter * 25}%\n`);
      }
    },
    done(note?: string): void {
      const seconds = ((performance.now() - start) / 1000).toFixed(1);
      const tail = note ? ` — ${note}` : "";
      if (tty) write(`\r\x1b[2K  ${label}: done in ${seconds} s${tail}\n`);
      else write(`  ${label}: done in ${seconds} s${tail}\n`);
    },
  };
}
