import { deepEqual, equal, ok } from "node:assert/strict";
import { isListening } from "../../lib/listening.ts";
import { testWithTools } from "../../_testing/tools.ts";
import { REPO_ROOT } from "../../targets/servers.ts";
import {
  clientPorts,
  compareServers,
  fillFiles,
  portBlockBelowEphemeral,
  serverPid,
  startCompareServer,
} from "./servers.ts";

Deno.test("compareServers takes the registry's servers, ours with room for 10,000 clients", async () => {
  const { servers, missing } = await compareServers(["ncat", "ours"]);
  deepEqual(servers.map((s) => s.id), ["ours", "ncat"]);
  equal(
    servers[0].command.endsWith(
      "run -A server/main.ts --port {port} --quiet --max-clients 20000",
    ),
    true,
  );
  ok(missing.every((line) => /^[\w-]+: /.test(line)), missing.join("; "));
});

Deno.test("clientPorts: a cluster's clients use its nodes' ports, not its Redis", () => {
  equal(clientPorts("x {port}"), 1);
  equal(clientPorts("x --base-port {port} --redis redis://h:{port+2}"), 2);
  equal(clientPorts("x {port} {port+1}"), 2);
});

Deno.test("portBlockBelowEphemeral gives ports nobody listens on, below 32768", () => {
  const first = portBlockBelowEphemeral(3);
  ok(first >= 20_000 && first + 2 < 32_768);
  equal([first, first + 1, first + 2].some(isListening), false);
});

Deno.test("startCompareServer: our server, and the pid of the server, not of its shell", async () => {
  const server = await startCompareServer({
    command: "deno run -A server/main.ts --port {port} --quiet",
  });
  try {
    const pid = serverPid(server);
    ok(pid !== undefined && pid !== server.pid);
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    ok(cmdline.includes("server/main.ts"), cmdline);
  } finally {
    await server.stop();
  }
});

Deno.test("startCompareServer: several ports, below the ephemeral range, all listening", async () => {
  const ncat = (port: string) => `ncat -l --broker 127.0.0.1 ${port}`;
  const server = await startCompareServer(
    { command: `${ncat("{port+1}")} & exec ${ncat("{port}")}` },
    REPO_ROOT,
  );
  try {
    ok(server.port < 32_768);
    ok(server.ports.every(isListening));
  } finally {
    await server.stop();
  }
});

testWithTools(
  "ours-tls only when named: a throwaway certificate, and a TLS client trusting its CA gets in",
  [
    "openssl",
  ],
  async () => {
    const all = await compareServers([]);
    equal(all.servers.some((s) => s.id === "ours-tls"), false);
    const { servers } = await compareServers(["ours-tls"]);
    deepEqual(servers.map((s) => s.id), ["ours-tls"]);
    const [tls] = servers;
    // The report shows placeholders; the run gets the files.
    ok(tls.command.includes("--tls-cert {tls-cert}"), tls.command);
    equal(tls.ca, "{tls-ca}");
    const server = await startCompareServer(tls);
    try {
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [await Deno.readTextFile(fillFiles(tls.ca!, tls.files))],
      });
      await conn.handshake();
      conn.close();
    } finally {
      await server.stop();
    }
  },
);
