// The web chat page: joins the room over /ws (one message is one line),
// shows what arrives as text, sends what is typed, says whether it is
// connected, reconnects with backoff, and shows how many are in the room.

import { toDisplayText } from "./escape.js";

const state = document.getElementById("state");
const count = document.getElementById("count");
const lines = document.getElementById("lines");
const form = document.getElementById("send");
const input = document.getElementById("line");

/** Lines kept on the page; older ones are removed. */
const MAX_SHOWN = 1000;
const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

let socket;
let retryMs = MIN_RETRY_MS;
let retryTimer;

function show(text, kind) {
  const item = document.createElement("li");
  item.className = kind;
  // Text, never markup: whatever a line holds, it cannot be HTML here.
  item.textContent = text;
  const atBottom =
    lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 4;
  lines.append(item);
  while (lines.children.length > MAX_SHOWN) lines.firstElementChild.remove();
  if (atBottom) lines.scrollTop = lines.scrollHeight;
}

function setState(name, text) {
  state.dataset.state = name;
  state.textContent = text;
  form.querySelector("button").disabled = name !== "connected";
}

function connect() {
  clearTimeout(retryTimer);
  setState("connecting", "connecting…");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    retryMs = MIN_RETRY_MS;
    setState("connected", "connected");
    refreshCount();
  };
  socket.onmessage = (event) => {
    const line = typeof event.data === "string"
      ? event.data
      : new Uint8Array(event.data);
    show(toDisplayText(line), "theirs");
  };
  socket.onclose = (event) => {
    const why = event.reason ? ` (${event.reason})` : "";
    const wait = retryMs * (0.8 + Math.random() * 0.4);
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    setState(
      "disconnected",
      `disconnected${why}; reconnecting in ${Math.ceil(wait / 1000)} s`,
    );
    retryTimer = setTimeout(connect, wait);
  };
}

async function refreshCount() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    const health = await response.json();
    count.textContent = health.clients === 1
      ? "1 in the room"
      : `${health.clients} in the room`;
  } catch {
    count.textContent = "";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (socket?.readyState !== WebSocket.OPEN || input.value === "") return;
  // A line cannot hold LF: a pasted block goes as one line per line.
  for (const line of input.value.split(/\r?\n/)) {
    socket.send(line);
    show(line, "mine");
  }
  input.value = "";
  input.focus();
});

setInterval(() => {
  if (socket?.readyState === WebSocket.OPEN) refreshCount();
}, 5000);
connect();
