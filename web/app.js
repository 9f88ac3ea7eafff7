// The web chat page's script. It uses only the browser bundle (`msrp.js`,
// written by `deno task build` from web/browser.ts):
// - sign in: MsrpEndpoint.start with the relay as its one relay, reached over
//   a WebSocket (RFC 7977 §8) and answered with Digest AUTH (RFC 4976 §5.1);
// - our address: the session's path, the relay's Use-Path then our URI (§5.1);
// - a chat is a session: started by connecting to a pasted path, or accepted
//   when a peer's first SEND binds our waiting session (RFC 4975 §5.4);
// - text with Success-Report: yes, marked delivered on the REPORT (§7.1.3);
// - typing status as RFC 3994 isComposing messages;
// - files sent with Content-Disposition: attachment (RFC 2183), received as
//   downloads.

// The bundle is loaded by URL (not a static import) so that type checks of
// the repository do not need it built.
const {
  buildIsComposing,
  ComposingIndicator,
  ComposingReceiver,
  formatContentDisposition,
  getContentDisposition,
  ISCOMPOSING_CONTENT_TYPE,
  MsrpEndpoint,
  paramValue,
  parseIsComposing,
} = await import(new URL("./msrp.js", import.meta.url).href);

/** Long enough to wait for peers as long as the page is open (a timer's maximum). */
const FOREVER_MS = 2147483647;
/**
 * Chunks of 64 KiB: one chunk per WebSocket message (RFC 7977 §5.1), well
 * under what the relay serving this page takes in one (its
 * websocket.maxMessageSize, 256 KiB by default); the library's 8 KiB default
 * through relays suits relays that drop larger frames.
 */
const CHUNK_BYTES = 64 * 1024;
/** Incoming texts longer than this are offered as downloads, not shown. */
const MAX_SHOWN_TEXT = 64 * 1024;

const $ = (id) => document.getElementById(id);
const state = { endpoint: undefined, waiting: undefined, chats: 0 };

function status(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

function describe(e) {
  return e instanceof Error ? e.message : String(e);
}

function defaultRelay() {
  const secure = location.protocol === "https:";
  const port = location.port || (secure ? "443" : "80");
  const host = location.hostname.includes(":") ? `[${location.hostname}]` : location.hostname;
  return `${secure ? "msrps" : "msrp"}://${host}:${port};ws`;
}

/** A random host name for our URIs: a browser has no address peers can reach (RFC 7977 §5.2.1). */
function randomHost() {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return [...bytes].map((b) => b.toString(36).padStart(2, "0")).join("") + ".invalid";
}

function fileNameOf(message) {
  try {
    const cd = getContentDisposition(message.headers);
    const name = cd === undefined ? undefined : paramValue(cd.params, "filename");
    if (name) return name.replace(/[\\/]/g, "_");
  } catch {
    // a malformed Content-Disposition: fall back to the Message-ID
  }
  return `${message.messageId}.bin`;
}

function isAttachment(message) {
  try {
    const cd = getContentDisposition(message.headers);
    return cd !== undefined &&
      (cd.type === "attachment" || paramValue(cd.params, "filename") !== undefined);
  } catch {
    return false;
  }
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------
// One chat: a session, its log, its composer.

function openChat(session, title) {
  const id = ++state.chats;
  const node = $("chat-template").content.firstElementChild.cloneNode(true);
  node.id = `chat-${id}`;
  node.setAttribute("aria-labelledby", `chat-${id}-title`);
  const heading = node.querySelector(".chat-title");
  heading.id = `chat-${id}-title`;
  heading.textContent = title;
  const log = node.querySelector(".log");
  const typing = node.querySelector(".typing");
  const text = node.querySelector(".text");
  text.id = `chat-${id}-text`;
  node.querySelector(".compose label").htmlFor = text.id;
  const fileInput = node.querySelector(".file");
  $("chats").prepend(node);

  const add = (cls, content) => {
    const li = document.createElement("li");
    li.className = cls;
    if (typeof content === "string") li.textContent = content;
    else li.append(...content);
    log.append(li);
    log.scrollTop = log.scrollHeight;
    return li;
  };
  const mark = (text, cls = "") => {
    const span = document.createElement("span");
    span.className = `mark ${cls}`;
    span.textContent = text;
    return span;
  };
  const settle = (span, promise) =>
    promise.then(
      (r) => {
        span.textContent = r.confirmedBy === "report" ? "✓ delivered" : "✓ sent";
        span.classList.add("delivered");
      },
      (e) => {
        span.textContent = `✗ not delivered: ${describe(e)}`;
        span.classList.add("failed");
      },
    );

  // RFC 3994: our typing status, sent as isComposing messages.
  const composing = new ComposingIndicator({
    contentType: "text/plain",
    send: (doc) => {
      session.send(buildIsComposing(doc), { contentType: ISCOMPOSING_CONTENT_TYPE })
        .catch(() => {});
    },
  });
  const peerTyping = new ComposingReceiver({
    onChange: (s) => (typing.textContent = s === "active" ? "The peer is typing…" : ""),
  });
  text.addEventListener("input", () => {
    if (text.value !== "") composing.typing();
  });

  node.querySelector(".compose").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = text.value;
    if (body === "" || session.ended) return;
    text.value = "";
    composing.messageSent();
    const span = mark("sending…");
    add("out", [document.createTextNode(body), span]);
    settle(
      span,
      session.send(body, { contentType: "text/plain;charset=UTF-8", successReport: true }),
    );
  });

  node.querySelector(".file-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const file = fileInput.files?.[0];
    if (file === undefined || session.ended) return;
    fileInput.value = "";
    const bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `sending ${file.name}`);
    const span = mark("sending…");
    add("out", [document.createTextNode(`📎 ${file.name} (${formatBytes(file.size)})`), span, bar]);
    const sent = session.send(file, {
      contentType: file.type || "application/octet-stream",
      size: file.size,
      successReport: true,
      headers: [[
        "Content-Disposition",
        formatContentDisposition({ type: "attachment", params: [["filename", file.name]] }),
      ]],
      onProgress: (p) => (bar.value = p.bytesConfirmed),
    });
    settle(
      span,
      sent.then((r) => {
        bar.value = bar.max;
        return r;
      }),
    );
  });

  node.querySelector(".end-chat").addEventListener("click", () => session.close());

  // Incoming messages, as they start.
  (async () => {
    for await (const m of session.messages()) {
      if (m.duplicate) {
        m.stream().cancel().catch(() => {});
        continue;
      }
      if (m.contentType.toLowerCase().startsWith(ISCOMPOSING_CONTENT_TYPE)) {
        try {
          peerTyping.statusReceived(parseIsComposing(await m.text()));
        } catch {
          // a malformed status is ignored (RFC 3994 §3.3)
        }
        continue;
      }
      peerTyping.contentReceived();
      const isText = m.contentType.toLowerCase().startsWith("text/") && !isAttachment(m) &&
        (m.size === undefined || m.size <= MAX_SHOWN_TEXT);
      if (isText) {
        m.text().then((t) => add("in", t), (e) => add("note", `a message was cut: ${describe(e)}`));
        continue;
      }
      const name = fileNameOf(m);
      const bar = document.createElement("progress");
      bar.max = m.size ?? 1;
      bar.value = 0;
      bar.setAttribute("aria-label", `receiving ${name}`);
      const label = document.createTextNode(
        `📎 ${name}${m.size === undefined ? "" : ` (${formatBytes(m.size)})`} `,
      );
      const li = add("in file", [label, bar]);
      const parts = [];
      let got = 0;
      m.stream().pipeTo(
        new WritableStream({
          write(chunk) {
            parts.push(chunk);
            got += chunk.byteLength;
            bar.value = got;
          },
        }),
      ).then(() => {
        const link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob(parts, { type: m.contentType }));
        link.download = name;
        link.textContent = "Download";
        bar.remove();
        li.append(link);
      }, (e) => {
        bar.remove();
        li.append(mark(`✗ incomplete: ${describe(e)}`, "failed"));
      });
    }
  })();

  session.closed.then((end) => {
    composing.close();
    peerTyping.close();
    typing.textContent = "";
    add("note", end.error === undefined ? "Chat ended." : `Chat ended: ${describe(end.error)}`);
    for (const el of node.querySelectorAll("input, .send, .send-file")) el.disabled = true;
    node.querySelector(".end-chat").remove();
  });
  return node;
}

// ---------------------------------------------------------------------------
// Waiting for peers: one session on our address at a time (as `msrp listen`).

function waitForPeer(like) {
  const endpoint = state.endpoint;
  if (endpoint === undefined) return;
  const session = endpoint.createSession(like === undefined ? {} : { localUri: like.localUri });
  state.waiting = session;
  endpoint.accept(session, [], { timeout: FOREVER_MS }).then(
    () => {
      const peer = session.remotePath.at(-1)?.toString() ?? "a peer";
      openChat(session, `Chat with ${peer}`);
      status(`${peer} started a chat.`);
      waitForPeer(session);
    },
    () => relink(endpoint),
  );
}

/** Shows our address: the waiting session's path (RFC 4976 §5.1). */
function showAddress() {
  const path = state.endpoint.path(state.waiting);
  const address = path.join(" ");
  $("my-address").value = address;
  // The relay's TCP URI: the first URI of our path without its session id.
  const relayTcp = String(path[0]).replace(/\/[^/;]*;/, ";");
  $("cli-hint").textContent = `msrp send --relay ${relayTcp} --user <name> --to '${address}' hello`;
}

/**
 * The waiting session ended: signed out, or the relay connection was lost.
 * In the second case the endpoint links again on its own (backing off); then
 * we wait on a new address, which the relay hands out with the new AUTH.
 */
async function relink(endpoint) {
  while (state.endpoint === endpoint) {
    status("The connection to the relay was lost; reconnecting…", true);
    try {
      await endpoint.whenReady();
      if (state.endpoint !== endpoint) return;
      waitForPeer();
      showAddress();
      status("Reconnected to the relay. Your address has changed.");
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// ---------------------------------------------------------------------------
// Sign in, sign out, start a chat.

$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const button = $("signin-button");
  button.disabled = true;
  status("Signing in…");
  try {
    const endpoint = await MsrpEndpoint.start({
      host: randomHost(),
      webSocket: true,
      session: { chunking: { maxChunkSize: CHUNK_BYTES } },
      relays: [{
        uri: $("relay").value.trim(),
        username: $("user").value,
        password: $("password").value,
      }],
    });
    state.endpoint = endpoint;
    waitForPeer();
    showAddress();
    $("me-user").textContent = $("user").value;
    $("signin").hidden = true;
    $("me").hidden = false;
    $("start").hidden = false;
    document.body.dataset.signedIn = "yes";
    status(`Signed in as ${$("user").value}.`);
    $("peer-address").focus();
  } catch (e) {
    status(`Sign-in failed: ${describe(e)}`, true);
  } finally {
    button.disabled = false;
  }
});

$("copy-address").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("my-address").value);
    status("Address copied.");
  } catch {
    $("my-address").select();
    status("Select the address and copy it.");
  }
});

$("signout").addEventListener("click", async () => {
  const endpoint = state.endpoint;
  state.endpoint = undefined;
  await endpoint?.close();
  $("signin").hidden = false;
  $("me").hidden = true;
  $("start").hidden = true;
  delete document.body.dataset.signedIn;
  status("Signed out.");
});

$("start-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const endpoint = state.endpoint;
  if (endpoint === undefined) return;
  const path = $("peer-address").value.trim().split(/\s+/);
  const button = $("start-button");
  button.disabled = true;
  status("Connecting…");
  const session = endpoint.createSession();
  try {
    await endpoint.connect(session, path);
    $("peer-address").value = "";
    openChat(session, `Chat with ${path.at(-1)}`).querySelector(".text").focus();
    status("Connected.");
  } catch (e) {
    session.close();
    status(`Cannot start the chat: ${describe(e)}`, true);
  } finally {
    button.disabled = false;
  }
});

// Prefill from the query string (?user=alice), and the relay from where the page came from.
const query = new URLSearchParams(location.search);
$("relay").value = query.get("relay") ?? defaultRelay();
if (query.has("user")) $("user").value = query.get("user");
document.body.dataset.ready = "yes";
