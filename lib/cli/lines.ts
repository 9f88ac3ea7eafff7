/**
 * Lines of text from a byte stream, for `msrp chat` (one line typed, one
 * MSRP message sent: RFC 4975 §7.1, `text/plain`).
 *
 * Bytes are decoded as UTF-8; a line ends at LF, and a CR before the LF is
 * dropped. A last line without LF still counts. A line longer than
 * `maxLength` is cut into pieces of that length, so a stream without line
 * breaks cannot grow memory without bound.
 *
 * @module
 */

/**
 * Yields the lines of `stream` without their line ends.
 *
 * @param stream UTF-8 bytes, e.g. standard input
 * @param maxLength the longest line yielded whole (in UTF-16 code units); longer lines come in pieces
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  maxLength = 64 * 1024,
): AsyncGenerator<string, void, undefined> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        yield* cut(line.endsWith("\r") ? line.slice(0, -1) : line, maxLength);
      }
      while (pending.length > maxLength) {
        yield pending.slice(0, maxLength);
        pending = pending.slice(maxLength);
      }
    }
    if (pending !== "") {
      yield* cut(pending.endsWith("\r") ? pending.slice(0, -1) : pending, maxLength);
    }
  } finally {
    reader.releaseLock();
  }
}

function* cut(line: string, maxLength: number): Generator<string> {
  if (line.length <= maxLength) {
    yield line;
    return;
  }
  for (let i = 0; i < line.length; i += maxLength) yield line.slice(i, i + maxLength);
}
