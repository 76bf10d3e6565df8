import { equal, ok } from "node:assert/strict";
import { probeTarget } from "./reachability.ts";

Deno.test("a target that refuses is described in one line, without the error's class", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const problem = await probeTarget({ hostname: "127.0.0.1", port }, 1000);
  ok(problem !== undefined && !problem.includes("\n"), problem);
  ok(!/^\w+Error: /.test(problem!), problem);
});

Deno.test("a listening target is reachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const accepted = listener.accept().then((conn) => conn.close());
  equal(await probeTarget({ hostname: "127.0.0.1", port }, 1000), undefined);
  await accepted;
  listener.close();
});
