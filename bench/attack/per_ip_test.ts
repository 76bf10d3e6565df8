import { equal } from "node:assert/strict";
import { perIpVerdict, runPerIp } from "./per_ip.ts";

Deno.test("per-ip, in small: all get in without the limit, exactly the limit with it", async () => {
  const { result, servers } = await runPerIp(
    { kind: "ours", transport: "deno", env: {} },
    { maxConnections: 60, limit: 20, batch: 10 },
  );
  equal(servers.length, 2);
  const [free, limited] = result.runs;
  equal(free.admitted, 60);
  equal(free.refused, 0);
  equal(limited.admitted, 20);
  equal(limited.firstRefused, 21);
  equal(free.relays && limited.relays, true);
  equal(
    perIpVerdict(result),
    "as given: 60 of 60 got in; --max-clients-per-ip 20: 20 of 30 got in, refused from #21",
  );
});
