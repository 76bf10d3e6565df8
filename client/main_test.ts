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
    /connection to 127\.0\.0\.1:\d+ lost/,
  );
});

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
