import { equal, match, ok, rejects } from "node:assert/strict";
import { ServerProcess, startServer } from "./server_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Processes of group `pgid` that are not zombies. */
function liveMembers(pgid: number): number {
  let live = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") live++;
    } catch {
      // Gone.
    }
  }
  return live;
}

/** Waits up to 2 s for group `pgid` to have no live process. */
async function groupGone(pgid: number): Promise<boolean> {
  for (let i = 0; i < 100 && liveMembers(pgid) > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return liveMembers(pgid) === 0;
}
const OURS = "deno run -A server/main.ts --port {port} --quiet";

Deno.test("a started server is ready, measurable, and stopped with its group", async () => {
  const server = new ServerProcess({ command: OURS, cwd: ROOT });
  await server.start();
  try {
    ok(server.alive);
    const conn = await Deno.connect(server.target);
    conn.close();
    const sample = await server.sample();
    ok(sample !== null && sample.rssBytes > 1024 * 1024 && sample.fds > 2);
    ok(sample.cpuSeconds > 0 && sample.processes >= 1);
    match(server.outputTail(), /listening addr=127\.0\.0\.1:\d+/);
  } finally {
    equal((await server.stop())?.code, 0, "SIGTERM is a clean stop");
  }
  equal(server.alive, false);
  equal(await server.sample(), null);
});

Deno.test("readiness is read from /proc/net/tcp: no probe connection reaches the server", async () => {
  const server = new ServerProcess({
    command: `deno run -A server/main.ts --port {port} --log json`,
    cwd: ROOT,
  });
  await server.start();
  await server.stop();
  equal(/"event":"connect"/.test(server.outputTail()), false);
});

Deno.test("commands run with sh -c: variables, quotes and redirections work", async () => {
  await using server = await startServer({
    command: `GREETING='hi there' sh -c 'echo "$GREETING" >&2; exec ${
      OURS.replace("{port}", "$0")
    } > /dev/null' {port}`,
    cwd: ROOT,
  });
  match(server.outputTail(), /hi there/);
});

Deno.test("{port+N} asks for consecutive free ports, all listening before ready", async () => {
  await using pair = await startServer({
    command: `(${OURS.replace("{port}", "{port+1}")} &) ; exec ${OURS}`,
    cwd: ROOT,
  });
  equal(pair.ports.length, 2);
  equal(pair.ports[1], pair.port + 1);
  for (const port of pair.ports) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
  }
});

Deno.test("a server that dies before listening is reported with its last line", async () => {
  const server = new ServerProcess({
    command: "echo 'cannot bind' >&2; exit 4 # {port}",
    cwd: ROOT,
  });
  await rejects(server.start(), /exit code 4\).*cannot bind/);
});

Deno.test("a shell's 128+N exit code is told as the signal it is", async () => {
  const server = new ServerProcess({
    command: "kill -PIPE $$ # {port}",
    cwd: ROOT,
  });
  await rejects(server.start(), /killed by SIGPIPE/);
});

Deno.test("restart() starts afresh on a new port and counts it", async () => {
  await using server = await startServer({ command: OURS, cwd: ROOT });
  const first = server.port;
  await server.restart();
  equal(server.restarts, 1);
  ok(server.alive);
  ok(server.port !== first || server.port > 0);
  const conn = await Deno.connect(server.target);
  conn.close();
});

Deno.test("a group that outlives its shell is killed with it", async () => {
  const server = new ServerProcess({
    command: `${OURS} & sleep 60 & wait`,
    cwd: ROOT,
  });
  await server.start();
  const pgid = server.pid!;
  await server.stop(500);
  equal(await groupGone(pgid), true);
});

Deno.test("SIGTERM to a tool stops the servers it started before it exits", async () => {
  const script = `
    import { startServer } from "${new URL(
    "./server_process.ts",
    import.meta.url,
  )}";
    const server = await startServer({ command: "${OURS}", cwd: "${ROOT}" });
    console.log(server.pid);
    await new Promise(() => {});`;
  const tool = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = tool.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value } = await reader.read();
    text += new TextDecoder().decode(value);
  }
  const pgid = Number(text.trim());
  tool.kill("SIGTERM");
  const status = await tool.status;
  equal(status.code, 143);
  reader.releaseLock();
  await tool.stdout.cancel();
  equal(await groupGone(pgid), true, "the server's group is gone");
});

Deno.test("a server that cannot bind, its port taken by another, is not taken for ready", async () => {
  await using other = await startServer({ command: OURS, cwd: ROOT });
  const server = new ServerProcess({
    // Binds nothing but sleeps as if it were starting; the port answers
    // (the other server listens on it), yet it is not this one's.
    command: "sleep 30 # {port}",
    port: other.port,
    cwd: ROOT,
    readyTimeoutMs: 500,
  });
  await rejects(server.start(), /did not listen on port/);
});

Deno.test("a server whose listening child made a group of its own is still found ready", async () => {
  // setsid: the child is in a new group, as the cluster launcher's nodes are.
  await using server = await startServer({
    command: `setsid ${OURS} & wait`,
    cwd: ROOT,
  });
  const conn = await Deno.connect(server.target);
  conn.close();
  const sample = await server.sample();
  ok(sample !== null && sample.processes >= 2, "the child is sampled too");
});
