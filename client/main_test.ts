// The terminal client as a user runs it, piped and on a real terminal.

import { freePort } from "../lib/free_port.ts";
import { deepEqual, equal, match } from "node:assert/strict";
import { startServer, waitFor } from "../server/_testing.ts";
import { testWithTools } from "../_testing/tools.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

function client(args: string[], stdin: "piped" | "null" = "piped") {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("piped: sends every input line byte for byte, prints what arrives, exits 0", async () => {
  await using t = await startServer();
  const [other] = await t.clients(1);
  const child = client([`127.0.0.1:${t.port}`]);
  await waitFor(() => t.server.clientCount === 2, "the client to join");
  await other.send("welcome");
  const writer = child.stdin.getWriter();
  await writer.write(
    Uint8Array.of(0x61, 0x0a, 0x00, 0xff, 0x0d, 0x0a, 0x6c, 0x61, 0x73, 0x74),
  );
  // Wait for the relay before ending the input, so "welcome" is printed.
  deepEqual(
    (await other.readLine({ timeoutMs: 5000 }))?.bytes,
    Uint8Array.of(0x61),
  );
  await writer.close();
  const out = await child.output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  equal(new TextDecoder().decode(out.stdout), "welcome\n");
  deepEqual(
    (await other.readLine({ timeoutMs: 5000 }))?.bytes,
    Uint8Array.of(0x00, 0xff),
  );
  equal((await other.readLine({ timeoutMs: 5000 }))?.text, "last");
});

Deno.test("ws://: the piped client joins over WebSocket and chats with a TCP client", async () => {
  await using t = await startServer({ httpPort: 0 });
  const [other] = await t.clients(1);
  const child = client([`ws://127.0.0.1:${t.server.httpAddr!.port}/ws`]);
  await waitFor(() => t.server.clientCount === 2, "the client to join");
  equal(t.server.clientsByKind.ws, 1);
  await other.send("to the web");
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("from the web\n"));
  equal((await other.readLine({ timeoutMs: 5000 }))?.text, "from the web");
  await writer.close();
  const out = await child.output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  equal(new TextDecoder().decode(out.stdout), "to the web\n");
});

Deno.test("connection refused: one clear line and exit 1", async () => {
  const port = freePort();
  const out = await client([`127.0.0.1:${port}`], "null").output();
  equal(out.code, 1);
  equal(
    new TextDecoder().decode(out.stderr).trim(),
    `linechat-client: cannot connect to 127.0.0.1:${port}: connection refused`,
  );
});

Deno.test("bad arguments: one line and exit 2", async () => {
  for (const args of [["host:99999"], ["a:1", "b:2"], ["--nope"]]) {
    const out = await client(args, "null").output();
    equal(out.code, 2, `args ${args}`);
    equal(new TextDecoder().decode(out.stderr).trim().split("\n").length, 1);
  }
});

Deno.test("--keep-open: listens until the server goes, then says so and exits 1", async () => {
  const t = await startServer();
  const [other] = await t.clients(1);
  const child = client([`127.0.0.1:${t.port}`, "--keep-open"], "null");
  await waitFor(() => t.server.clientCount === 2, "the client to join");
  await other.send("news");
  await waitFor(() => t.server.room.deliveries === 1, "the relay");
  await t[Symbol.asyncDispose]();
  const out = await child.output();
  equal(out.code, 1);
  equal(new TextDecoder().decode(out.stdout), "news\n");
  match(
    new TextDecoder().decode(out.stderr),
    /^127\.0\.0\.1:\d+ closed the connection\n$/,
  );
});

Deno.test("piped, against a full server: it says the server refused it and exits 1", async () => {
  await using t = await startServer({ maxClients: 1 });
  await t.clients(1);
  for (let round = 0; round < 5; round++) {
    const child = client([`127.0.0.1:${t.port}`]);
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("hi\n"));
    await writer.close();
    const out = await child.output();
    equal(out.code, 1, `round ${round}`);
    match(
      new TextDecoder().decode(out.stderr),
      /^127\.0\.0\.1:\d+ (closed|reset) the connection right after accepting it: it may be full, or refuse this address\n$/,
    );
  }
});

Deno.test("piped, a line over the server's limit: it says the connection was cut and exits 1", async () => {
  await using t = await startServer({ maxLineBytes: 1024 });
  const [other] = await t.clients(1);
  const child = client([`127.0.0.1:${t.port}`]);
  await waitFor(() => t.server.clientCount === 2, "the client to join");
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("fine\n"));
  equal((await other.readLine({ timeoutMs: 5000 }))?.text, "fine");
  await writer.write(new TextEncoder().encode("x".repeat(200_000) + "\n"));
  await writer.close().catch(() => {});
  const out = await child.output();
  equal(out.code, 1);
  match(
    new TextDecoder().decode(out.stderr),
    /^127\.0\.0\.1:\d+ (reset the connection|closed the connection before all input was delivered|was gone before all input was sent)/,
  );
});

/** Runs the client in a tmux pane kept after it exits; returns its screen. */
async function onTerminal(port: number) {
  const session = `linechat-test-${port}-${
    Math.random().toString(36).slice(2)
  }`;
  const tmux = (...args: string[]) =>
    new Deno.Command("tmux", { args, stdout: "piped" }).output();
  await tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "100",
    "-y",
    "10",
    `${Deno.execPath()} run -A ${MAIN} 127.0.0.1:${port}; echo "exit $?"; sleep 30`,
  );
  return {
    screen: async () =>
      new TextDecoder().decode(
        (await tmux("capture-pane", "-p", "-t", session)).stdout,
      ),
    async until(pattern: RegExp): Promise<string> {
      let shown = "";
      const deadline = Date.now() + 10_000;
      while (!pattern.test(shown) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        shown = await this.screen();
      }
      return shown;
    },
    [Symbol.asyncDispose]: async () => {
      await tmux("kill-session", "-t", session);
    },
  };
}

testWithTools(
  "on a terminal: a server that shuts down reads 'closed the connection'; a full one, a refusal",
  ["tmux"],
  async () => {
    const t = await startServer({ maxClients: 1 });
    {
      await using pane = await onTerminal(t.port);
      await waitFor(() => t.server.clientCount === 1, "the client", 10_000);
      // The room is full now: a second terminal client is refused.
      await using refused = await onTerminal(t.port);
      match(
        await refused.until(/exit 1/),
        /closed the connection right after accepting it: it may be full[\s\S]*exit 1/,
      );
      await new Promise((r) => setTimeout(r, 1100)); // past the refusal window
      await t[Symbol.asyncDispose]();
      const shown = await pane.until(/exit 1/);
      match(shown, /127\.0\.0\.1:\d+ closed the connection\s*\nexit 1/);
      equal(shown.includes("lost"), false);
    }
  },
);

testWithTools(
  "on a terminal: incoming lines appear above the line being typed",
  ["tmux"],
  async () => {
    await using t = await startServer();
    const [other] = await t.clients(1);
    const session = `linechat-test-${t.port}`;
    const tmux = (...args: string[]) =>
      new Deno.Command("tmux", { args, stdout: "piped" }).output();
    const screen = async () =>
      new TextDecoder().decode(
        (await tmux("capture-pane", "-p", "-t", session)).stdout,
      );
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "80",
      "-y",
      "10",
      `${Deno.execPath()} run -A ${MAIN} 127.0.0.1:${t.port}`,
    );
    try {
      await waitFor(
        () => t.server.clientCount === 2,
        "the terminal client to join",
        10000,
      );
      await tmux("send-keys", "-t", session, "half typed");
      await other.send("incoming \x1b[2J line");
      let shown = "";
      const deadline = Date.now() + 5000;
      while (
        !/incoming \^\[\[2J line\n> half typed/.test(shown) &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 50));
        shown = await screen();
      }
      match(shown, /incoming \^\[\[2J line\n> half typed/);
      await tmux("send-keys", "-t", session, " now", "Enter");
      equal(
        (await other.readLine({ timeoutMs: 5000 }))?.text,
        "half typed now",
      );
      await tmux("send-keys", "-t", session, "C-c");
      await waitFor(
        () => t.server.clientCount === 1,
        "the client to quit",
        5000,
      );
    } finally {
      await tmux("kill-session", "-t", session);
    }
  },
);
