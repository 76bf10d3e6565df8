// The server as a user runs it: `deno run -A server/main.ts …`.

import { equal, match, ok } from "node:assert/strict";
import { connect } from "../client/chat_client.ts";
import { textLines } from "../_testing/lines.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

async function runToEnd(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Starts the server and returns it with its port and a line reader. */
async function start(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = textLines(child.stdout);
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) {
      const err = await new Response(child.stderr).text();
      throw new Error(
        `server output ended: ${JSON.stringify(await child.status)} ${err}`,
      );
    }
    return value;
  };
  const first = await nextLine();
  const port = Number(
    /addr=[\d.]+:(\d+)|"addr":"[\d.]+:(\d+)"/.exec(first)?.slice(1).find(
      Boolean,
    ),
  );
  ok(port > 0, `no port in ${first}`);
  return { child, port, first, nextLine, stderr: child.stderr };
}

Deno.test("--help prints usage and exits 0", async () => {
  const { code, stdout } = await runToEnd(["--help"]);
  equal(code, 0);
  match(stdout, /--max-line-bytes/);
});

Deno.test("bad flags: one line on stderr, exit code 2", async () => {
  for (const args of [["--port", "x"], ["--frobnicate"], ["--log", "xml"]]) {
    const { code, stderr } = await runToEnd(args);
    equal(code, 2, `args ${args}`);
    equal(stderr.trim().split("\n").length, 1, stderr);
    match(stderr, /^linechat-server: /);
  }
});

Deno.test("port in use: a clear error and exit code 1, with either transport", async () => {
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  for (const transport of ["deno", "node"]) {
    const { code, stderr } = await runToEnd([
      "--port",
      String(busy.addr.port),
      "--transport",
      transport,
    ]);
    equal(code, 1);
    match(
      stderr.trim(),
      /^linechat-server: 127\.0\.0\.1:\d+ is already in use$/,
    );
  }
});

Deno.test("--port 0 prints the real port; SIGTERM exits 0 with a summary", async () => {
  const { child, port, first, nextLine } = await start([]);
  match(first, /listening addr=127\.0\.0\.1:\d+/);
  const a = await connect({ port });
  match(await nextLine(), /connect id=1 addr=127\.0\.0\.1:\d+/);
  const b = await connect({ port });
  match(await nextLine(), /connect id=2/);
  await a.send("hi");
  equal((await b.readLine({ timeoutMs: 5000 }))?.text, "hi");
  child.kill("SIGTERM");
  const rest: string[] = [];
  for (let line = await nextLine();; line = await nextLine()) {
    rest.push(line);
    if (line.includes(" shutdown ")) break;
  }
  match(
    rest.at(-1)!,
    /shutdown clients_served=2 lines_relayed=1 .*closes_shutdown=2/,
  );
  equal((await child.status).code, 0);
  equal(await b.readLine({ timeoutMs: 5000 }), null);
  a.close();
  b.close();
  await child.stderr.cancel();
});

Deno.test("--log json --quiet --transport node: JSON lines, no per-connection events", async () => {
  const { child, port, first, nextLine } = await start([
    "--log",
    "json",
    "--quiet",
    "--transport",
    "node",
  ]);
  equal(JSON.parse(first).event, "listening");
  equal(JSON.parse(first).transport, "node");
  const a = await connect({ port });
  const b = await connect({ port });
  // --quiet hides the connect events, so the barrier is causal: A repeats
  // its line until B has one, which proves the server admitted both.
  let probes = 0;
  for (let got = null; got === null; probes++) {
    if (probes === 50) throw new Error("B never received A's line");
    await a.send("x");
    got = await b.readLine({ timeoutMs: 100 }).catch(() => null);
  }
  child.kill("SIGINT");
  const summary = JSON.parse(await nextLine());
  equal(summary.event, "shutdown");
  equal(summary.clients_served, 2);
  equal(summary.lines_relayed, probes);
  equal((await child.status).code, 0);
  a.close();
  b.close();
  await child.stderr.cancel();
});

Deno.test("IPv6 addresses are bracketed in the log: [::1]:port", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--host", "::1", "--port", "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = textLines(child.stdout);
  const first = (await lines.next()).value ?? "";
  const port = Number(/addr=\[::1\]:(\d+) /.exec(first)?.[1]);
  ok(port > 0, first);
  const conn = await Deno.connect({ hostname: "::1", port });
  match((await lines.next()).value ?? "", /connect id=1 addr=\[::1\]:\d+ /);
  conn.close();
  child.kill("SIGTERM");
  for await (const _ of lines) { /* drain */ }
  equal((await child.status).code, 0);
});
