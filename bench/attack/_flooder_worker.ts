// The flooder of the `flood` attack, in a worker of its own: its event loop
// does nothing but write `f\n` as fast as the server takes it (and read and
// drop what the server sends it), so fifty busy readers on the main thread
// cannot slow it down and hide what the server does.
//
// Messages in: `{ type: "start", hostname, port, maxBytes, chunkBytes }`,
// then `{ type: "stop" }`. Messages out (times as epoch ms, since a
// worker's `performance.now()` has its own origin): `connected`,
// `progress` (bytes written so far) every 250 ms, and `done`.

/// <reference lib="deno.worker" />

import type { FlooderDone, FlooderMessage, FlooderStart } from "./flood.ts";

let conn: Deno.Conn | undefined;
let stopping = false;

self.onmessage = (event: MessageEvent<FlooderStart | { type: "stop" }>) => {
  if (event.data.type === "start") run(event.data);
  else {
    stopping = true;
    try {
      conn?.close(); // ends a write the server holds back
    } catch {
      // Closed already.
    }
  }
};

function post(message: FlooderMessage): void {
  self.postMessage(message);
}

async function run(start: FlooderStart): Promise<void> {
  const done: FlooderDone = {
    type: "done",
    bytesWritten: 0,
    bytesRead: 0,
    startedAtMs: 0,
    endedAtMs: 0,
    cut: undefined,
    error: undefined,
    stoppedBy: "stop",
  };
  try {
    conn = await Deno.connect({ hostname: start.hostname, port: start.port });
  } catch (error) {
    done.error = `connect: ${error instanceof Error ? error.message : error}`;
    post(done);
    return;
  }
  post({ type: "connected", atMs: Date.now() });
  const chunk = new Uint8Array(start.chunkBytes);
  for (let i = 0; i < chunk.length; i += 2) {
    chunk[i] = 0x66; // "f"
    chunk[i + 1] = 0x0a;
  }
  const cut = (how: "eof" | "reset", error?: unknown) => {
    if (stopping || done.cut) return;
    done.cut = {
      atMs: Date.now(),
      how,
      error: error instanceof Error ? error.message : undefined,
    };
  };
  const reading = (async () => {
    const buffer = new Uint8Array(256 * 1024);
    while (true) {
      let n: number | null;
      try {
        n = await conn!.read(buffer);
      } catch (error) {
        cut("reset", error);
        return;
      }
      if (n === null) {
        cut("eof");
        return;
      }
      done.bytesRead += n;
    }
  })();
  const progress = setInterval(() => {
    post({ type: "progress", atMs: Date.now(), bytes: done.bytesWritten });
  }, 250);
  done.startedAtMs = Date.now();
  let written = 0;
  try {
    while (!stopping && done.cut === undefined) {
      if (done.bytesWritten >= start.maxBytes) {
        done.stoppedBy = "max-bytes";
        break;
      }
      // Whole chunks, so every line stays `f\n` even after a short write.
      let offset = 0;
      while (offset < chunk.length) {
        offset += await conn.write(chunk.subarray(offset));
        done.bytesWritten = written + offset;
      }
      written += chunk.length;
    }
  } catch (error) {
    cut("reset", error);
  }
  done.endedAtMs = Date.now();
  clearInterval(progress);
  stopping = true;
  try {
    conn.close();
  } catch {
    // Closed already.
  }
  await reading;
  if (done.cut) done.stoppedBy = "cut";
  post(done);
}
