/**
 * `flood.tiny-lines-memory` (PROTOCOL.md §4.10): tiny lines stream to 40
 * clients that stopped reading while the server's memory is watched; what
 * it queues for them must cost no more than the declared bound.
 *
 * @module
 */

import type { GroupSample } from "../../lib/proc_stats.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import { describeError } from "../describe_error.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { leaveAndWatch, mib } from "./_helpers.ts";
import {
  fillNonReaders,
  loopbackCapacity,
  MEMORY_ALLOWANCE_BYTES,
  NON_READERS,
  readNonReaders,
  readTiny,
  TINY_BATCH,
  TINY_MAX_LINES,
  TINY_MS,
  TINY_RATE,
  TINY_WINDOW_LINES,
  tinyLine,
  tinySentinel,
  type TinyView,
} from "./_tiny_lines.ts";

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
  const stallMs = ctx.wait(TIMEOUTS.line * 2);
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
  let peak: GroupSample = base!;
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
    deadline.at = performance.now() + ctx.wait(TIMEOUTS.line);
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
            ctx.wait(TIMEOUTS.line)
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

/**
 * The case.
 *
 * @example
 * ```ts
 * import { TINY_LINES_MEMORY } from "./flood_memory.ts";
 * console.log(TINY_LINES_MEMORY.needs); // [ "spawn" ]
 * ```
 */
export const TINY_LINES_MEMORY: CaseDefinition = {
  id: "flood.tiny-lines-memory",
  clause: "§4.10",
  level: "MUST",
  requirement:
    "Tiny lines to 40 clients that stop reading cost no more memory than the bound",
  needs: ["spawn"],
  freshServer: true,
  budgetMs: 60_000,
  run: tinyLinesMemory,
};
