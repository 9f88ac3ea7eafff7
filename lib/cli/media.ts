/**
 * File extensions and media types, both ways: `msrp send --file` picks a
 * Content-Type (RFC 4975 §7.1: every SEND with a body has one) from the
 * file's extension, and `msrp listen` names a file saved without a
 * Content-Disposition filename by its Message-ID plus the extension of its
 * media type.
 *
 * @module
 */

/** Media types by lower-case file extension. */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: "text/plain;charset=UTF-8",
  md: "text/markdown;charset=UTF-8",
  html: "text/html;charset=UTF-8",
  htm: "text/html;charset=UTF-8",
  csv: "text/csv;charset=UTF-8",
  json: "application/json",
  xml: "application/xml",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** The first extension listed for each media type (without parameters). */
const BY_TYPE: ReadonlyMap<string, string> = new Map(
  Object.entries(BY_EXTENSION).reverse().map(([ext, type]) => [type.split(";")[0], ext]),
);

/**
 * The media type for a file name by its extension, else `application/octet-stream`.
 *
 * @param name a file name or path
 */
export function contentTypeForFile(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  return BY_EXTENSION[ext] ?? "application/octet-stream";
}

/**
 * The usual file extension (without the dot) of a media type, or `undefined`.
 *
 * @param mediaType e.g. `text/plain` (parameters are ignored)
 */
export function extensionForType(mediaType: string): string | undefined {
  return BY_TYPE.get(mediaType.split(";")[0].trim().toLowerCase());
}
