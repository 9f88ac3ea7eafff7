/**
 * The offer/answer exchange for MSRP (RFC 3264 §6; RFC 4975 §8.5, §8.6;
 * RFC 4145 §4.1 and RFC 6135 §4.2 for who connects; RFC 5547 §8.3 for file
 * transfer; RFC 6714 §4.3 for CEMA).
 *
 * One side sends an SDP offer, the other answers it (usually in SIP):
 *
 * - The answer mirrors the offer's direction (RFC 3264 §6.1): an offer
 *   `sendonly` is answered `recvonly`, narrowed by what the answerer wants.
 * - The answer lists accept-types the offer also lists; with none in common
 *   the offer is rejected (RFC 4975 §8.6; in SIP with 488).
 * - Who opens the TCP connection: in RFC 4975 (§8.5) always the offerer.
 *   RFC 6135 lets `a=setup` (RFC 4145) choose: the offerer says `actpass`
 *   (either way) or `active` (I connect), never `passive`; the answerer
 *   picks `active` or `passive`. See {@linkcode answerSetup} and
 *   {@linkcode whoConnects}.
 * - A rejected stream has port 0 (RFC 3264 §6); for a file transfer the
 *   rejected answer still mirrors the file selector and transfer id
 *   (RFC 5547 §8.3).
 *
 * @module
 */

import { MsrpError } from "../errors.ts";
import type { FileSelector, FileTransferAttributes } from "./file_transfer.ts";
import { intersectAcceptTypes } from "./media_types.ts";
import type { Direction, MsrpMedia, SetupRole } from "./msrp_media.ts";
import { buildMsrpSdp, defaultHost, type MsrpSdpOptions } from "./msrp_sdp_builder.ts";

/** Options for {@linkcode makeOffer}. */
export interface OfferOptions extends MsrpSdpOptions {
  /**
   * Follow RFC 6135 (default true): always write `a=setup`, `actpass`
   * unless `setup` says `active`. False writes an RFC 4975 offer without
   * `a=setup` (the offerer then connects, §8.5).
   */
  comedia?: boolean;
}

/**
 * Builds an SDP offer for an MSRP session (RFC 4975 §8, RFC 6135 §4.2.2).
 *
 * With COMEDIA (the default) the offer says `a=setup:actpass` when this
 * side can accept a connection and `active` when it cannot (behind a NAT).
 * RFC 6135 forbids `passive` and `holdconn` in an offer.
 *
 * @param local what this side advertises
 * @returns the SDP offer text
 * @throws {MsrpError} `bad-setup-offer` for `passive` or `holdconn`
 *
 * @example An SDP offer for one MSRP session
 * ```ts
 * import { makeOffer } from "@msrp/msrp/payload";
 *
 * const offer = makeOffer({
 *   path: ["msrp://alice.example.com:7777/iau39;tcp"],
 *   acceptTypes: ["text/plain", "message/cpim"],
 * });
 * ```
 */
export function makeOffer(local: OfferOptions): string {
  const comedia = local.comedia ?? true;
  if (local.setup === "passive" || local.setup === "holdconn") {
    // RFC 6135 §4.2.2: "The UA MUST NOT use the a=setup "passive" attribute value in an SDP
    // offer." §4.2.1: "An MSRP UA MUST NOT send the "holdconn" attribute value."
    throw new MsrpError(
      "bad-setup-offer",
      `an MSRP offer may not say a=setup:${local.setup} (RFC 6135 §4.2)`,
    );
  }
  const setup = comedia ? local.setup ?? "actpass" : undefined;
  return buildMsrpSdp({ ...local, setup });
}

/** Options for {@linkcode makeAnswer}. */
export interface AnswerOptions extends Omit<MsrpSdpOptions, "setup" | "direction" | "cema"> {
  /**
   * The role this side prefers when the offer leaves the choice
   * (`actpass`). RFC 6135 §4.2.2: answer `passive` when not behind a NAT
   * (the default), `active` when behind one.
   */
  setup?: "active" | "passive";
  /** What this side wants to do; combined with the offer's direction (RFC 3264 §6.1). */
  direction?: Direction;
  /** Follow RFC 6135 and write `a=setup` (default true). */
  comedia?: boolean;
  /** Reject the stream: port 0 (RFC 3264 §6), mirroring the RFC 5547 file attributes. */
  reject?: boolean;
  /**
   * Answer only the accept-types that the offer also lists (default true),
   * as RFC 4976 §11 shows. When nothing is common the answer fails with
   * `no-common-types` (RFC 4975 §8.6 says to reject the offer, in SIP with 488).
   */
  intersectAcceptTypes?: boolean;
  /** This side supports CEMA (RFC 6714); `a=msrp-cema` is answered when the offer has it. */
  cema?: boolean;
}

/**
 * The answerer's `a=setup` for an offer (RFC 4145 §4.1, RFC 6135 §4.2).
 *
 * | offer                          | answer                  |
 * | ------------------------------ | ----------------------- |
 * | (none), `holdconn`, `active`   | `passive`               |
 * | `passive`                      | `active`                |
 * | `actpass`                      | preference, `passive` by default |
 *
 * `holdconn` is treated as absent (RFC 6135 §4.2.1) and an absent setup as
 * the RFC 4975 offerer that always connects (RFC 4145 §4.1 default).
 *
 * @param offerSetup the offer's setup, if any
 * @param preference what this side prefers when the offer leaves the choice
 * @returns the setup to answer with
 *
 * @example The a=setup of an answer (RFC 4145 §4.1)
 * ```ts
 * import { answerSetup } from "@msrp/msrp/payload";
 *
 * console.log(answerSetup("actpass")); // "passive" unless we prefer to connect
 * console.log(answerSetup("passive")); // "active"
 * ```
 */
export function answerSetup(
  offerSetup: SetupRole | undefined,
  preference?: "active" | "passive",
): "active" | "passive" {
  switch (offerSetup) {
    case "passive":
      return "active";
    case "actpass":
      return preference ?? "passive";
    default:
      return "passive";
  }
}

/** The answer's direction given the offer's and this side's wish (RFC 3264 §6.1). */
function answerDirection(offer: Direction, wish: Direction): Direction {
  const offerSends = offer === "sendrecv" || offer === "sendonly";
  const offerReceives = offer === "sendrecv" || offer === "recvonly";
  const wishSends = wish === "sendrecv" || wish === "sendonly";
  const wishReceives = wish === "sendrecv" || wish === "recvonly";
  const send = wishSends && offerReceives;
  const receive = wishReceives && offerSends;
  return send ? (receive ? "sendrecv" : "sendonly") : (receive ? "recvonly" : "inactive");
}

/**
 * Builds the SDP answer to an MSRP offer (RFC 3264 §6, RFC 4975 §8,
 * RFC 6135 §4.2, RFC 5547 §8.3, RFC 6714 §4.3).
 *
 * - `a=setup` from {@linkcode answerSetup} (unless `comedia: false`).
 * - direction: the offer's mirrored (sendonly → recvonly, ...), narrowed
 *   by `local.direction`; written only when it is not `sendrecv`.
 * - accept-types: those of `local` the offer also lists (see
 *   `intersectAcceptTypes`).
 * - RFC 5547: `a=file-transfer-id` is copied; for a push offer (sendonly)
 *   the `a=file-selector` and `a=file-range` are copied and no
 *   icon/disposition/date is written; for a pull offer (recvonly) the
 *   selector comes from `local.file` (else the offer's), with the range
 *   copied. A rejected answer mirrors selector and transfer id.
 * - `a=msrp-cema` when the offer has it, `local.cema` is set, and none of
 *   the RFC 6714 §4.3 fall-back cases holds.
 *
 * @param offer the offer's MSRP media, from {@linkcode parseMsrpMedia}
 * @param local what this side advertises
 * @returns the SDP answer text
 * @throws {MsrpError} `no-common-types` when no offered type is acceptable
 *
 * @example Answer an offer (RFC 4975 §8.5, RFC 6135)
 * ```ts
 * import { makeAnswer, makeOffer, parseMsrpMedia } from "@msrp/msrp/payload";
 *
 * const offer = makeOffer({ path: ["msrp://alice.example.com:7777/iau39;tcp"], acceptTypes: ["*"] });
 * const answer = makeAnswer(parseMsrpMedia(offer), {
 *   path: ["msrp://bob.example.com:8888/9di4ea;tcp"],
 *   acceptTypes: ["text/plain"],
 * });
 * ```
 */
export function makeAnswer(offer: MsrpMedia, local: AnswerOptions): string {
  const comedia = local.comedia ?? true;
  const address = local.address ?? defaultHost({ ...local, cema: false });
  const selector = offer.attributes.find((a) => a.name === "file-selector");
  // The offer's selector, copied as written so that the answer mirrors it exactly.
  const mirroredSelector: FileSelector | string | undefined = selector === undefined
    ? undefined
    : selector.value ?? { hashes: [] };
  const isFileTransfer = selector !== undefined || offer.fileTransferId !== undefined;

  if (local.reject === true || offer.rejected) {
    // RFC 3264 §6: port 0. RFC 5547 §8.3: "The rejected answer MUST contain a
    // 'file-selector' and 'file-transfer-id' attributes whose values mirror [...] the offer."
    return buildMsrpSdp({
      ...local,
      address,
      port: 0,
      transport: offer.transport,
      path: [],
      acceptTypes: [],
      acceptWrappedTypes: [],
      maxSize: undefined,
      setup: undefined,
      direction: undefined,
      cema: false,
      fingerprints: undefined,
      information: undefined,
      file: isFileTransfer
        ? { selector: mirroredSelector, transferId: offer.fileTransferId }
        : undefined,
    });
  }

  let acceptTypes = [...local.acceptTypes];
  if (local.intersectAcceptTypes ?? true) {
    acceptTypes = intersectAcceptTypes(offer.acceptTypes, local.acceptTypes);
    if (acceptTypes.length === 0) {
      throw new MsrpError(
        "no-common-types",
        `none of the offered types (${offer.acceptTypes.join(" ")}) is acceptable here; ` +
          "reject the offer (in SIP with 488, RFC 4975 §8.6)",
      );
    }
  }

  let file: FileTransferAttributes | undefined;
  if (isFileTransfer) {
    if (offer.direction === "recvonly") {
      // Pull (RFC 5547 §8.3.2): this side sends the file and may describe it (type, hash,
      // icon, disposition); the transfer id and the range are copied.
      file = {
        selector: local.file?.selector ?? mirroredSelector,
        transferId: offer.fileTransferId,
        disposition: local.file?.disposition,
        icon: local.file?.icon,
        range: offer.fileRange,
      };
    } else {
      // Push (RFC 5547 §8.3.1): copy the selector, the id and the range; "The file receiver
      // MUST NOT include 'file-icon', 'file-disposition', or 'file-date' attributes".
      file = {
        selector: mirroredSelector,
        transferId: offer.fileTransferId,
        range: offer.fileRange,
      };
    }
  }

  // CEMA (RFC 6714 §4.3): fall back to RFC 4975 behaviour in three cases.
  const offerRelay = offer.path.length > 1;
  const localRelay = local.path.length > 1;
  const cema = offer.cema && local.cema === true &&
    !(offerRelay && localRelay) &&
    !(offerRelay && offer.setup === "active") &&
    !(localRelay && offer.setup === "passive");

  const direction = answerDirection(offer.direction, local.direction ?? "sendrecv");
  return buildMsrpSdp({
    ...local,
    address: local.address ?? defaultHost({ ...local, cema }),
    acceptTypes,
    setup: comedia ? answerSetup(offer.setup, local.setup) : undefined,
    direction: direction === "sendrecv" ? undefined : direction,
    cema,
    file,
  });
}

/** The parts of an MSRP media description that decide who connects. */
export interface SetupInfo {
  /** The `a=setup` value, if any. */
  setup?: SetupRole;
  /** True when the stream was rejected (port 0). */
  rejected?: boolean;
}

/**
 * Which side opens the TCP (or TLS) connection once the offer and answer
 * are known (RFC 4975 §8.5, RFC 4145 §4.1, RFC 6135 §4.2).
 *
 * - An answer without `a=setup` comes from an RFC 4975 answerer: the
 *   offerer connects (§8.5), which needs the offer to be able to (not
 *   `passive`).
 * - `holdconn` on either side counts as absent (RFC 6135 §4.2.1).
 * - An answer `active` makes the answerer connect; it needs an offer of
 *   `passive` or `actpass` (an offer without `a=setup` is an RFC 4975
 *   offerer that will connect itself).
 * - An answer `passive` makes the offerer connect; it needs an offer of
 *   `active`, `actpass` or none.
 *
 * Behind an MSRP relay a client always connects to its relay, whatever
 * the negotiation says (RFC 6135 §4.5); this tells who sends the first
 * SEND that binds the session.
 *
 * @param offer the offer's media (its `setup`)
 * @param answer the answer's media (its `setup`)
 * @returns `"offerer"` or `"answerer"`
 * @throws {MsrpError} `stream-rejected`, `bad-setup-answer` (an answer may not say actpass),
 *   `setup-conflict` (both sides active or both passive)
 *
 * @example Which side opens the connection
 * ```ts
 * import { whoConnects } from "@msrp/msrp/payload";
 *
 * console.log(whoConnects({ setup: "actpass" }, { setup: "passive" })); // "offerer"
 * ```
 */
export function whoConnects(offer: SetupInfo, answer: SetupInfo): "offerer" | "answerer" {
  if (offer.rejected || answer.rejected) {
    throw new MsrpError(
      "stream-rejected",
      "the MSRP stream was rejected (port 0): nobody connects",
    );
  }
  const off = offer.setup === "holdconn" ? undefined : offer.setup;
  const ans = answer.setup === "holdconn" ? undefined : answer.setup;
  if (ans === "actpass") {
    throw new MsrpError(
      "bad-setup-answer",
      "an answer must choose active or passive, not actpass (RFC 4145 §4.1)",
    );
  }
  if (ans === "active") {
    if (off === "passive" || off === "actpass") return "answerer";
    throw new MsrpError(
      "setup-conflict",
      `the offer says ${off ?? "nothing (the offerer connects)"} and the answer says active: ` +
        "both sides would connect (RFC 4145 §4.1)",
    );
  }
  // Answer passive, or no answer setup (RFC 4975 answerer: the offerer connects).
  if (off === "passive") {
    throw new MsrpError(
      "setup-conflict",
      `the offer says passive and the answer says ${ans ?? "nothing (RFC 4975: passive)"}: ` +
        "nobody would connect (RFC 4145 §4.1)",
    );
  }
  return "offerer";
}
