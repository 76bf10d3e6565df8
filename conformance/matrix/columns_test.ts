import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { onPath } from "../../lib/on_path.ts";
import {
  MATRIX_SERVER_IDS,
  matrixServers,
  OURS_MAX_CLIENTS,
} from "./columns.ts";

Deno.test("matrixServers: the registry's servers in column order, each a command with {port}", async () => {
  const servers = await matrixServers({ build: false, deno: "deno" });
  deepStrictEqual(servers.map((s) => s.id), [...MATRIX_SERVER_IDS]);
  for (const server of servers) {
    ok(server.command.includes("{port}"), server.id);
  }
  equal(
    servers[0].command,
    `deno run -A server/main.ts --port {port} --quiet --max-clients ${OURS_MAX_CLIENTS}`,
  );
  equal(servers[1].command, `${servers[0].command} --transport deno`);
  equal(servers[0].maxClients, OURS_MAX_CLIENTS);
  equal(
    servers[5].command,
    "ncat -l --broker --max-conns 20000 127.0.0.1 {port}",
  );
  equal(servers[5].unavailable === undefined, onPath("ncat"));
});

Deno.test("matrixServers: unbuilt references are listed, saying why they cannot run", async () => {
  const servers = await matrixServers({ build: false });
  for (const server of servers.filter((s) => s.kind === "reference")) {
    equal(server.unavailable, "not built (build: false)");
    deepStrictEqual(server.tools, ["nim"]);
  }
});
