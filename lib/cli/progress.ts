/**
 * A progress bar for `msrp send --file`, fed by the send's progress events
 * (octets written, octets confirmed by 200 responses or success REPORTs,
 * RFC 4975 §7.1.3, §7.1.4).
 *
 * On a terminal it redraws one line in place (at most ten times a second);
 * elsewhere (a pipe, a log file) it stays silent and the caller prints one
 * final line, so logs do not fill with carriage returns.
 *
 * @module
 */

/** What the bar shows. */
export interface ProgressState {
  /** Octets written to the connection. */
  readonly bytesSent: number;
  /** Octets the peer confirmed. */
  readonly bytesConfirmed: number;
  /** The total size, when known. */
  readonly size: number | undefined;
}

/**
 * A number of octets for people: `512 B`, `1.5 KiB`, `2.0 MiB`, `3.25 GiB`.
 *
 * @param n octets
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/**
 * One line of progress: a bar when the size is known, then the counts and
 * the rate, e.g. `[########------------]  40%  820.00 KiB / 2.00 MiB  5.1 MiB/s`.
 *
 * @param p the counts
 * @param seconds time since the start, for the rate
 * @param width the bar's width in characters
 */
export function formatProgress(p: ProgressState, seconds: number, width = 24): string {
  const rate = seconds > 0 ? `  ${formatBytes(Math.round(p.bytesSent / seconds))}/s` : "";
  if (p.size === undefined || p.size === 0) {
    return `${formatBytes(p.bytesSent)} sent, ${formatBytes(p.bytesConfirmed)} confirmed${rate}`;
  }
  const sent = Math.min(1, p.bytesSent / p.size);
  const confirmed = Math.min(1, p.bytesConfirmed / p.size);
  const full = Math.round(confirmed * width);
  const written = Math.max(0, Math.round(sent * width) - full);
  const bar = "#".repeat(full) + "=".repeat(written) + "-".repeat(width - full - written);
  const pct = `${Math.floor(confirmed * 100)}%`.padStart(4);
  return `[${bar}] ${pct}  ${formatBytes(p.bytesConfirmed)} / ${formatBytes(p.size)}${rate}`;
}

/** A progress bar drawn on a terminal line. */
export class ProgressBar {
  readonly #write: (text: string) => void;
  readonly #enabled: boolean;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #drawn = false;
  #last: ProgressState = { bytesSent: 0, bytesConfirmed: 0, size: undefined };

  /**
   * Makes a bar.
   *
   * @param write writes to the terminal (standard error)
   * @param enabled draw at all (only when standard error is a terminal)
   * @param now milliseconds, for throttling and the rate
   */
  constructor(
    write: (text: string) => void,
    enabled: boolean,
    now: () => number = performance.now.bind(performance),
  ) {
    this.#write = write;
    this.#enabled = enabled;
    this.#now = now;
    this.#start = now();
  }

  /** Seconds since the bar was made. */
  get elapsed(): number {
    return (this.#now() - this.#start) / 1000;
  }

  /**
   * New counts; redraws when drawing and 100 ms have passed since the last draw.
   *
   * @param p the counts
   */
  update(p: ProgressState): void {
    this.#last = p;
    if (!this.#enabled) return;
    const t = this.#now();
    const finished = p.size !== undefined && p.bytesConfirmed >= p.size;
    if (t - this.#lastDraw < 100 && !finished) return;
    this.#lastDraw = t;
    this.#write(`\r${formatProgress(p, this.elapsed)}\x1b[K`);
    this.#drawn = true;
  }

  /** Ends the bar's line (when one was drawn), so the next output starts clean. */
  finish(): void {
    if (!this.#drawn) return;
    this.#write(`\r${formatProgress(this.#last, this.elapsed)}\x1b[K\n`);
    this.#drawn = false;
  }
}
