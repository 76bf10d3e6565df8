/**
 * Hostile-client cases (PROTOCOL.md §4.9, §4.10): one client floods while
 * the others chat and keep reading; tiny lines stream to clients that
 * stopped reading while the server's memory is watched.
 *
 * Both are bounded in time and bytes and judge by counts (readers cut,
 * lines lost, bytes of memory), never by how fast something happened:
 * latencies are reported as evidence only.
 *
 * @module
 */

import { type CaseContext, TIMEOUTS } from "../context.ts";
import { describeError, endsWith, type Peer, type RawPeer } from "../peer.ts";
import type { ProcessSample } from "../server_process.ts";
import type { CaseDefinition } from "../types.ts";
import { percentile } from "../verdict.ts";
import { mib, size, utf8 } from "./_helpers.ts";

const decoder = new TextDecoder();
const LF = 0x0a;
const CR = 0x0d;

// ---------------------------------------------------------------------------
// flood.readers-keep-up

/** Chatters that send at a paced rate and read everything. */
const READERS = 6;
/** One paced line from each chatter this often: 20 lines/s each. */
const PACED_INTERVAL_MS = 50;
/** How long the flood lasts (scaled by the timeout scale). */
const FLOOD_MS = 4000;
/** The most the flooder sends, whatever the server takes. */
const FLOOD_MAX_BYTES = 48 * 1024 * 1024;
/**
 * Bytes per flood write: whole `f\n` lines, and below the loopback MSS so
 * that one write is one segment (a relay of bytes then still relays whole
 * lines).
 */
const FLOOD_CHUNK_BYTES = 32 * 1024;
/**
 * How fast each reader reads: a healthy rate (over a thousand times the
 * paced lines it gets), fixed, so that a server that relays the flood
 * faster without slowing the flooder down falls behind on every reader
 * whatever the machine, and one that slows it holds them no more than its
 * window. The readers scan what they read for the paced lines without
 * framing the flood, so the harness keeps this rate with little CPU and is
 * never a slow consumer by accident.
 */
const READ_BYTES_PER_SECOND = 4 * 1024 * 1024;
/** How often a reader reads (a small read each time, never a long pause). */
const READ_TICK_MS = 10;
/** The most a reader takes in one read after a pause. */
const READ_BURST_BYTES = 64 * 1024;
/** The flooder's read buffer: it reads and drops as fast as it can. */
const READ_BUFFER_BYTES = 256 * 1024;
/** After the flood, how long the readers may take to get the last lines. */
const DRAIN_MS = 3 * TIMEOUTS.line;
/** A paced line later than this is counted as late (evidence only). */
const LATE_MS = 1000;
/** The byte every paced line starts with; flood and control lines lack it. */
const PACED_START = 0x70; // "p"

/** What one reader saw of the room while the flood went on. */
interface ReaderView {
  peer: Peer;
  /** Per other chatter: the next sequence number expected. */
  next: Map<string, number>;
  /** Paced lines of the others received. */
  received: number;
  /** Paced lines skipped over (a later one of the same sender came). */
  lost: number;
  /** Where lines were lost, for the message. */
  gaps: string[];
  /** Paced lines that came again or out of order. */
  disorder: number;
  /** Paced lines glued onto other bytes (§2.7), still counted. */
  glued: number;
  /** Paced lines that could not be parsed. */
  garbled: string[];
  /** The reader's own lines sent back to it (§2.2). */
  echoes: number;
  /** The chatters whose end marker was received. */
  ends: Set<string>;
  /** Delivery latencies (ms) of the paced lines received. */
  latencies: number[];
  /** Bytes read. */
  bytes: number;
  /** How the server ended the connection, and when (ms into the flood). */
  cut?: { how: "eof" | "reset"; atMs: number; error?: string };
  /** The deadline passed with end markers still missing. */
  timedOut: boolean;
}

/** What the flooder and the paced chatters sent. */
interface FloodRun {
  /** Bytes the flooder had written when it stopped. */
  floodBytes: number;
  /** How long it flooded. */
  floodMs: number;
  /** Paced lines each chatter sent. */
  sent: Map<string, number>;
  /** The flooder was disconnected, and when (ms into the flood). */
  flooderCut?: { atMs: number; how: string };
  /** The flood's last write was still waiting when the flood ended. */
  flooderBlocked: boolean;
  /** Every chatter has sent its last paced line and its end marker. */
  paced: boolean;
}

function pacedLine(tag: string, name: string, seq: number): Uint8Array {
  return utf8(
    `p~${tag}~${name}~${String(seq).padStart(6, "0")}~${
      performance.now().toFixed(2)
    }`,
  );
}

function endMarker(tag: string, name: string): Uint8Array {
  return utf8(`p~${tag}~${name}~end`);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Reads `view.peer`'s socket directly, at READ_BYTES_PER_SECOND in small
 * reads, until every end marker in `ends` arrived (or, once pacing is over,
 * every line of those senders), the server ended the connection, or
 * `deadline.at` passed. Paced lines are found by their first byte; the
 * flood around them is only counted.
 */
async function readRoom(
  ctx: CaseContext,
  view: ReaderView,
  ends: readonly string[],
  run: FloodRun,
  t0: number,
  deadline: { at: number },
): Promise<void> {
  const conn = view.peer.client.conn;
  const buffer = new Uint8Array(READ_BURST_BYTES);
  const pattern = new RegExp(
    `^p~${ctx.tag}~(\\w+)~(?:(end)|(\\d+)~([\\d.]+))$`,
  );
  // A paced line cut by the end of a read, from its first byte.
  let carry: Uint8Array | undefined;
  let carryGlued = false;
  let last = LF;
  const line = (bytes: Uint8Array, glued: boolean, at: number) => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    const text = decoder.decode(bytes.subarray(0, end));
    const match = pattern.exec(text);
    if (match === null) {
      if (text.startsWith(`p~${ctx.tag}~`) && view.garbled.length < 5) {
        view.garbled.push(text);
      }
      return;
    }
    const [, sender, isEnd, seqText, sentAt] = match;
    if (sender === view.peer.name) {
      view.echoes++;
      return;
    }
    if (glued) view.glued++;
    if (isEnd) {
      view.ends.add(sender);
      return;
    }
    const seq = Number(seqText);
    const expected = view.next.get(sender) ?? 0;
    view.received++;
    view.latencies.push(at - Number(sentAt));
    if (seq > expected) {
      view.lost += seq - expected;
      if (view.gaps.length < 5) {
        view.gaps.push(
          seq - 1 === expected
            ? `${sender}'s #${expected}`
            : `${sender}'s #${expected}–#${seq - 1}`,
        );
      }
    } else if (seq < expected) {
      view.disorder++;
      return;
    }
    view.next.set(sender, seq + 1);
  };
  const scan = (chunk: Uint8Array) => {
    const at = performance.now();
    let offset = 0;
    if (carry !== undefined) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        // A paced line is short: a longer "line" is not one.
        carry = carry.length + chunk.length > 4096
          ? undefined
          : concat(carry, chunk);
        last = chunk[chunk.length - 1];
        return;
      }
      line(concat(carry, chunk.subarray(0, lf)), carryGlued, at);
      carry = undefined;
      offset = lf + 1;
    }
    while (offset < chunk.length) {
      const start = chunk.indexOf(PACED_START, offset);
      if (start < 0) break;
      const glued = (start > 0 ? chunk[start - 1] : last) !== LF;
      const lf = chunk.indexOf(LF, start);
      if (lf < 0) {
        carry = chunk.slice(start);
        carryGlued = glued;
        break;
      }
      line(chunk.subarray(start, lf), glued, at);
      offset = lf + 1;
    }
    last = chunk[chunk.length - 1];
  };
  // A token bucket: READ_BYTES_PER_SECOND, in reads every READ_TICK_MS.
  let credit = 0;
  let refilled = performance.now();
  let reading: Promise<number | null> | undefined;
  // Done when every other chatter's end marker came, or (when a server
  // lost it) every line it sent did.
  const complete = () =>
    ends.every((name) =>
      view.ends.has(name) ||
      (run.paced && (view.next.get(name) ?? 0) >= run.sent.get(name)!)
    );
  while (!complete()) {
    const left = deadline.at - performance.now();
    if (left <= 0) {
      view.timedOut = true;
      reading?.catch(() => {});
      return;
    }
    if (reading === undefined) {
      const now = performance.now();
      credit = Math.min(
        READ_BURST_BYTES,
        credit + (now - refilled) * READ_BYTES_PER_SECOND / 1000,
      );
      refilled = now;
      if (credit < 1024) {
        await new Promise((resolve) => setTimeout(resolve, READ_TICK_MS));
        continue;
      }
      reading = conn.read(buffer.subarray(0, Math.floor(credit)));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let n: number | null | "wait";
    try {
      n = await Promise.race([
        reading,
        new Promise<"wait">((resolve) =>
          timer = setTimeout(resolve, Math.min(left, 250), "wait")
        ),
      ]);
    } catch (error) {
      view.cut = {
        how: "reset",
        atMs: performance.now() - t0,
        error: describeError(error),
      };
      await noteEnd(view.peer);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (n === "wait") continue;
    reading = undefined;
    if (n === null) {
      view.cut = { how: "eof", atMs: performance.now() - t0 };
      await noteEnd(view.peer);
      return;
    }
    view.bytes += n;
    credit -= n;
    scan(buffer.subarray(0, n));
  }
}

/**
 * After a raw read saw the server end `peer`'s connection, one read through
 * the peer records it (trace, and `ended`, which tells the runner to wait
 * for a server that may be dying).
 */
async function noteEnd(peer: Peer): Promise<void> {
  await peer.read(100);
}

/**
 * The flooder writes `f\n` lines as fast as the server takes them for
 * FLOOD_MS (scaled) or FLOOD_MAX_BYTES, while the chatters send one paced
 * line each every PACED_INTERVAL_MS; then everyone sends an end marker.
 * The flooder reads (and drops) whatever it is sent meanwhile, so it is
 * never a slow consumer.
 */
async function floodAndPace(
  ctx: CaseContext,
  chatters: readonly Peer[],
  flooder: Peer,
  run: FloodRun,
  t0: number,
  floodEnd: number,
): Promise<void> {
  const chunk = new Uint8Array(FLOOD_CHUNK_BYTES);
  for (let i = 0; i < chunk.length; i += 2) {
    chunk[i] = 0x66; // "f"
    chunk[i + 1] = LF;
  }
  let flooderDone = false;
  const discard = (async () => {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    while (!flooderDone) {
      try {
        const n = await flooder.client.conn.read(buffer);
        if (n === null) break;
      } catch {
        break;
      }
    }
    if (!flooderDone) {
      run.flooderCut ??= {
        atMs: performance.now() - t0,
        how: "closed by the server",
      };
      await noteEnd(flooder);
    }
  })();
  const flood = async () => {
    ctx.note(
      `F floods: ${size(FLOOD_CHUNK_BYTES)} writes of "f\\n" lines for ${
        floodEnd - t0
      } ms ` +
        `or ${
          size(FLOOD_MAX_BYTES)
        }, whichever comes first (writes not traced)`,
    );
    while (
      performance.now() < floodEnd && run.floodBytes < FLOOD_MAX_BYTES &&
      run.flooderCut === undefined
    ) {
      const write = flooder.client.write(chunk);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const done = await Promise.race([
          write.then(() => true),
          new Promise<false>((resolve) =>
            timer = setTimeout(
              resolve,
              Math.max(1, floodEnd - performance.now()),
              false,
            )
          ),
        ]);
        if (!done) {
          run.flooderBlocked = true;
          write.catch(() => {});
          break;
        }
        run.floodBytes += chunk.length;
      } catch (error) {
        run.flooderCut ??= {
          atMs: performance.now() - t0,
          how: `its write failed (${describeError(error)})`,
        };
      } finally {
        clearTimeout(timer);
      }
    }
    run.floodMs = performance.now() - t0;
    ctx.note(
      `F stopped flooding after ${run.floodMs.toFixed(0)} ms, ${
        mib(run.floodBytes)
      } written` +
        (run.flooderBlocked ? " (its last write still waiting)" : ""),
    );
  };
  const pace = async () => {
    // One line per chatter per interval at most: a late timer skips a tick
    // rather than sending two at once. The end markers go one interval
    // after the last paced line, as lines of their own.
    let seq = 0;
    for (let k = 0;; k++) {
      const due = t0 + k * PACED_INTERVAL_MS;
      const last = due >= floodEnd;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      else if (!last && -wait > PACED_INTERVAL_MS / 2) continue;
      for (const chatter of chatters) {
        const line = last
          ? endMarker(ctx.tag, chatter.name)
          : pacedLine(ctx.tag, chatter.name, seq);
        chatter.send(line).catch(() => {});
        if (!last) run.sent.set(chatter.name, seq + 1);
      }
      if (last) break;
      seq++;
    }
    run.paced = true;
  };
  await Promise.all([flood(), pace()]);
  flooderDone = true;
  // The discard loop ends with the case (its read is closed by dispose).
  discard.catch(() => {});
}

/**
 * Closes the case's clients and, with `--spawn`, gives the server a moment
 * to fall over: a server still relaying a backlog to clients that leave
 * may crash on it, and that crash belongs to this case, not the next.
 */
async function leaveAndWatch(
  ctx: CaseContext,
  peers: readonly (Peer | RawPeer)[],
): Promise<void> {
  for (const peer of peers) peer.close();
  if (ctx.server === undefined) return;
  const status = await ctx.server.waitExit(ctx.timeout(200));
  if (status === null) ctx.note("the server is still up after they all left");
}

function describeCut(view: ReaderView, expected: number): string {
  const cut = view.cut!;
  return `${view.peer.name} (${cut.how} ${
    (cut.atMs / 1000).toFixed(1)
  } s into the flood, after ${mib(view.bytes)} read and ${view.received} of ` +
    `${expected} paced lines)`;
}

async function readersKeepUp(ctx: CaseContext): Promise<void> {
  const names = Array.from({ length: READERS }, (_, i) => `R${i + 1}`);
  const chatters = await ctx.room(names);
  // The flooder joins last, so that no one reads with the line reader
  // after this: from here on every client is read in raw reads.
  const flooder = await ctx.connect("F", { quiet: true });
  await ctx.join(flooder);
  for (const peer of chatters) peer.quiet = true;
  const views: ReaderView[] = chatters.map((peer) => ({
    peer,
    next: new Map(),
    received: 0,
    lost: 0,
    gaps: [],
    disorder: 0,
    glued: 0,
    garbled: [],
    echoes: 0,
    ends: new Set(),
    latencies: [],
    bytes: 0,
    timedOut: false,
  }));
  const t0 = performance.now();
  const floodEnd = t0 + ctx.timeout(FLOOD_MS);
  const deadline = { at: floodEnd + ctx.timeout(DRAIN_MS) };
  ctx.note(
    `${READERS} chatters send a paced line every ${PACED_INTERVAL_MS} ms and read ` +
      `everything; F floods; the readers have until ${
        ctx.timeout(DRAIN_MS)
      } ms after the flood for the last lines`,
  );
  // The readers read until the chatters' end markers: the flood may go on
  // behind them (a slow server may hold megabytes of it in the kernel's
  // buffers), and is not waited for.
  const run: FloodRun = {
    floodBytes: 0,
    floodMs: 0,
    sent: new Map(chatters.map((c) => [c.name, 0])),
    flooderBlocked: false,
    paced: false,
  };
  const reading = views.map((view) =>
    readRoom(
      ctx,
      view,
      names.filter((n) => n !== view.peer.name),
      run,
      t0,
      deadline,
    )
  );
  await floodAndPace(ctx, chatters, flooder, run, t0, floodEnd);
  await Promise.all(reading);
  judgeReaders(ctx, views, run);
  await leaveAndWatch(ctx, [...chatters, flooder]);
}

function judgeReaders(
  ctx: CaseContext,
  views: readonly ReaderView[],
  run: FloodRun,
): void {
  const totalSent = [...run.sent.values()].reduce((n, k) => n + k, 0);
  const expectedAt = (view: ReaderView) =>
    totalSent - run.sent.get(view.peer.name)!;
  // Lines missing at the end: lost if the sender's end marker came after
  // them, late (not arrived in time) if it did not.
  let lost = 0;
  let late = 0;
  const lateAt: string[] = [];
  for (const view of views) {
    let missingLate = 0;
    for (const [sender, count] of run.sent) {
      if (sender === view.peer.name) continue;
      const missing = count - (view.next.get(sender) ?? 0);
      if (missing <= 0) continue;
      if (view.ends.has(sender)) {
        view.lost += missing;
        if (view.gaps.length < 5) {
          view.gaps.push(`${sender}'s last ${missing}`);
        }
      } else if (view.cut === undefined) {
        missingLate += missing;
      }
    }
    lost += view.lost;
    if (missingLate > 0) {
      late += missingLate;
      lateAt.push(`${view.peer.name} (${missingLate})`);
    }
  }
  const latencies = views.flatMap((view) => view.latencies);
  const cut = views.filter((view) => view.cut !== undefined);
  const floodSeconds = Math.max(run.floodMs, 1) / 1000;
  ctx.measure("floodBytes", run.floodBytes);
  ctx.measure("floodMiBps", run.floodBytes / 1024 / 1024 / floodSeconds);
  ctx.measure("floodLinesPerSecond", run.floodBytes / 2 / floodSeconds);
  ctx.measure("readersCut", cut.length);
  ctx.measure("pacedLinesExpected", totalSent * (READERS - 1) / READERS);
  ctx.measure("pacedLinesLost", lost);
  ctx.measure("pacedLinesLate", late);
  ctx.measure(
    "readerMinMiB",
    Math.min(...views.map((v) => v.bytes)) / 1024 / 1024,
  );
  if (latencies.length > 0) {
    ctx.measure("latencyP50Ms", percentile(latencies, 50));
    ctx.measure("latencyP99Ms", percentile(latencies, 99));
    ctx.measure("latencyMaxMs", Math.max(...latencies));
    ctx.measure(
      "pacedLinesOver1s",
      latencies.filter((ms) => ms > LATE_MS).length,
    );
  }
  const rate = `F's flood: ${mib(run.floodBytes)} written in ${
    floodSeconds.toFixed(1)
  } s (${(run.floodBytes / 1024 / 1024 / floodSeconds).toFixed(1)} MiB/s, ${
    Math.round(run.floodBytes / 2 / floodSeconds).toLocaleString("en-US")
  } lines/s)`;
  const latency = latencies.length === 0
    ? "no paced line arrived"
    : `paced-line latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${
      percentile(latencies, 99).toFixed(1)
    } ms, max ${Math.max(...latencies).toFixed(0)} ms`;
  if (cut.length > 0) {
    const first = cut.reduce((a, b) => a.cut!.atMs <= b.cut!.atMs ? a : b);
    ctx.fail(
      `${cut.length} of ${READERS} readers that kept reading were disconnected while F flooded ` +
        `(the first: ${
          describeCut(first, expectedAt(first))
        }): the server does not ` +
        `slow a flooder down but cuts the clients it floods; ${rate}`,
      {
        clause: "§4.9",
        data: {
          readersCut: cut.length,
          firstCutMs: Math.round(first.cut!.atMs),
          floodBytes: run.floodBytes,
        },
      },
    );
    for (const view of cut) {
      if (view !== first) {
        ctx.note(`cut: ${describeCut(view, expectedAt(view))}`);
      }
    }
  }
  if (run.flooderCut) {
    ctx.fail(
      `the flooder F was disconnected ${
        (run.flooderCut.atMs / 1000).toFixed(1)
      } s into the flood ` +
        `(${run.flooderCut.how}) after ${
          mib(run.floodBytes)
        }: a client that sends fast is to be slowed, not cut`,
      { clause: "§4.9", data: { floodBytes: run.floodBytes } },
    );
  }
  const lossy = views.filter((view) => view.cut === undefined && view.lost > 0);
  if (lossy.length > 0) {
    ctx.fail(
      `${lossy.length} of ${READERS} readers stayed connected but lost paced lines: ` +
        lossy.map((view) =>
          `${view.peer.name} lost ${view.lost} of ${expectedAt(view)} (${
            view.gaps.join(", ")
          })`
        ).join("; ") + `; ${rate}; ${latency}`,
      { clause: "§2.3", data: { pacedLinesLost: lost } },
    );
  }
  const disordered = views.filter((view) => view.disorder > 0);
  if (disordered.length > 0) {
    ctx.fail(
      `paced lines came again or out of order: ` +
        disordered.map((view) => `${view.peer.name} ${view.disorder}`).join(
          ", ",
        ),
      { clause: "§2.6" },
    );
  }
  if (late > 0) {
    for (const view of views) {
      if (view.timedOut && view.cut === undefined) {
        ctx.trace.record(
          view.peer.name,
          "timeout",
          `end markers still missing ${
            ctx.timeout(DRAIN_MS)
          } ms after the flood`,
        );
      }
    }
    ctx.fail(
      `${late} paced lines had not arrived ${
        ctx.timeout(DRAIN_MS)
      } ms after the flood ended, at readers ` +
        `still connected: ${
          lateAt.join(", ")
        } (the flood queued ahead of them was not drained: ${latency}; ${rate})`,
      { clause: "§3.2", data: { pacedLinesLate: late } },
    );
  }
  const garbled = views.flatMap((view) => view.garbled);
  if (garbled.length > 0) {
    ctx.fail(
      `${garbled.length} paced lines arrived altered`,
      { clause: "§2.4", received: { readers: garbled } },
    );
  }
  const clean = cut.length === 0 && !run.flooderCut && lost === 0 &&
    late === 0 && disordered.length === 0 && garbled.length === 0;
  if (clean) {
    const minRead = Math.min(...views.map((view) => view.bytes));
    ctx.info(
      `all ${READERS} readers stayed connected and got all ${
        expectedAt(views[0])
      } paced lines of the others, each once and in order; ${rate}; each ` +
        `reader read at least ${mib(minRead)} (the flood as relayed, and the ` +
        `paced lines); ${latency}`,
    );
  }
  const glued = views.reduce((n, view) => n + view.glued, 0);
  if (glued > 0) {
    ctx.info(
      `${glued} paced lines arrived glued onto flood bytes (§2.7, judged by ` +
        "relay.slow-senders-not-merged); their bytes were whole and in order",
      { clause: "§2.7" },
    );
  }
  const echoes = views.reduce((n, view) => n + view.echoes, 0);
  if (echoes > 0) {
    ctx.info(
      `the chatters got ${echoes} of their own paced lines back (§2.2, judged by relay.no-echo)`,
      { clause: "§2.2" },
    );
  }
}

// ---------------------------------------------------------------------------
// flood.tiny-lines-memory

/** Clients that connect and never read. */
const NON_READERS = 40;
/** Lines per second each chatter sends, at most. */
const TINY_RATE = 25_000;
/** How long the chatters send (scaled by the timeout scale). */
const TINY_MS = 5000;
/** Lines a chatter sends at most in one go before waiting for the writes. */
const TINY_BATCH = 256;
/**
 * Lines a chatter may be ahead of the other chatter's reading: the harness
 * never piles up more than this in front of a server that relays slowly
 * (which it would otherwise still be relaying, and crash on, long after
 * the case), nor makes its own reader a slow consumer.
 */
const TINY_WINDOW_LINES = 2048;
/**
 * What a server may spend beyond the declared bound for each non-reader:
 * its heap's slack while it relays, the chatters' own buffers, allocator
 * rounding.
 */
const MEMORY_ALLOWANCE_BYTES = 64 * 1024 * 1024;
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
/** Lines a chatter can number with 3 bytes. */
const TINY_MAX_LINES = 46 * SYMBOLS * SYMBOLS;

/** Line `seq` of chatter `name`, LF included: 3 bytes that encode both. */
function tinyLine(name: string, seq: number): Uint8Array {
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
 */
async function loopbackCapacity(): Promise<number> {
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

/** What one chatter saw of the other's tiny lines. */
interface TinyView {
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

/** The sentinel a chatter sends after its tiny lines. */
function tinySentinel(tag: string, name: string): Uint8Array {
  return utf8(`lcc~end~${tag}~${name}~tiny`);
}

/**
 * Reads the other chatter's tiny lines until its sentinel, a close, a wait
 * of the stall timeout for any line at all, or `deadline.at` (set once the
 * senders are done).
 */
async function readTiny(
  ctx: CaseContext,
  peer: Peer,
  from: string,
  view: TinyView,
  deadline: { at: number },
): Promise<void> {
  const stallMs = ctx.timeout(TIMEOUTS.line * 2);
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
 */
async function readNonReaders(
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
  const stallMs = ctx.timeout(TIMEOUTS.line * 2);
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
 */
async function fillNonReaders(
  ctx: CaseContext,
  filler: RawPeer,
  readers: readonly Peer[],
  bytes: number,
): Promise<number> {
  const length = Math.min(ctx.maxLineBytes, PREFILL_LINE_BYTES);
  const lines = Math.ceil(bytes / (length + 1));
  const line = new Uint8Array(length + 1).fill(0x2e); // "."
  line[length] = LF;
  const sentinel = utf8(`lcc~end~${ctx.tag}~P~prefill`);
  const stallMs = ctx.timeout(TIMEOUTS.line * 2);
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

async function tinyLinesMemory(ctx: CaseContext): Promise<void> {
  const server = ctx.server!;
  const [a, b] = await ctx.room(["A", "B"], { quiet: true });
  const nonReaders = await ctx.room(
    Array.from({ length: NON_READERS }, (_, i) => `N${i + 1}`),
    { quiet: true, readBufferBytes: 4096 },
  );
  const filler = await ctx.connectRaw("P");
  await ctx.join(filler);
  ctx.note(`${NON_READERS} clients (N1…N${NON_READERS}) stop reading now`);
  const base = await server.sample();
  if (base === null) ctx.abort("the server is not running");
  const stallMs = ctx.timeout(TIMEOUTS.line * 2);
  // First P fills each non-reader's connection: the kernel's buffers, then
  // a quarter of the declared bound in the server, so that the tiny lines
  // after it are held by the server itself, not by the kernel.
  const capacity = await loopbackCapacity();
  const prefill = await fillNonReaders(
    ctx,
    filler,
    [a, b],
    capacity + ctx.settings.maxPendingBytes / 4,
  );
  ctx.measure("kernelBytesPerConnection", capacity);
  ctx.measure("prefillBytes", prefill);
  const bound = NON_READERS * ctx.settings.maxPendingBytes +
    MEMORY_ALLOWANCE_BYTES;
  const streamMs = ctx.timeout(TINY_MS);
  const stop = { now: false, exceededAtMs: undefined as number | undefined };
  const t0 = performance.now();
  let peak: ProcessSample = base!;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const sample = await server.sample();
      if (sample === null) return;
      samples++;
      if (sample.rssBytes > peak.rssBytes) peak = sample;
      if (sample.rssBytes - base!.rssBytes > bound && !stop.now) {
        // Past the bound: stop feeding it, so the case stays bounded too.
        stop.now = true;
        stop.exceededAtMs = performance.now() - t0;
        ctx.note(
          `resident memory is ${mib(sample.rssBytes - base!.rssBytes)} over ` +
            `its start, past the bound of ${mib(bound)}: the chatters stop`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const sent = new Map<string, number>();
  const stalls: string[] = [];
  /** Waits for `write`, at most the stall timeout; false if it did not end. */
  const written = async (write: Promise<void>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        write.then(() => true),
        new Promise<false>((resolve) =>
          timer = setTimeout(resolve, stallMs, false)
        ),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  const newView = (): TinyView => ({
    received: 0,
    next: 0,
    lost: 0,
    disorder: 0,
    behind: false,
  });
  // viewA: what A got of B's lines; viewB: what B got of A's.
  const viewA = newView();
  const viewB = newView();
  const send = async (peer: Peer, reader: TinyView) => {
    let seq = 0;
    try {
      while (seq < TINY_MAX_LINES && !stop.now) {
        const elapsed = performance.now() - t0;
        if (elapsed >= streamMs) break;
        const due = Math.min(
          TINY_MAX_LINES,
          Math.floor(elapsed * TINY_RATE / 1000) + 1,
          seq + TINY_BATCH,
          reader.next + TINY_WINDOW_LINES,
        );
        let last: Promise<void> | undefined;
        for (; seq < due; seq++) {
          // One write per line: the hostile case, each a read of its own.
          last = peer.client.write(tinyLine(peer.name, seq));
          last.catch(() => {});
        }
        if (last !== undefined && !(await written(last))) {
          stalls.push(
            `${peer.name} could not write for ${stallMs} ms after ${seq} lines: ` +
              "the server stopped reading from it",
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } catch (error) {
      stalls.push(
        `${peer.name}'s write failed after ${seq} lines (${
          describeError(error)
        })`,
      );
      return;
    } finally {
      sent.set(peer.name, seq);
    }
    const sentinel = peer.send(tinySentinel(ctx.tag, peer.name));
    sentinel.catch(() => {});
    try {
      if (!(await written(sentinel))) {
        stalls.push(
          `${peer.name} could not write its sentinel for ${stallMs} ms after ` +
            `${seq} lines: the server stopped reading from it`,
        );
      }
    } catch (error) {
      stalls.push(
        `${peer.name} could not send its sentinel (${describeError(error)})`,
      );
    }
  };
  ctx.note(
    `A and B send 3-byte lines, one write each, at ${TINY_RATE} lines/s for ${streamMs} ms ` +
      `(at most ${TINY_MAX_LINES} each; writes not traced)`,
  );
  // Once both are done, the other chatter has a bounded time more for the
  // rest of their lines and their sentinel.
  const deadline = { at: Infinity };
  let streamedMs = 0;
  const sending = Promise.all([send(a, viewB), send(b, viewA)]).then(() => {
    streamedMs = performance.now() - t0;
    deadline.at = performance.now() + ctx.timeout(TIMEOUTS.line);
  });
  await Promise.all([
    readTiny(ctx, a, "B", viewA, deadline),
    readTiny(ctx, b, "A", viewB, deadline),
  ]);
  await sending;
  sampling = false;
  await sampler;
  const after = await server.sample();
  if (after !== null && after.rssBytes > peak.rssBytes) peak = after;
  const relayed = [...sent.values()].reduce((n, k) => n + k, 0);
  // What the server relayed: what reached the chatters reached everyone.
  const delivered = viewA.received + viewB.received;
  const growth = peak.rssBytes - base!.rssBytes;
  const settled = stalls.length === 0 &&
    [viewA, viewB].every((view) => !view.stall && !view.behind);
  const nonReaderOutcome = settled
    ? await readNonReaders(ctx, nonReaders, [
      tinySentinel(ctx.tag, "A"),
      tinySentinel(ctx.tag, "B"),
    ])
    : undefined;
  ctx.measure("nonReaders", NON_READERS);
  ctx.measure("tinyLinesSent", relayed);
  ctx.measure("tinyLinesRelayed", delivered);
  ctx.measure("streamMs", streamedMs);
  ctx.measure("rssBeforeBytes", base!.rssBytes);
  ctx.measure("rssPeakBytes", peak.rssBytes);
  ctx.measure("rssGrowthBytes", growth);
  ctx.measure("allowedGrowthBytes", bound);
  ctx.measure("rssSamples", samples);
  if (delivered > 0) {
    ctx.measure(
      "rssGrowthPerLinePerNonReader",
      growth / delivered / NON_READERS,
    );
  }
  if (nonReaderOutcome) {
    ctx.measure("nonReadersCut", nonReaderOutcome.cut);
    ctx.measure("nonReadersKept", nonReaderOutcome.kept);
  }
  for (const stall of stalls) ctx.fail(stall, { clause: "§3.2" });
  // Notes that explain the memory figure come after it.
  const behind: (() => void)[] = [];
  for (
    const [view, from, at] of [[viewA, "B", "A"], [viewB, "A", "B"]] as const
  ) {
    if (view.stall) ctx.fail(view.stall, { clause: "§3.2" });
    if (view.behind) {
      behind.push(() =>
        ctx.info(
          `${at} had received ${view.received} of ${from}'s ${
            sent.get(from) ?? 0
          } lines ${
            ctx.timeout(TIMEOUTS.line)
          } ms after the chatters stopped, and lines were still ` +
            "coming: the server relays tiny lines slower than they were sent, so " +
            "its memory was measured with what it had taken by then",
          { clause: "§4.10" },
        )
      );
    }
    if (view.lost > 0) {
      ctx.fail(
        `${at} lost ${view.lost} of ${from}'s ${sent.get(from) ?? 0} lines`,
        {
          clause: "§2.3",
        },
      );
    }
    if (view.disorder > 0) {
      ctx.fail(
        `${at} got ${view.disorder} of ${from}'s lines again or out of order`,
        {
          clause: "§2.6",
        },
      );
    }
  }
  const fate = nonReaderOutcome === undefined
    ? ""
    : nonReaderOutcome.cut === NON_READERS
    ? `; all ${NON_READERS} non-readers were disconnected`
    : nonReaderOutcome.cut === 0 && nonReaderOutcome.unknown === 0
    ? `; all ${NON_READERS} non-readers were kept (reading again, each got both sentinels)`
    : `; of the ${NON_READERS} non-readers ${nonReaderOutcome.cut} were disconnected, ` +
      `${nonReaderOutcome.kept} kept` +
      (nonReaderOutcome.unknown > 0
        ? `, ${nonReaderOutcome.unknown} still being read when the harness stopped`
        : "");
  const perLine = delivered > 0
    ? ` (${
      (growth / delivered / NON_READERS).toFixed(1)
    } bytes a relayed line a non-reader)`
    : "";
  const message =
    `resident memory ${
      growth > 0 ? `grew by ${mib(growth)} at its peak` : "did not grow"
    }` +
    `${perLine} while A and B sent ${
      relayed.toLocaleString("en-US")
    } 3-byte lines (${delivered.toLocaleString("en-US")} relayed) ` +
    `in ${
      (streamedMs / 1000).toFixed(1)
    } s to ${NON_READERS} clients that do not read, each already sent ${
      mib(prefill)
    } of long lines (the kernel holds about ${mib(capacity)} of it) ` +
    `(allowed: ${NON_READERS} × the declared ${
      mib(ctx.settings.maxPendingBytes)
    } + ${mib(MEMORY_ALLOWANCE_BYTES)} = ${mib(bound)})`;
  if (growth > bound) {
    ctx.fail(
      `${message}: queued tiny lines cost the server more than their bytes` +
        (stop.exceededAtMs !== undefined
          ? `; past the bound ${
            (stop.exceededAtMs / 1000).toFixed(1)
          } s in, when the chatters stopped`
          : "") +
        fate,
      {
        clause: "§4.10",
        data: { growthBytes: growth, allowedBytes: bound, linesSent: relayed },
      },
    );
  } else {
    ctx.info(message + fate);
  }
  for (const note of behind) note();
  await leaveAndWatch(ctx, [a, b, filler, ...nonReaders]);
}

/** The flood cases. */
export const FLOOD_CASES: CaseDefinition[] = [
  {
    id: "flood.readers-keep-up",
    clause: "§4.9",
    level: "SHOULD",
    requirement:
      "While one client floods, 6 others that chat and keep reading stay connected and get every paced line",
    budgetMs: 60_000,
    run: readersKeepUp,
  },
  {
    id: "flood.tiny-lines-memory",
    clause: "§4.10",
    level: "MUST",
    requirement:
      "Tiny lines to 40 clients that stop reading cost no more memory than the bound",
    needs: ["spawn"],
    freshServer: true,
    budgetMs: 60_000,
    run: tinyLinesMemory,
  },
];
