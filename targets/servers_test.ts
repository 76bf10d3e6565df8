import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { startServer } from "../lib/server_process.ts";
import { testWithTools } from "../_testing/tools.ts";
import {
  knownServers,
  REPO_ROOT,
  selectServers,
  SERVER_IDS,
} from "./servers.ts";

Deno.test("every known server is listed in order, available or saying why not", async () => {
  const servers = await knownServers({ build: false });
  deepEqual(servers.map((s) => s.id), [...SERVER_IDS]);
  for (const server of servers) {
    ok(server.command.includes("{port}"), server.id);
    if (server.kind === "reference") ok(server.unavailable, server.id);
  }
  equal(servers.find((s) => s.id === "book")?.baseline, true);
});

Deno.test("selectServers keeps registry order and names the known ids on a typo", async () => {
  const servers = await knownServers({ build: false });
  deepEqual(selectServers(servers, ["ncat", "ours"]).map((s) => s.id), [
    "ours",
    "ncat",
  ]);
  throws(() => selectServers(servers, ["nope"]), /unknown server "nope".*ours/);
});

testWithTools("the built references start from their command and listen", [
  "nim",
], async () => {
  const servers = await knownServers();
  for (const server of servers.filter((s) => s.kind === "reference")) {
    equal(server.unavailable, undefined, server.id);
    await using running = await startServer({
      command: server.command,
      cwd: REPO_ROOT,
    });
    const conn = await Deno.connect(running.target);
    conn.close();
  }
});
