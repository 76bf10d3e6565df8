/**
 * Leaving cases (PROTOCOL.md §1.6, §5): every way of leaving, partial
 * lines at the moment of leaving, connection churn, leaks, and shutdown.
 *
 * @module
 */

import { indexOfBytes, utf8 } from "../bytes.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import { describeError } from "../describe_error.ts";
import { escapeBytes } from "../escape.ts";
import type { Peer } from "../peer.ts";
import type { RawPeer } from "../raw_peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { mib } from "./_helpers.ts";

/** Two clients still exchange lines, and a newcomer is registered and served. */
async function roomStillWorks(
  ctx: CaseContext,
  a: Peer,
  b: Peer,
): Promise<void> {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const line = utf8(`${from.name} still chatting (${ctx.tag})`);
    await from.send(line);
    if (
      !(await ctx.expectLines(to, [line], await ctx.sentinel(from), {
        clause: "§5.2",
      }))
    ) return;
  }
  const n = await ctx.connect("N");
  await ctx.join(n);
  const hello = utf8(`hello newcomer (${ctx.tag})`);
  await a.send(hello);
  await ctx.expectLines(n, [hello], await ctx.sentinel(a), { clause: "§5.2" });
}

/** Waits for `line` at each receiver (it must arrive). */
async function expectArrives(
  ctx: CaseContext,
  receivers: readonly Peer[],
  line: Uint8Array,
  clause: string,
) {
  const timeoutMs = ctx.wait(TIMEOUTS.line);
  for (const receiver of receivers) {
    const got = await receiver.collectUntil(line, { timeoutMs });
    if (got.end !== "found") {
      ctx.abort(
        `${receiver.name} never received "${escapeBytes(line)}": ${
          ctx.describeEnd(got, timeoutMs)
        }`,
        {
          clause,
          expected: { [receiver.name]: [line] },
          received: { [receiver.name]: got.lines },
        },
      );
    }
  }
}

/**
 * X sends a complete line and a partial one, then leaves `how`; the
 * receivers get the complete line and, up to a sentinel sent causally
 * after X's leaving was processed, nothing of the partial one.
 */
async function partialLine(
  ctx: CaseContext,
  how: "close" | "reset" | "half-close",
): Promise<void> {
  const [a, b] = await ctx.room(["A", "B"]);
  const complete = utf8(`complete line before leaving (${ctx.tag})`);
  const partial = utf8(`PARTIAL never terminated (${ctx.tag})`);
  let x: Peer | RawPeer;
  if (how === "reset") {
    x = await ctx.connectRaw("X");
  } else {
    x = await ctx.connect("X");
  }
  await ctx.join(x);
  await x.write(new Uint8Array([...complete, 0x0a, ...partial]));
  await expectArrives(ctx, [a, b], complete, "§5.1");
  let causal = "";
  if (how === "reset") {
    (x as RawPeer).reset();
  } else if (how === "close") {
    x.close();
  } else {
    await (x as Peer).closeWrite();
    const drained = await (x as Peer).drainUntilClosed(
      ctx.timeout(TIMEOUTS.close),
    );
    if (drained.closed) {
      causal = "the server closed X, so it had processed X's half-close";
    }
  }
  if (!causal) {
    // No signal from X: go round the server's loop twice, with X's leaving
    // already in its socket buffers, before the sentinel.
    await ctx.tick(a, b);
    await ctx.tick(b, a);
    causal = "two round trips through the server after X left";
  }
  ctx.note(`sentinel after ${causal}`);
  const timeoutMs = ctx.wait(TIMEOUTS.line);
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const got = await to.collectUntil(await ctx.sentinel(from), { timeoutMs });
    const leaked = [...to.stray, ...got.lines].filter((l) => {
      const text = escapeBytes(l.bytes, { maxBytes: 10_000 });
      return text.includes("PARTIAL never terminated");
    });
    if (leaked.length > 0) {
      ctx.fail(
        `${to.name} received X's unterminated partial line after X left by ${how}`,
        {
          expected: { [to.name]: [] },
          received: { [to.name]: leaked },
        },
      );
    }
    if (got.end !== "found") {
      ctx.abort(
        `${to.name} never got ${from.name}'s sentinel: ${
          ctx.describeEnd(got, timeoutMs)
        }`,
        {
          clause: "§5.2",
        },
      );
    }
  }
}

/** The ways a churning client leaves. */
const CHURN_KINDS = [
  "line+close",
  "line+half-close",
  "partial+close",
  "reset",
  "connect+close",
  "line+reset",
] as const;

interface ChurnResult {
  cycles: number;
  ms: number;
  /** Lines that had to arrive (sent, then FIN or half-close). */
  required: Set<string>;
  /** Lines that may arrive (sent, then RST right away). */
  optional: Set<string>;
  errors: string[];
}

/** Connects and leaves `cycles` times, 20 at once, every way of leaving. */
async function churn(
  ctx: CaseContext,
  cycles: number,
  prefix: string,
): Promise<ChurnResult> {
  const result: ChurnResult = {
    cycles,
    ms: 0,
    required: new Set(),
    optional: new Set(),
    errors: [],
  };
  const t0 = performance.now();
  const one = async (i: number) => {
    const kind = CHURN_KINDS[i % CHURN_KINDS.length];
    const name = `${prefix}${i}`;
    const line = `churn~${ctx.tag}~${name}~${kind}`;
    try {
      if (kind === "reset" || kind === "line+reset") {
        const raw = await ctx.connectRaw(name, { mustConnect: false });
        if (kind === "line+reset") {
          result.optional.add(line);
          await raw.send(line);
        }
        raw.reset();
        return;
      }
      const peer = await ctx.connect(name, {
        quiet: true,
        readBufferBytes: 1024,
        mustConnect: false,
      });
      if (kind === "line+close" || kind === "line+half-close") {
        result.required.add(line);
        await peer.send(line);
      }
      if (kind === "partial+close") await peer.write(`PARTIAL ${line}`);
      if (kind === "line+half-close") await peer.closeWrite();
      peer.close();
    } catch (error) {
      result.errors.push(`${name} (${kind}): ${describeError(error)}`);
    }
  };
  // 20 at once, fewer if a declared client limit leaves less room.
  const wave = Math.max(
    1,
    Math.min(20, (ctx.settings.maxClients ?? Infinity) - 4),
  );
  for (let i = 0; i < cycles; i += wave) {
    await Promise.all(
      Array.from({ length: Math.min(wave, cycles - i) }, (_, k) => one(i + k)),
    );
  }
  result.ms = performance.now() - t0;
  return result;
}

/**
 * Reads at both receivers (at once) until every required churn line
 * arrived, then at each up to a sentinel from the other; judges losses,
 * duplicates and partial lines.
 */
async function checkChurnLines(
  ctx: CaseContext,
  receivers: readonly [Peer, Peer],
  result: ChurnResult,
): Promise<void> {
  const decoder = new TextDecoder();
  const timeoutMs = ctx.wait(TIMEOUTS.line * 2 + result.cycles * 5);
  const tallies = receivers.map(() => ({
    waiting: new Set(result.required),
    seen: new Map<string, number>(),
    partials: [] as Uint8Array[],
  }));
  const count = (tally: typeof tallies[number], bytes: Uint8Array) => {
    const text = decoder.decode(bytes);
    if (text.includes("PARTIAL")) tally.partials.push(bytes);
    else if (text.startsWith("churn~")) {
      tally.seen.set(text, (tally.seen.get(text) ?? 0) + 1);
    }
    tally.waiting.delete(text);
  };
  const firsts = await Promise.all(receivers.map((receiver, i) => {
    receiver.quiet = true;
    return receiver.collectUntil((bytes) => {
      count(tallies[i], bytes);
      return tallies[i].waiting.size === 0;
    }, { timeoutMs });
  }));
  for (const [i, receiver] of receivers.entries()) {
    const tally = tallies[i];
    if (firsts[i].end === "found") {
      const other = receivers[1 - i];
      const tail = await receiver.collectUntil(await ctx.sentinel(other), {
        timeoutMs,
      });
      for (const line of tail.lines) count(tally, line.bytes);
    }
    receiver.quiet = false;
    // A missing line found inside another one came glued onto a leaving
    // client's partial line: that, not a loss or a limit, is the cause.
    const partialText = tally.partials.map((bytes) => decoder.decode(bytes));
    const glued = [...tally.waiting].filter((line) =>
      partialText.some((text) => text.includes(line))
    );
    if (tally.partials.length > 0) {
      ctx.fail(
        `${receiver.name} received ${tally.partials.length} partial lines of clients that left` +
          (glued.length > 0
            ? `, with ${glued.length} completed lines of other clients glued onto them ` +
              `(e.g. "${
                escapeBytes(
                  tally.partials.find((b) =>
                    decoder.decode(b).includes(glued[0])
                  )!,
                  { maxBytes: 100 },
                )
              }"): the server relays what a leaving client left unfinished, ` +
              "so the next line it relays is merged with it"
            : ""),
        {
          clause: "§1.6",
          received: { [receiver.name]: tally.partials.slice(0, 10) },
          data: { partials: tally.partials.length, glued: glued.length },
        },
      );
    }
    const missing = tally.waiting.size - glued.length;
    if (missing > 0) {
      // Hint at a client limit only when none is declared and the
      // connects themselves failed (a server that refuses clients).
      const limitHint = ctx.settings.maxClients === undefined &&
          result.errors.length > 0
        ? "; a client limit? declare it with --max-clients"
        : "";
      ctx.fail(
        `${missing} of the ${result.required.size} lines that churning clients completed ` +
          `before leaving had not reached ${receiver.name} ${timeoutMs} ms after the churn ` +
          `(lost, or held up: e.g. "${
            [...tally.waiting].find((line) => !glued.includes(line))
          }"${limitHint})`,
        {
          clause: "§5.1",
          data: { missing, waitedMs: timeoutMs },
        },
      );
    }
    const twice = [...tally.seen].filter(([, n]) => n > 1);
    if (twice.length > 0) {
      ctx.fail(
        `${receiver.name} received ${twice.length} churn lines more than once`,
        {
          clause: "§2.3",
          received: {
            [receiver.name]: twice.map(([text]) => text).slice(0, 10),
          },
        },
      );
    }
  }
}

/**
 * The disconnect cases.
 *
 * @example
 * ```ts
 * import { DISCONNECT_CASES } from "./disconnect.ts";
 * console.log(DISCONNECT_CASES.map((c) => c.id));
 * ```
 */
export const DISCONNECT_CASES: CaseDefinition[] = [
  {
    id: "disconnect.close",
    clause: "§5.1",
    level: "MUST",
    requirement:
      "A client that sends a line and closes at once (FIN): its line is relayed, the room goes on",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      const x = await ctx.connect("X");
      await ctx.join(x);
      const last = utf8(`X's line, then FIN (${ctx.tag})`);
      await x.send(last);
      x.close();
      await expectArrives(ctx, [a, b], last, "§5.1");
      await roomStillWorks(ctx, a, b);
    },
  },
  {
    id: "disconnect.reset",
    clause: "§5.1",
    level: "MUST",
    requirement:
      "A client that resets its connection (RST) leaves; the server carries on",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      const x = await ctx.connectRaw("X");
      await ctx.join(x);
      const last = utf8(`X's line before its RST (${ctx.tag})`);
      await x.send(last);
      await expectArrives(ctx, [a, b], last, "§5.1");
      x.reset();
      await roomStillWorks(ctx, a, b);
    },
  },
  {
    id: "disconnect.half-close",
    clause: "§5.1",
    level: "MUST",
    requirement:
      "A client that half-closes leaves: its lines are relayed, the server closes it and sends it nothing later",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      const h = await ctx.connect("H");
      await ctx.join(h);
      const last = utf8(`H's line, then half-close (${ctx.tag})`);
      await h.send(last);
      await h.closeWrite();
      await expectArrives(ctx, [a, b], last, "§5.1");
      // H's FIN is in the server's buffers; after two round trips through
      // the server, a new line is one H must not get (§2.10).
      await ctx.tick(a, b);
      await ctx.tick(b, a);
      const later = utf8(`completed after H half-closed (${ctx.tag})`);
      await a.send(later);
      await expectArrives(ctx, [b], later, "§2.1");
      const drained = await h.drainUntilClosed(ctx.timeout(TIMEOUTS.close));
      const leaked = drained.lines.filter((l) =>
        indexOfBytes(l.bytes, later) >= 0
      );
      if (leaked.length > 0) {
        ctx.fail(
          "H received a line completed after it had half-closed (it was kept in the room)",
          {
            clause: "§2.10",
            received: { H: drained.lines },
          },
        );
      }
      if (!drained.closed) {
        ctx.fail(
          `the server did not close H within ${
            ctx.timeout(TIMEOUTS.close)
          } ms of its half-close ` +
            "(it should leave the room and be released)",
          { clause: "§5.2" },
        );
      } else {
        ctx.info(
          `the server closed H (${drained.closed}) after its half-close`,
        );
      }
      await roomStillWorks(ctx, a, b);
    },
  },
  {
    id: "disconnect.partial-line-close",
    clause: "§1.6",
    level: "MUST",
    requirement:
      "The partial line of a client that closes (FIN) is never relayed",
    run: (ctx) => partialLine(ctx, "close"),
  },
  {
    id: "disconnect.partial-line-reset",
    clause: "§1.6",
    level: "MUST",
    requirement:
      "The partial line of a client that resets (RST) is never relayed",
    run: (ctx) => partialLine(ctx, "reset"),
  },
  {
    id: "disconnect.partial-line-half-close",
    clause: "§1.6",
    level: "MUST",
    requirement:
      "The partial line of a client that half-closes is never relayed",
    run: (ctx) => partialLine(ctx, "half-close"),
  },
  {
    id: "disconnect.churn",
    clause: "§5.2",
    level: "MUST",
    requirement:
      "After hundreds of connect/leave cycles of every kind the room works and every completed line was relayed",
    budgetMs: 120_000,
    async run(ctx) {
      const [r1, r2] = await ctx.room(["R1", "R2"]);
      const result = await churn(ctx, 300, "X");
      ctx.measure("cycles", result.cycles);
      ctx.measure("churnMs", result.ms);
      if (result.errors.length > 0) {
        ctx.fail(
          `${result.errors.length} churning clients could not connect or send: ${
            result.errors[0]
          }`,
          { data: { errors: result.errors.length } },
        );
      }
      await checkChurnLines(ctx, [r1, r2], result);
      await roomStillWorks(ctx, r1, r2);
    },
  },
  {
    id: "disconnect.churn-leak",
    clause: "§5.2",
    level: "MUST",
    requirement:
      "Clients that left are released: open files return to the baseline, memory does not grow with churn",
    needs: ["spawn"],
    freshServer: true,
    budgetMs: 120_000,
    async run(ctx) {
      const server = ctx.server!;
      const [r1, r2] = await ctx.room(["R1", "R2"]);
      // Both receivers read up to each other's sentinel: the churn lines
      // before it are drained and the server has gone round its loop.
      const settle = async () => {
        const timeoutMs = ctx.wait(TIMEOUTS.line * 2);
        for (const [from, to] of [[r1, r2], [r2, r1]] as const) {
          to.quiet = true;
          const got = await to.collectUntil(await ctx.sentinel(from), {
            timeoutMs,
          });
          to.quiet = false;
          if (got.end !== "found") {
            ctx.abort(
              `${to.name} never got ${from.name}'s sentinel after the churn`,
              { clause: "§5.2" },
            );
          }
        }
      };
      await churn(ctx, 120, "W");
      await settle();
      const base = await server.sampleUntil(() => false, 0);
      if (base === null) ctx.abort("the server is not running");
      const cycles = 400;
      await churn(ctx, cycles, "X");
      await settle();
      const slack = 8;
      const after = await server.sampleUntil(
        (s) => s.fds <= base!.fds + slack,
        ctx.timeout(TIMEOUTS.close * 2),
      );
      if (after === null) ctx.abort("the server is not running");
      const fdGrowth = after!.fds - base!.fds;
      const rssGrowth = after!.rssBytes - base!.rssBytes;
      ctx.measure("fdsBefore", base!.fds);
      ctx.measure("fdsAfter", after!.fds);
      ctx.measure("rssGrowthBytes", rssGrowth);
      if (fdGrowth > slack) {
        ctx.fail(
          `${fdGrowth} more files were open ${
            ctx.timeout(TIMEOUTS.close * 2)
          } ms after ${cycles} ` +
            `clients came and left (${base!.fds} → ${
              after!.fds
            }): sockets are not closed`,
          { data: { fdsBefore: base!.fds, fdsAfter: after!.fds, cycles } },
        );
      }
      const allowed = cycles * 64 * 1024;
      if (rssGrowth > allowed) {
        ctx.fail(
          `resident memory grew by ${mib(rssGrowth)} over ${cycles} cycles ` +
            `(over 64 KiB a client that left)`,
          { data: { rssGrowthBytes: rssGrowth, cycles } },
        );
      }
      if (fdGrowth <= slack && rssGrowth <= allowed) {
        ctx.info(
          `after ${cycles} cycles: open files ${base!.fds} → ${after!.fds}, ` +
            `memory ${rssGrowth >= 0 ? "+" : ""}${mib(rssGrowth)}`,
        );
      }
    },
  },
];
