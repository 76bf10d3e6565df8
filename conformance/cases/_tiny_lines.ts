/**
 * The pieces of `flood.tiny-lines-memory`: 3-byte lines that number
 * themselves, how much the kernel holds for a client that does not read,
 * and filling, reading and draining the clients that do not read.
 *
 * @module
 */

import { endsWith } from "../bytes.ts";
import type { CaseContext } from "../case.ts";
import { sentinelLine } from "../control_lines.ts";
import type { Peer } from "../peer.ts";
import type { RawPeer } from "../raw_peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { mib, noteEnd, size } from "./_helpers.ts";

const decoder = new TextDecoder();
const LF = 0x0a;

/**
 * Clients that connect and never read.
 *
 * @example
 * ```ts
 * import { NON_READERS } from "./_tiny_lines.ts";
 * console.log(NON_READERS > 0); // true
 * ```
 */
export const NON_READERS = 40;
/**
 * Lines per second each chatter sends, at most.
 *
 * @example
 * ```ts
 * import { TINY_RATE } from "./_tiny_lines.ts";
 * console.log(TINY_RATE > 0); // true
 * ```
 */
export const TINY_RATE = 25_000;
/**
 * How long the chatters send (scaled by the timeout scale).
 *
 * @example
 * ```ts
 * import { TINY_MS } from "./_tiny_lines.ts";
 * console.log(TINY_MS > 0); // true
 * ```
 */
export const TINY_MS = 5000;
/**
 * Lines a chatter sends at most in one go before waiting for the writes.
 *
 * @example
 * ```ts
 * import { TINY_BATCH } from "./_tiny_lines.ts";
 * console.log(TINY_BATCH > 0); // true
 * ```
 */
export const TINY_BATCH = 256;
/**
 * Lines a chatter may be ahead of the other chatter's reading: the harness
 * never piles up more than this in front of a server that relays slowly
 * (which it would otherwise still be relaying, and crash on, long after
 * the case), nor makes its own reader a slow consumer.
 *
 * @example
 * ```ts
 * import { TINY_WINDOW_LINES } from "./_tiny_lines.ts";
 * console.log(TINY_WINDOW_LINES > 0); // true
 * ```
 */
export const TINY_WINDOW_LINES = 2048;
/**
 * What a server may spend beyond the declared bound for each non-reader:
 * its heap's slack while it relays, the chatters' own buffers, allocator
 * rounding.
 *
 * @example
 * ```ts
 * import { MEMORY_ALLOWANCE_BYTES } from "./_tiny_lines.ts";
 * console.log(MEMORY_ALLOWANCE_BYTES > 0); // true
 * ```
 */
export const MEMORY_ALLOWANCE_BYTES = 64 * 1024 * 1024;
/** Bytes of each line that fills the non-readers' connections first. */
const PREFILL_LINE_BYTES = 32 * 1024;
/** Lines of the prefill per write. */
const PREFILL_LINES_PER_WRITE = 32;
/** The longest the prefill may take, however steadily it goes. */
const PREFILL_CAP_MS = 8000;
/** The most the kernel is taken to hold for one connection. */
const MAX_KERNEL_BYTES = 8 * 1024 * 1024;
/** Bytes a tiny line's symbols come from: printable ASCII, "~" left out. */
const SYMBOL_BASE = 0x21;
const SYMBOLS = 93;
/** Chatter → the first byte's range: 46 symbols each. */
const FIRST_BYTE: Record<string, number> = { A: 0x21, B: 0x21 + 46 };
/**
 * Lines a chatter can number with 3 bytes.
 *
 * @example
 * ```ts
 * import { TINY_MAX_LINES } from "./_tiny_lines.ts";
 * console.log(TINY_MAX_LINES > 0); // true
 * ```
 */
export const TINY_MAX_LINES = 46 * SYMBOLS * SYMBOLS;

/**
 * Line `seq` of chatter `name`, LF included: 3 bytes that encode both.
 *
 * @example
 * ```ts
 * import { tinyLine } from "./_tiny_lines.ts";
 * console.log(tinyLine("A", 0)); // Uint8Array(4) [ 33, 33, 33, 10 ]
 * ```
 */
export function tinyLine(name: string, seq: number): Uint8Array {
  return Uint8Array.of(
    FIRST_BYTE[name] + Math.floor(seq / (SYMBOLS * SYMBOLS)),
    SYMBOL_BASE + Math.floor(seq / SYMBOLS) % SYMBOLS,
    SYMBOL_BASE + seq % SYMBOLS,
    LF,
  );
}

/** The sender and sequence number of a tiny line, or null. */
function parseTiny(bytes: Uint8Array): { sender: string; seq: number } | null {
  if (bytes.length !== 3) return null;
  const [first, mid, low] = bytes;
  const sender = first >= FIRST_BYTE.B ? "B" : "A";
  const high = first - FIRST_BYTE[sender];
  const m = mid - SYMBOL_BASE;
  const l = low - SYMBOL_BASE;
  if (
    high < 0 || high >= 46 || m < 0 || m >= SYMBOLS || l < 0 || l >= SYMBOLS
  ) {
    return null;
  }
  return { sender, seq: (high * SYMBOLS + m) * SYMBOLS + l };
}

let kernelBytes: number | undefined;

/**
 * How much a loopback connection whose client does not read takes before
 * a write to it blocks (the kernel's send and receive buffers: about 4 MiB
 * on Linux), measured once on a socket pair of the harness's own. Until
 * that much is queued in the kernel, a server holds nothing for the client.
 *
 * @example
 * ```ts
 * import { loopbackCapacity } from "./_tiny_lines.ts";
 * console.log((await loopbackCapacity()) > 0); // true
 * ```
 */
export async function loopbackCapacity(): Promise<number> {
  if (kernelBytes !== undefined) return kernelBytes;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const [client, accepted] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  const chunk = new Uint8Array(64 * 1024);
  let total = 0;
  try {
    while (total < MAX_KERNEL_BYTES) {
      const write = accepted.write(chunk);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        write,
        new Promise<null>((resolve) => timer = setTimeout(resolve, 250, null)),
      ]);
      clearTimeout(timer);
      if (n === null) {
        write.catch(() => {});
        break;
      }
      total += n;
    }
  } finally {
    client.close();
    accepted.close();
    listener.close();
  }
  kernelBytes = Math.min(total, MAX_KERNEL_BYTES);
  return kernelBytes;
}

/**
 * What one chatter saw of the other's tiny lines.
 *
 * @example
 * ```ts
 * import type { TinyView } from "./_tiny_lines.ts";
 * const view: TinyView = { received: 0, next: 0, lost: 0, disorder: 0, behind: false };
 * console.log(view.next);
 * ```
 */
export interface TinyView {
  /** Lines of the other received. */
  received: number;
  /** The next sequence number expected from the other. */
  next: number;
  /** Lines skipped over (a later one of the same sender came). */
  lost: number;
  /** Lines that came again or out of order. */
  disorder: number;
  /** Why it stopped before the other's sentinel: a stall or a close. */
  stall?: string;
  /** The other's sentinel had not come by the deadline, lines still did. */
  behind: boolean;
}

/**
 * The sentinel a chatter sends after its tiny lines.
 *
 * @example
 * ```ts
 * import { tinySentinel } from "./_tiny_lines.ts";
 * console.log(new TextDecoder().decode(tinySentinel("c9", "A"))); // "lcc~end~c9~A~tiny"
 * ```
 */
export function tinySentinel(tag: string, name: string): Uint8Array {
  return sentinelLine(tag, name, "tiny");
}

/**
 * Reads the other chatter's tiny lines until its sentinel, a close, a wait
 * of the stall timeout for any line at all, or `deadline.at` (set once the
 * senders are done).
 *
 * @example
 * ```ts ignore
 * await readTiny(ctx, a, "B", viewA, { at: Infinity });
 * ```
 */
export async function readTiny(
  ctx: CaseContext,
  peer: Peer,
  from: string,
  view: TinyView,
  deadline: { at: number },
): Promise<void> {
  const stallMs = ctx.wait(TIMEOUTS.line * 2);
  const sentinel = tinySentinel(ctx.tag, from);
  let lastLine = performance.now();
  while (true) {
    const now = performance.now();
    if (now >= deadline.at) {
      view.behind = true;
      return;
    }
    if (now - lastLine >= stallMs) {
      view.stall =
        `${peer.name} received nothing for ${stallMs} ms with ${view.next} of ` +
        `${from}'s lines in: the server stalled`;
      return;
    }
    const outcome = await peer.read(
      Math.min(250, deadline.at - now, stallMs - (now - lastLine)),
    );
    if (outcome.kind === "timeout") continue;
    if (outcome.kind !== "line") {
      view.stall = `the server closed ${peer.name} (${outcome.kind}) after ` +
        `${view.next} of ${from}'s lines`;
      return;
    }
    lastLine = performance.now();
    const bytes = outcome.line.bytes;
    if (endsWith(bytes, sentinel)) return;
    const line = parseTiny(bytes);
    if (line === null || line.sender !== from) continue;
    view.received++;
    if (line.seq > view.next) view.lost += line.seq - view.next;
    else if (line.seq < view.next) {
      view.disorder++;
      continue;
    }
    view.next = line.seq + 1;
  }
}

/** What became of the clients that did not read, once they read again. */
interface NonReaderOutcome {
  cut: number;
  kept: number;
  unknown: number;
}

/**
 * Each non-reader reads again, in large raw reads, until the server closes
 * it (it was cut) or both sentinels arrive (it was kept), for a bounded
 * time.
 *
 * @example
 * ```ts ignore
 * const { cut, kept } = await readNonReaders(ctx, nonReaders, [tinySentinel(ctx.tag, "A")]);
 * ```
 */
export async function readNonReaders(
  ctx: CaseContext,
  peers: readonly Peer[],
  sentinels: readonly Uint8Array[],
): Promise<NonReaderOutcome> {
  const outcome: NonReaderOutcome = { cut: 0, kept: 0, unknown: 0 };
  const deadline = performance.now() + ctx.timeout(TIMEOUTS.close);
  const texts = sentinels.map((s) => decoder.decode(s));
  await Promise.all(peers.map(async (peer) => {
    const conn = peer.client.conn;
    const buffer = new Uint8Array(256 * 1024);
    const seen = new Set<string>();
    let tail = "";
    let reading: Promise<number | null> = conn.read(buffer);
    while (true) {
      const left = deadline - performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let n: number | null | "late";
      try {
        n = left <= 0 ? "late" : await Promise.race([
          reading,
          new Promise<"late">((resolve) =>
            timer = setTimeout(resolve, left, "late")
          ),
        ]);
      } catch {
        n = null;
      } finally {
        clearTimeout(timer);
      }
      if (n === "late") {
        reading.catch(() => {});
        outcome.unknown++;
        return;
      }
      if (n === null) {
        outcome.cut++;
        await noteEnd(peer);
        return;
      }
      // Sentinels are the only lines with "~" in them now.
      const chunk = buffer.subarray(0, n);
      if (chunk.includes(0x7e) || tail.length > 0) {
        const text = tail + decoder.decode(chunk);
        for (const [i, sentinel] of texts.entries()) {
          if (text.includes(sentinel)) seen.add(String(i));
        }
        tail = text.slice(-64);
      }
      if (seen.size === texts.length) {
        outcome.kept++;
        return;
      }
      reading = conn.read(buffer);
    }
  }));
  return outcome;
}

/** How reading up to a sentinel ended: with it, a stall, or out of time. */
type Arrival =
  | { kind: "arrived" }
  | { kind: "stalled" | "slow"; message: string };

/**
 * Reads on `reader` until `sentinel`: `stalled` if nothing arrives for the
 * stall timeout or the connection ends (a server may relay slowly, but not
 * stop), `slow` if lines still come at `deadline`.
 */
async function readUntilStalled(
  ctx: CaseContext,
  reader: Peer,
  sentinel: Uint8Array,
  deadline: number,
): Promise<Arrival> {
  const stallMs = ctx.wait(TIMEOUTS.line * 2);
  let lines = 0;
  while (performance.now() < deadline) {
    const outcome = await reader.read(
      Math.min(stallMs, deadline - performance.now()),
    );
    if (outcome.kind === "timeout") {
      if (performance.now() >= deadline) break;
      return {
        kind: "stalled",
        message:
          `nothing arrived for ${stallMs} ms (${lines} lines did before)`,
      };
    }
    if (outcome.kind !== "line") {
      return {
        kind: "stalled",
        message:
          `the server ended its connection (${outcome.kind}) after ${lines} lines`,
      };
    }
    if (endsWith(outcome.line.bytes, sentinel)) return { kind: "arrived" };
    lines++;
  }
  return { kind: "slow", message: `${lines} lines had arrived` };
}

/**
 * `filler` sends `bytes` in long lines (in bounded writes) and a sentinel;
 * `readers` read them all. Aborts the case (a stall, §3.2) if the server
 * stops reading from `filler` or relaying to the readers meanwhile.
 * Returns the bytes sent.
 *
 * @example
 * ```ts ignore
 * const sent = await fillNonReaders(ctx, filler, [a, b], 8 * 1024 * 1024);
 * ```
 */
export async function fillNonReaders(
  ctx: CaseContext,
  filler: RawPeer,
  readers: readonly Peer[],
  bytes: number,
): Promise<number> {
  const length = Math.min(ctx.maxLineBytes, PREFILL_LINE_BYTES);
  const lines = Math.ceil(bytes / (length + 1));
  const line = new Uint8Array(length + 1).fill(0x2e); // "."
  line[length] = LF;
  const sentinel = sentinelLine(ctx.tag, "P", "prefill");
  const stallMs = ctx.wait(TIMEOUTS.line * 2);
  ctx.note(
    `P sends ${lines} lines of ${size(length)} (${
      mib(lines * (length + 1))
    }), which the non-readers do not read`,
  );
  const capMs = ctx.timeout(PREFILL_CAP_MS);
  const deadline = performance.now() + capMs;
  const reading = readers.map((reader) =>
    readUntilStalled(ctx, reader, sentinel, deadline)
  );
  const tooSlow = (what: string): never =>
    ctx.skip(
      `${what} ${capMs} ms after P began sending ${
        mib(lines * line.length)
      } of long lines while ${NON_READERS} clients did not read: the server ` +
        "relays slowly (but steadily) then, so the non-readers' connections " +
        "could not be filled in the case's time and its memory was not judged",
    );
  for (let i = 0; i < lines; i += PREFILL_LINES_PER_WRITE) {
    if (performance.now() >= deadline) {
      tooSlow(`P had written only ${mib(i * line.length)}`);
    }
    const count = Math.min(PREFILL_LINES_PER_WRITE, lines - i);
    const chunk = new Uint8Array(count * line.length);
    for (let k = 0; k < count; k++) chunk.set(line, k * line.length);
    const write = filler.write(chunk);
    write.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      write.then(() => true, () => true),
      new Promise<false>((resolve) =>
        timer = setTimeout(resolve, stallMs, false)
      ),
    ]);
    clearTimeout(timer);
    if (!done) {
      ctx.abort(
        `the server stopped reading from P for ${stallMs} ms after ${
          mib(i * line.length)
        } of long lines, ` +
          `while ${NON_READERS} clients did not read: it stalls on clients that do not read`,
        { clause: "§3.2" },
      );
    }
  }
  await filler.send(sentinel).catch(() => {});
  const arrivals = await Promise.all(reading);
  for (const [i, arrival] of arrivals.entries()) {
    if (arrival.kind === "stalled") {
      ctx.abort(
        `${readers[i].name} did not get P's ${
          mib(lines * (length + 1))
        } of long lines while ${NON_READERS} clients did not read: ${arrival.message}`,
        { clause: "§3.2" },
      );
    }
  }
  const slow = arrivals.findIndex((arrival) => arrival.kind === "slow");
  if (slow >= 0) {
    const { message } = arrivals[slow] as { message: string };
    tooSlow(`${readers[slow].name} still lacked P's sentinel (${message})`);
  }
  return lines * line.length;
}
