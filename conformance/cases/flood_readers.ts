/**
 * `flood.readers-keep-up` (PROTOCOL.md §4.9): one client floods while six
 * others chat at a paced rate and keep reading; none of them may be cut
 * or lose a line. Judged by counts (readers cut, lines lost), latencies
 * are evidence only.
 *
 * @module
 */

import type { CaseContext, CaseDefinition } from "../case.ts";
import { describeError } from "../describe_error.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { leaveAndWatch, mib, noteEnd, percentile, size } from "./_helpers.ts";
import {
  endMarker,
  type FloodRun,
  pacedLine,
  type ReaderView,
  readRoom,
} from "./_paced_reader.ts";

const LF = 0x0a;

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
/** The flooder's read buffer: it reads and drops as fast as it can. */
const READ_BUFFER_BYTES = 256 * 1024;
/** After the flood, how long the readers may take to get the last lines. */
const DRAIN_MS = 3 * TIMEOUTS.line;
/** A paced line later than this is counted as late (evidence only). */
const LATE_MS = 1000;

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
  // Every paced-line count is over all readers, as pacedLinesOver1s is:
  // each reader expects the lines of the other chatters.
  ctx.measure(
    "pacedLinesExpected",
    views.reduce((n, view) => n + expectedAt(view), 0),
  );
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

/**
 * The case.
 *
 * @example
 * ```ts
 * import { READERS_KEEP_UP } from "./flood_readers.ts";
 * console.log(READERS_KEEP_UP.level); // "SHOULD"
 * ```
 */
export const READERS_KEEP_UP: CaseDefinition = {
  id: "flood.readers-keep-up",
  clause: "§4.9",
  level: "SHOULD",
  requirement:
    "While one client floods, 6 others that chat and keep reading stay connected and get every paced line",
  budgetMs: 60_000,
  run: readersKeepUp,
};
