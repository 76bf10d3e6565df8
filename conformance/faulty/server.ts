/**
 * A small, configurable line-chat server for the conformance self-test.
 *
 * With no faults it is a correct server (bounded framer, per-client output
 * queues charged for what they really hold, small lines merged for a client
 * that is behind, slow consumers disconnected, and flood control: a client
 * is not read from while someone who keeps taking output is over a window
 * behind). Each fault flag breaks ONE clause of PROTOCOL.md the way real
 * servers do; `faults.ts` names the combinations the self-test uses and
 * `main.ts --fault NAME --port N` runs one.
 *
 * @module
 */

import { concatBytes, Growable, sleep, trimWhitespace } from "./_bytes.ts";
import type { Faults } from "./faults.ts";

/**
 * A running faulty server: its listener, and the graceful shutdown its
 * SIGTERM handler runs (stop accepting, flush for a bounded time, close
 * every client).
 *
 * @example
 * ```ts ignore
 * import { serveFaulty } from "./server.ts";
 * const server = serveFaulty(7000, {});
 * await server.shutdown();
 * ```
 */
export interface FaultyHandle {
  /** The listening socket. */
  listener: Deno.Listener;
  /** Stops accepting, flushes pending output (at most `graceMs`), closes all. */
  shutdown(graceMs?: number): Promise<void>;
}

const LF = 0x0a;
const CR = 0x0d;
const MAX_LINE_BYTES = 64 * 1024;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
const DROP_QUEUE_BYTES = 256 * 1024;
/** What a queued entry costs beyond its bytes (object, slot), charged. */
const ENTRY_OVERHEAD_BYTES = 64;
/** Lines shorter than this are merged into the tail of a client's queue. */
const MERGE_BELOW_BYTES = 512;
/** A merged tail is queued as an entry once it holds this much. */
const TAIL_BYTES = 16 * 1024;
/** Flood control: a client is not read while someone is this far behind… */
const SENDER_WINDOW_BYTES = 256 * 1024;
/** …unless that one has taken nothing for this long (left to the bound). */
const SENDER_WAIT_MS = 1000;

interface Client {
  id: number;
  conn: Deno.TcpConn;
  /** `ADDR: `, the prefix the decorating faults add. */
  prefix: Uint8Array;
  /** spliceOverLong: pieces of the current line were relayed already. */
  spliced: boolean;
  /** registerDelayMs: not yet a recipient. */
  registered: boolean;
  partial: Growable;
  skipping: boolean;
  afterCr: boolean;
  snapshot: Client[] | undefined;
  queue: Uint8Array[];
  /** Small lines merged while the client is behind, queued after `queue`. */
  tail: Growable | undefined;
  /** Bytes charged for `queue` and `tail` (entries cost their overhead). */
  pending: number;
  writing: boolean;
  gone: boolean;
  /** When a write last completed, or output began waiting (flood control). */
  progressAt: number;
  /** Senders waiting for this client to take output. */
  progressWaiters: (() => void)[];
  /** muteAfterReconnects: never relayed to. */
  muted: boolean;
}

/**
 * Starts a faulty server with `faults` on 127.0.0.1:`port` and says so on
 * stdout (`faulty server listening addr=… faults=…`).
 *
 * @example
 * ```ts ignore
 * import { serveFaulty } from "./server.ts";
 * const listener = serveFaulty(7000, { echo: true });
 * listener.close();
 * ```
 */
export function serveFaulty(port: number, faults: Faults): FaultyHandle {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  console.log(
    `faulty server listening addr=127.0.0.1:${port} faults=${
      JSON.stringify(faults)
    }`,
  );
  const clients: Client[] = [];
  const history: Uint8Array[] = [];
  const shared = new Growable();
  const limit = faults.overLimit ?? "disconnect";
  const terminator = faults.lfOutput ? [LF] : [CR, LF];
  let nextId = 1;
  // The sequence faults' memory: when a client last left, whether the next
  // line is dropped, and how often each address connected.
  let lastLeaveAt = -Infinity;
  let dropNextLine = false;
  const connections = new Map<string, number>();

  const encode = (line: Uint8Array): Uint8Array => {
    const out = new Uint8Array(line.length + terminator.length);
    out.set(line);
    out.set(terminator, line.length);
    return out;
  };

  const remove = (client: Client) => {
    const index = clients.indexOf(client);
    if (index === -1) return;
    clients.splice(index, 1);
    const now = performance.now();
    if (faults.dropAfterQuickLeaves && now - lastLeaveAt < 1) {
      dropNextLine = true;
    }
    lastLeaveAt = now;
  };

  const close = (client: Client) => {
    client.gone = true;
    remove(client);
    // Senders waiting for it to take output wait no more.
    for (const wake of client.progressWaiters.splice(0)) wake();
    if (faults.leakSockets) return;
    try {
      client.conn.close();
    } catch {
      // Already closed.
    }
  };

  const progressed = (client: Client) => {
    client.progressAt = performance.now();
    const waiters = client.progressWaiters;
    client.progressWaiters = [];
    for (const wake of waiters) wake();
  };

  const flush = async (client: Client) => {
    if (client.writing) return;
    client.writing = true;
    // Output starts waiting now: the flood-control clock starts here.
    client.progressAt = performance.now();
    try {
      while (
        (client.queue.length > 0 || client.tail !== undefined) && !client.gone
      ) {
        if (client.tail !== undefined) {
          const tail = client.tail.take();
          client.tail = undefined;
          client.queue.push(tail);
          client.pending += ENTRY_OVERHEAD_BYTES;
        }
        let out: Uint8Array;
        let entries: number;
        if (faults.nagle) {
          out = client.queue.shift()!;
          entries = 1;
        } else {
          const size = client.queue.reduce((n, b) => n + b.length, 0);
          out = new Uint8Array(size);
          let offset = 0;
          for (const b of client.queue) {
            out.set(b, offset);
            offset += b.length;
          }
          entries = client.queue.length;
          client.queue = [];
        }
        let offset = 0;
        while (offset < out.length) {
          offset += await client.conn.write(out.subarray(offset));
          progressed(client);
        }
        client.pending -= out.length +
          (faults.payloadOnlyAccounting ? 0 : entries * ENTRY_OVERHEAD_BYTES);
      }
    } catch {
      // The client is gone, but lines it completed before leaving may still
      // be unread (§5.1): stop writing, leave the room, let the reader drain.
      client.gone = true;
      client.queue = [];
      client.tail = undefined;
      remove(client);
    } finally {
      client.writing = false;
      progressed(client);
    }
  };

  /** Queues `out` for `client`, charging what it really holds. */
  const enqueue = (client: Client, out: Uint8Array) => {
    if (faults.payloadOnlyAccounting) {
      // The fault: an entry (a copy) per line, charged by payload only.
      client.queue.push(out.slice());
      client.pending += out.length;
      return;
    }
    if (client.writing && !faults.nagle && out.length < MERGE_BELOW_BYTES) {
      // Behind: merge small lines into one growing tail.
      client.tail ??= new Growable();
      client.tail.push(out);
      client.pending += out.length;
      if (client.tail.length >= TAIL_BYTES) {
        client.queue.push(client.tail.take());
        client.tail = undefined;
        client.pending += ENTRY_OVERHEAD_BYTES;
      }
      return;
    }
    if (client.tail !== undefined) {
      client.queue.push(client.tail.take());
      client.tail = undefined;
      client.pending += ENTRY_OVERHEAD_BYTES;
    }
    client.queue.push(out);
    client.pending += out.length + ENTRY_OVERHEAD_BYTES;
  };

  /**
   * Flood control (§4.9): before reading from `sender`, waits while another
   * client is over the window behind and still taking output; one that has
   * taken nothing for SENDER_WAIT_MS no longer holds senders back.
   */
  const throttle = async (sender: Client) => {
    if (faults.noFloodControl) return;
    while (!sender.gone) {
      const now = performance.now();
      const behind = clients.filter((c) =>
        c !== sender && !c.gone && c.pending > SENDER_WINDOW_BYTES &&
        now - c.progressAt < SENDER_WAIT_MS
      );
      if (behind.length === 0) return;
      const waitMs = Math.max(
        1,
        SENDER_WAIT_MS - Math.min(...behind.map((c) => now - c.progressAt)),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        ...behind.map((c) =>
          new Promise<void>((resolve) => c.progressWaiters.push(resolve))
        ),
        new Promise<void>((resolve) => timer = setTimeout(resolve, waitMs)),
      ]);
      clearTimeout(timer);
    }
  };

  /** Queues raw bytes (no terminator added) for everyone but `from`. */
  const relayRaw = (from: Client, bytes: Uint8Array) => {
    for (const c of [...clients]) {
      if (c === from || c.gone) continue;
      enqueue(c, bytes.slice());
      if (!c.writing) flush(c);
    }
  };

  const broadcast = async (from: Client, line: Uint8Array) => {
    if (faults.dropEmpty && line.length === 0) return;
    if (dropNextLine) {
      // The fault: two departures in a row cost the next line.
      dropNextLine = false;
      return;
    }
    if (faults.relayDelayMs) {
      const [min, max] = faults.relayDelayMs;
      await sleep(min + Math.random() * (max - min));
    }
    if (faults.prefixSender) line = concatBytes(from.prefix, line);
    if (faults.trim) line = trimWhitespace(line);
    if (faults.reencode) {
      line = new TextEncoder().encode(new TextDecoder().decode(line));
    }
    if (faults.history) {
      history.push(line.slice());
      if (history.length > faults.history) history.shift();
    }
    const out = encode(line);
    const everyone = from.snapshot ?? [...clients];
    from.snapshot = undefined;
    const start = faults.skipFirstRecipient ? 1 : 0;
    const end = everyone.length - (faults.skipLastRecipient ? 1 : 0);
    const recipients = everyone.slice(start, end)
      .filter((c) => (c !== from || faults.echo) && !c.muted);
    if (faults.perDeliveryDelayMs !== undefined) {
      // The fault: a pause before each delivery, one after the other.
      for (const c of recipients) {
        await sleep(faults.perDeliveryDelayMs);
        if (c.gone) continue;
        enqueue(c, out);
        if (!c.writing) flush(c);
      }
      return;
    }
    if (faults.blockingWrites || faults.keepDeadClients) {
      // One write after the other; an error aborts the rest of the loop.
      try {
        for (const c of recipients) await c.conn.write(out);
      } catch {
        // Logged and forgotten by this kind of server.
      }
      return;
    }
    const bound = faults.dropForSlow
      ? DROP_QUEUE_BYTES
      : faults.maxPendingBytes ?? MAX_PENDING_BYTES;
    for (const c of recipients) {
      if (c.gone) continue;
      if (!faults.unboundedQueue && c.pending + out.length > bound) {
        if (faults.dropForSlow) continue;
        close(c);
        continue;
      }
      enqueue(c, out);
      if (!c.writing) flush(c);
    }
  };

  // Frames a chunk for `client`; returns false if the client must go.
  const frame = async (client: Client, chunk: Uint8Array): Promise<boolean> => {
    const partial = faults.sharedPartialBuffer ? shared : client.partial;
    if (faults.snapshotRecipients && partial.length === 0 && !client.snapshot) {
      client.snapshot = [...clients];
    }
    if (faults.rawChunks) {
      relayRaw(client, concatBytes(client.prefix, chunk));
      return true;
    }
    if (faults.chunkFraming) {
      let start = 0;
      for (let i = 0; i <= chunk.length; i++) {
        if (i === chunk.length || chunk[i] === LF) {
          if (i === chunk.length && start === i) break;
          let end = i;
          if (end > start && chunk[end - 1] === CR) end--;
          await broadcast(client, chunk.slice(start, end));
          start = i + 1;
        }
      }
      return true;
    }
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (faults.loneCrTerminates && client.afterCr) {
        client.afterCr = false;
        if (b === LF) {
          start = i + 1;
          continue;
        }
      }
      let ends = b === LF || (faults.loneCrTerminates && b === CR);
      if (ends && faults.crlfOnly) {
        // The fault: an LF ends a line only right after a CR.
        const before = i > start
          ? chunk[i - 1]
          : partial.length > 0
          ? partial.data[partial.length - 1]
          : -1;
        ends = before === CR;
      }
      if (!ends) continue;
      partial.push(chunk.subarray(start, i));
      start = i + 1;
      if (faults.loneCrTerminates && b === CR) client.afterCr = true;
      let line = partial.take();
      if (client.skipping) {
        client.skipping = false;
        if (limit !== "truncate") continue;
        line = line.subarray(0, MAX_LINE_BYTES);
      }
      if (
        !faults.loneCrTerminates && line.length > 0 &&
        line[line.length - 1] === CR
      ) {
        line = line.subarray(0, line.length - 1);
      }
      if (
        faults.spliceOverLong &&
        (client.spliced || line.length > MAX_LINE_BYTES)
      ) {
        while (line.length > MAX_LINE_BYTES) {
          relayRaw(
            client,
            concatBytes(client.prefix, line.subarray(0, MAX_LINE_BYTES)),
          );
          line = line.subarray(MAX_LINE_BYTES);
        }
        relayRaw(client, concatBytes(client.prefix, encode(line)));
        client.spliced = false;
        continue;
      }
      if (line.length > MAX_LINE_BYTES && limit !== "unbounded") {
        if (limit === "disconnect") return false;
        if (limit === "truncate") line = line.subarray(0, MAX_LINE_BYTES);
        if (limit === "split") {
          while (line.length > MAX_LINE_BYTES) {
            await broadcast(client, line.slice(0, MAX_LINE_BYTES));
            line = line.subarray(MAX_LINE_BYTES);
          }
        }
      }
      await broadcast(client, line);
    }
    if (start < chunk.length && !client.skipping) {
      partial.push(chunk.subarray(start));
    }
    if (faults.spliceOverLong) {
      // The fault: pieces of an over-long line go out as they come, each
      // with the sender's prefix, and no terminator until the line's own.
      while (partial.length > MAX_LINE_BYTES) {
        const head = partial.take();
        relayRaw(
          client,
          concatBytes(client.prefix, head.subarray(0, MAX_LINE_BYTES)),
        );
        partial.push(head.subarray(MAX_LINE_BYTES));
        client.spliced = true;
      }
      return true;
    }
    if (partial.length > MAX_LINE_BYTES + 1 && limit !== "unbounded") {
      if (limit === "disconnect") return false;
      const head = partial.take();
      if (limit === "split") {
        await broadcast(client, head.slice(0, MAX_LINE_BYTES));
        partial.push(head.subarray(MAX_LINE_BYTES));
      } else {
        // truncate: keep the first L bytes, skip the rest up to the LF.
        partial.push(head.subarray(0, MAX_LINE_BYTES));
        client.skipping = true;
      }
    }
    return true;
  };

  const serveClient = async (client: Client) => {
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      await throttle(client);
      let n: number | null;
      if (faults.crashOnReset) {
        // The bug: no try/catch around the read.
        n = await client.conn.read(buffer);
      } else {
        try {
          n = await client.conn.read(buffer);
        } catch {
          n = null;
        }
      }
      if (n === null) break;
      if (!(await frame(client, buffer.subarray(0, n)))) {
        close(client);
        if (faults.crashAfterDisconnectMs !== undefined) {
          setTimeout(() => {
            throw new Error("crashed after disconnecting a client");
          }, faults.crashAfterDisconnectMs);
        }
        return;
      }
    }
    if (faults.relayPartialAtClose && client.partial.length > 0) {
      await broadcast(client, client.partial.take());
    }
    if (faults.gluePartialAtClose && client.partial.length > 0) {
      // The fault: the tail goes out as it is, glued onto what comes next.
      relayRaw(client, client.partial.take());
    }
    if (faults.keepDeadClients || faults.keepHalfClosed) return;
    if (client.writing) {
      // Let queued output go out before closing (§5.3).
      const wait = (resolve: () => void) => {
        if (!client.writing || client.gone) resolve();
        else setTimeout(() => wait(resolve), 10);
      };
      await new Promise<void>(wait);
    }
    close(client);
  };

  let accepting = true;
  (async () => {
    while (accepting) {
      if (faults.acceptDelayMs) await sleep(faults.acceptDelayMs);
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        if (!accepting) return;
        // A connection reset before it was accepted (ENOTCONN): next one.
        continue;
      }
      if (faults.dieOnConnect) {
        console.error(
          "getpeername() failed: Transport endpoint is not connected. QUITTING.",
        );
        Deno.exit(2);
      }
      const tcp = conn as Deno.TcpConn;
      if (!faults.nagle) {
        try {
          tcp.setNoDelay(true);
        } catch {
          // Gone already.
        }
      }
      const remote = tcp.remoteAddr as Deno.NetAddr;
      const client: Client = {
        id: nextId++,
        conn: tcp,
        prefix: new TextEncoder().encode(`${remote.hostname}:${remote.port}: `),
        spliced: false,
        registered: faults.registerDelayMs === undefined,
        partial: new Growable(),
        skipping: false,
        afterCr: false,
        snapshot: undefined,
        queue: [],
        tail: undefined,
        pending: 0,
        writing: false,
        gone: false,
        progressAt: performance.now(),
        progressWaiters: [],
        muted: false,
      };
      if (faults.muteAfterReconnects !== undefined) {
        const seen = (connections.get(remote.hostname) ?? 0) + 1;
        connections.set(remote.hostname, seen);
        client.muted = seen > faults.muteAfterReconnects;
      }
      if (faults.banner !== undefined) {
        client.queue.push(encode(new TextEncoder().encode(faults.banner)));
      }
      for (const line of history) client.queue.push(encode(line));
      client.pending = client.queue.reduce(
        (n, b) => n + b.length + ENTRY_OVERHEAD_BYTES,
        0,
      );
      if (client.registered) clients.push(client);
      else {
        // The fault: it joins the room a while after its banner.
        setTimeout(() => {
          client.registered = true;
          if (!client.gone) clients.push(client);
        }, faults.registerDelayMs);
      }
      flush(client);
      serveClient(client);
    }
  })();
  const shutdown = async (graceMs = 1000) => {
    accepting = false;
    try {
      listener.close();
    } catch {
      // Closed already.
    }
    const deadline = performance.now() + graceMs;
    while (
      clients.some((c) => c.writing || c.queue.length > 0) &&
      performance.now() < deadline
    ) {
      await sleep(10);
    }
    for (const client of [...clients]) close(client);
  };
  return { listener, shutdown };
}
