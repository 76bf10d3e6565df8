import { equal } from "node:assert/strict";
import {
  BURST_READ_BYTES,
  burstBuffersLent,
  IDLE_READ_BYTES,
} from "./_read_buffers.ts";
import { DenoTransport } from "./deno_transport.ts";

/**
 * A `Deno.Conn` whose reads return exactly the sizes given, one per read,
 * filling the caller's buffer; after the last, reads never complete.
 */
function scriptedConn(sizes: number[]): Deno.Conn {
  let next = 0;
  const conn = {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    setNoDelay() {},
    read(buffer: Uint8Array): Promise<number | null> {
      if (next === sizes.length) return new Promise(() => {});
      const n = Math.min(sizes[next++], buffer.length);
      buffer.fill(0x61, 0, n);
      return Promise.resolve(n);
    },
    close() {},
  };
  return conn as unknown as Deno.Conn;
}

Deno.test("§4.5 after a burst that fills its buffer exactly, an idle client waits with its small slot", async () => {
  const received: number[] = [];
  // A full idle slot starts a burst; the burst read fills its buffer to
  // the last byte; then the client goes quiet.
  const transport = new DenoTransport(
    scriptedConn([IDLE_READ_BYTES, BURST_READ_BYTES]),
  );
  transport.start({
    receive: (chunk) => received.push(chunk.length),
    end() {},
  });
  for (let i = 0; i < 10 && received.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  equal(received.join(","), `${IDLE_READ_BYTES},${BURST_READ_BYTES}`);
  equal(burstBuffersLent(), 0, "the pending read holds a 64 KiB buffer");
  transport.close();
});

Deno.test("§4.9 a paused transport starts no read until resumed", async () => {
  const received: number[] = [];
  const transport = new DenoTransport(scriptedConn([10, 20, 30]));
  transport.start({
    receive: (chunk) => {
      received.push(chunk.length);
      if (received.length === 1) transport.pauseReading();
    },
    end() {},
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  equal(received.join(","), "10");
  transport.resumeReading();
  await new Promise((resolve) => setTimeout(resolve, 20));
  equal(received.join(","), "10,20,30");
  transport.close();
});
