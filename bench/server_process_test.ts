import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import {
  fillPort,
  freePort,
  isListening,
  splitCommand,
  startServer,
} from "./server_process.ts";

Deno.test("splitCommand splits words and honours quotes and escapes", () => {
  deepEqual(splitCommand("  deno run -A server/main.ts --port {port} "), [
    "deno",
    "run",
    "-A",
    "server/main.ts",
    "--port",
    "{port}",
  ]);
  deepEqual(splitCommand(`a "b c" 'd "e"' f\\ g ""`), [
    "a",
    "b c",
    'd "e"',
    "f g",
    "",
  ]);
  throws(() => splitCommand(`a "b`), UsageError);
});

Deno.test("fillPort replaces every {port}", () => {
  deepEqual(fillPort(["x", "--port={port}", "{port}"], 81), [
    "x",
    "--port=81",
    "81",
  ]);
});

Deno.test("isListening sees a listener and not a closed port", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  equal(await isListening(port), true);
  listener.close();
  equal(await isListening(port), false);
  equal(freePort() > 0, true);
});

Deno.test("startServer runs our server, knows its pid, and stops it", async () => {
  const main = new URL("../server/main.ts", import.meta.url).pathname;
  const server = await startServer(
    ["deno", "run", "-A", main, "--port", "{port}", "--quiet"],
  );
  try {
    equal(server.running, true);
    equal(server.pid > 0, true);
    equal(await isListening(server.port), true);
    const stat = await Deno.readTextFile(`/proc/${server.pid}/cmdline`);
    equal(stat.includes("server/main.ts"), true);
  } finally {
    await server.stop();
  }
  equal(server.running, false);
});

Deno.test("startServer reports a server that exits instead of listening", async () => {
  await rejects(
    startServer(["deno", "eval", "console.error('no port {port} for me')"]),
    /exited with code 0 before listening: no port \d+ for me/,
  );
});
