/**
 * Saving received messages to files, for `msrp listen --save`.
 *
 * The file is named by the message's `Content-Disposition` filename
 * parameter (RFC 2183 §2.3, as RFC 4975 §7.1 allows on SEND requests; RFC
 * 5547 file transfer uses it the same way) or else by its Message-ID
 * (§7.1.1) with the usual extension of its media type. A name from the
 * network is never trusted as a path: only its last component is kept,
 * control characters and characters that are special on common file
 * systems are replaced, and `.`/`..` are refused
 * (RFC 2183 §5: "the receiving MUA SHOULD NOT respect any directory path
 * information"). An existing file is never overwritten: `name-1.ext`,
 * `name-2.ext`... are tried instead.
 *
 * The body is streamed to disk as it arrives (`IncomingMessage.stream()`),
 * so a large file never sits whole in memory. If the message ends aborted
 * (`#`, §7.1) or cut off, the partial file is removed.
 *
 * @module
 */

import { join } from "node:path";
import type { IncomingMessage } from "../session/reassembly.ts";
import { getContentDisposition, paramValue } from "../wire/headers.ts";
import { extensionForType } from "./media.ts";

/** The longest file name kept (in UTF-16 code units), extension included. */
const MAX_NAME = 200;

/**
 * A file name that is safe to create in a directory, from an untrusted name;
 * `undefined` when nothing usable is left.
 *
 * @param name a name from the network, e.g. a Content-Disposition filename
 */
export function safeFileName(name: string): string | undefined {
  // Only the last path component (RFC 2183 §5), for both separators.
  let base = name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
  // deno-lint-ignore no-control-regex
  base = base.replace(/[\x00-\x1f\x7f<>:"|?*]/g, "_").trim();
  base = base.replace(/^\.+/, (dots) => "_".repeat(dots.length)); // no hidden files, no "..", no "."
  if (base === "" || /^_+$/.test(base)) return undefined;
  if (base.length > MAX_NAME) {
    const dot = base.lastIndexOf(".");
    const ext = dot > 0 && base.length - dot <= 16 ? base.slice(dot) : "";
    base = base.slice(0, MAX_NAME - ext.length) + ext;
  }
  return base;
}

/**
 * The name a message is saved under: its Content-Disposition filename when
 * present and usable, else its Message-ID.
 *
 * @param message the received message
 */
export function fileNameFor(message: IncomingMessage): string {
  let fromDisposition: string | undefined;
  try {
    const cd = getContentDisposition(message.headers);
    const filename = cd === undefined ? undefined : paramValue(cd.params, "filename");
    if (filename !== undefined) fromDisposition = safeFileName(filename);
  } catch {
    // a malformed Content-Disposition: fall back to the Message-ID
  }
  if (fromDisposition !== undefined) return fromDisposition;
  const ext = extensionForType(message.contentType);
  return (safeFileName(message.messageId) ?? "message") + (ext === undefined ? "" : "." + ext);
}

/**
 * Whether the message names a file (Content-Disposition `attachment`, or a
 * `filename` parameter): such a message is saved, not printed.
 *
 * @param message the received message
 */
export function isAttachment(message: IncomingMessage): boolean {
  try {
    const cd = getContentDisposition(message.headers);
    return cd !== undefined &&
      (cd.type === "attachment" || paramValue(cd.params, "filename") !== undefined);
  } catch {
    return false;
  }
}

/**
 * Creates `name` in `dir`, or `stem-1.ext`, `stem-2.ext`... when it exists.
 *
 * @param dir the directory
 * @param name the preferred file name (already safe)
 * @returns the open file and its path
 */
export async function createUnique(
  dir: string,
  name: string,
): Promise<{ file: Deno.FsFile; path: string }> {
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let i = 0;; i++) {
    const path = join(dir, i === 0 ? name : `${stem}-${i}${ext}`);
    try {
      return { file: await Deno.open(path, { write: true, createNew: true }), path };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists) || i >= 9999) throw e;
    }
  }
}

/**
 * Streams a message's body into a new file in `dir`. Resolves once the
 * whole body is on disk; if the message ends incomplete the partial file is
 * removed and the error (an `IncompleteMessageError`) is thrown.
 *
 * @param message the received message
 * @param dir the directory to save into
 * @param body the body, when reading it has begun elsewhere; default `message.stream()`
 * @returns where it was saved and how many octets were written
 */
export async function saveMessage(
  message: IncomingMessage,
  dir: string,
  body?: ReadableStream<Uint8Array>,
): Promise<{ path: string; bytes: number }> {
  const { file, path } = await createUnique(dir, fileNameFor(message));
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.length;
      controller.enqueue(chunk);
    },
  });
  try {
    await (body ?? message.stream()).pipeThrough(counter).pipeTo(file.writable);
  } catch (e) {
    try {
      file.close();
    } catch {
      // pipeTo closed it already
    }
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  return { path, bytes };
}
