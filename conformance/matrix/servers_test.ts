import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { hasTool, testWithTools } from "../../_testing/tools.ts";
import {
  matrixServers,
  OURS_MAX_CLIENTS,
  selectServers,
  SERVER_IDS,
} from "./servers.ts";

Deno.test("matrixServers: every server in column order, each a --spawn command with {port}", async () => {
  const servers = await matrixServers({ build: false, deno: "deno" });
  deepStrictEqual(servers.map((s) => s.id), [...SERVER_IDS]);
  for (const server of servers) {
    ok(server.spawn.includes("{port}"), server.id);
  }
  equal(
    servers[0].spawn,
    `deno run -A server/main.ts --port {port} --quiet --max-clients ${OURS_MAX_CLIENTS}`,
  );
  equal(servers[1].spawn, `${servers[0].spawn} --transport node`);
  equal(servers[0].maxClients, OURS_MAX_CLIENTS);
  equal(
    servers[5].spawn,
    "ncat -l --broker --max-conns 20000 127.0.0.1 {port}",
  );
  deepStrictEqual(servers[5].tools, ["ncat"]);
  equal(servers[5].unavailable === undefined, hasTool("ncat"));
});

Deno.test("matrixServers: unbuilt references are listed, saying why they cannot run", async () => {
  const servers = await matrixServers({ build: false });
  for (const server of servers.filter((s) => s.kind === "reference")) {
    equal(server.unavailable, "not built (build: false)");
    deepStrictEqual(server.tools, ["nim"]);
  }
});

testWithTools("matrixServers: built references run from the repository root", [
  "nim",
], async () => {
  const servers = await matrixServers();
  deepStrictEqual(
    servers.filter((s) => s.kind === "reference").map((s) => [s.id, s.spawn]),
    [
      ["book", "reference/nim/build/book_server {port}"],
      ["asyncnet", "reference/nim/build/asyncnet_server {port}"],
      ["selectors", "reference/nim/build/selectors_server {port}"],
    ],
  );
});

Deno.test("selectServers: keeps column order, rejects unknown ids", async () => {
  const servers = await matrixServers({ build: false });
  deepStrictEqual(
    selectServers(servers, ["ncat", "ours"]).map((s) => s.id),
    ["ours", "ncat"],
  );
  equal(selectServers(servers, []).length, servers.length);
  throws(() => selectServers(servers, ["nginx"]), /unknown server "nginx"/);
});
