import { deepEqual, equal, ok } from "node:assert/strict";
import { sleep } from "../_async.ts";
import {
  errorName,
  round,
  settlesWithin,
  sleepUntil,
  writeAll,
} from "./_util.ts";

Deno.test("sleepUntil waits for the time, or less when cut short", async () => {
  let t0 = performance.now();
  await sleepUntil(t0 + 30);
  ok(performance.now() - t0 >= 29);
  t0 = performance.now();
  await sleepUntil(t0 + 5000, sleep(10));
  ok(performance.now() - t0 < 1000);
  await sleepUntil(t0 + 5000, Promise.reject(new Error("a cut may fail")));
});

Deno.test("settlesWithin: settled either way in time, or not", async () => {
  deepEqual(
    await Promise.all([
      settlesWithin(Promise.resolve(), 50),
      settlesWithin(Promise.reject(new Error("x")), 50),
      settlesWithin(sleep(500), 10),
    ]),
    [true, true, false],
  );
});

Deno.test("writeAll writes every byte of a buffer larger than a socket takes at once", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const { port } = listener.addr as Deno.NetAddr;
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const server = await accepted;
  const bytes = new Uint8Array(4 * 1024 * 1024).fill(7);
  const received = new Response(server.readable).bytes();
  await writeAll(client, bytes);
  client.close();
  equal((await received).length, bytes.length);
  listener.close();
});

Deno.test("errorName and round", () => {
  equal(
    errorName(new Deno.errors.ConnectionRefused("refused")),
    "ConnectionRefused",
  );
  equal(errorName(new Error("boom")), "boom");
  equal(errorName("text"), "text");
  equal(round(2 / 3, 3), 0.667);
});
