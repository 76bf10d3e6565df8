// The server as a user runs it, with its stdout a pipe nobody reads (a
// paused `| less`, Ctrl-S, a stuck log shipper): the log fills the pipe and
// then its own buffer, and from there on lines are dropped; the room must
// keep chatting, accepting and stopping as if nothing happened.

import { equal, fail, match, ok } from "node:assert/strict";
import net from "node:net";
import { type ChatClient, connect } from "../client/chat_client.ts";
import { freePort } from "../lib/free_port.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
/** Clients that connect and leave: ~700 KB of log, far beyond the pipe. */
const CHURN = 3000;
/** Clients connecting and leaving at once. */
const BATCH = 50;
/** Connects and leaves between two chat probes. */
const PROBE_EVERY = 250;
/** How long a probe line may take; a frozen server never delivers it. */
const PROBE_TIMEOUT_MS = 5000;
/** A whole text log line: time, event, `key=value` fields (some quoted). */
const LOG_LINE = /^\S+Z [a-z-]+( [a-z_]+=("([^"\\]|\\.)*"|[^\s"=]+))*$/;

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
async function within<T>(
  ms: number,
  what: string,
  promise: Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: nothing after ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Connects, waits for the handshake, and closes at once with a FIN. */
async function connectAndClose(port: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.close();
}

/**
 * Connects and resets (an RST, as with linger 0) as soon as the handshake
 * is done, often before the server has accepted: an `accept-error` then.
 */
function connectAndReset(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.resetAndDestroy();
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve());
  });
}

/** Waits until the server accepts a connection. */
async function waitListening(port: number, child: Deno.ChildProcess) {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 20_000;
  while (true) {
    try {
      await connectAndClose(port);
      return;
    } catch {
      if (exited) fail("the server exited before it listened");
      if (Date.now() > deadline) fail(`nothing listens on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** `from` sends a line; each of `to` must receive exactly it, in time. */
async function probe(from: ChatClient, to: ChatClient[], text: string) {
  await from.send(text);
  for (const client of to) {
    const line = await client.readLine({ timeoutMs: PROBE_TIMEOUT_MS })
      .catch((error) =>
        fail(`server frozen? "${text}" not relayed: ${error.message}`)
      );
    equal(line?.text, text);
  }
}

/**
 * Waits until `a` and `b` are both in the room: `connect` resolves at the
 * TCP handshake, before the server has admitted the client, so a line sent
 * at once may find the other not admitted yet.
 */
async function join(a: ChatClient, b: ChatClient): Promise<void> {
  const end = Date.now() + PROBE_TIMEOUT_MS;
  for (let k = 1; Date.now() < end; k++) {
    await b.send(`join ${k}`);
    const line = await a.readLine({ timeoutMs: 200 }).catch(() => null);
    if (line?.text.startsWith("join ")) {
      // Late copies of earlier tries come before this one.
      await b.send("joined");
      while (
        (await a.readLine({ timeoutMs: PROBE_TIMEOUT_MS }))?.text !== "joined"
      );
      return;
    }
  }
  fail("server frozen? a and b never both joined");
}

Deno.test("stdout never read: thousands of connects and leaves, the room keeps chatting, SIGTERM still exits 0", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", String(port)],
    stdin: "null",
    stdout: "piped", // and never read while the server runs
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const clients: ChatClient[] = [];
  let stopped = false;
  try {
    await waitListening(port, child);
    const a = await connect({ port });
    const b = await connect({ port });
    clients.push(a, b);
    await join(a, b);
    await probe(a, [b], "before");

    for (let done = 0; done < CHURN; done += BATCH) {
      await within(
        PROBE_TIMEOUT_MS,
        `server frozen? connects ${done}..${done + BATCH}`,
        Promise.all(
          Array.from(
            { length: BATCH },
            (_, i) => i % 2 ? connectAndClose(port) : connectAndReset(port),
          ),
        ),
      );
      if ((done + BATCH) % PROBE_EVERY === 0) {
        const [from, to] = done % (2 * PROBE_EVERY) === 0 ? [a, b] : [b, a];
        await probe(from, [to], `after ${done + BATCH} connects`);
      }
    }

    // Accepts still work: a newcomer joins and chats.
    const c = await connect({ port });
    clients.push(c);
    await probe(c, [a, b], "newcomer");

    child.kill("SIGTERM");
    const status = await within(
      10_000,
      "SIGTERM with stdout blocked",
      child.status,
    );
    stopped = true;
    equal(status.code, 0);
    for (const client of clients) {
      equal(await client.readLine({ timeoutMs: PROBE_TIMEOUT_MS }), null);
    }
  } finally {
    for (const client of clients) client.close();
    if (!stopped) {
      child.kill("SIGKILL");
      await child.status;
    }
    const err = await stderr;
    // Only now, with the server gone, is its stdout read: to check that it
    // really was blocked (the summary never got through) and that what did
    // get through is whole log lines.
    const out = await new Response(child.stdout).text();
    if (stopped) {
      equal(err, "");
      const lines = out.split("\n").slice(0, -1); // the last may be cut
      match(lines[0], /^\S+ listening addr=127\.0\.0\.1:\d+ /);
      for (const line of lines) match(line, LOG_LINE);
      ok(
        !out.includes(" shutdown "),
        `stdout was not blocked (${out.length} bytes got out): the test ` +
          "proved nothing",
      );
    }
  }
});
