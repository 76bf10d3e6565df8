import { ok } from "node:assert/strict";
import { freePort, freePortBlock } from "./free_port.ts";
import { isListening, isListeningBy } from "./listening.ts";

Deno.test("freePort and freePortBlock give ports nobody listens on", () => {
  const port = freePort();
  ok(port > 0 && !isListening(port));
  const first = freePortBlock(4);
  for (let p = first; p < first + 4; p++) ok(!isListening(p));
});

Deno.test("isListening sees a listener and not a closed one", () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  ok(isListening(port));
  listener.close();
  ok(!isListening(port));
});

Deno.test("isListeningBy tells whose listener it is", () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  ok(isListeningBy(port, [Deno.pid]));
  ok(!isListeningBy(port, [1]));
  listener.close();
  ok(!isListeningBy(port, [Deno.pid]));
});
