/**
 * Cases on the server's own stream (PROTOCOL.md §2.5, §3.1): how it ends
 * lines, and that it sends nothing but other clients' lines.
 *
 * @module
 */

import type { ReceivedLine } from "../../client/chat_client.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";

/** Splits lines into replayed history (sent earlier in the run) and the rest. */
function classify(ctx: CaseContext, lines: readonly ReceivedLine[]) {
  const history = lines.filter((l) => ctx.wasSent(l.bytes));
  const other = lines.filter((l) => !ctx.wasSent(l.bytes));
  return { history, other };
}

/**
 * The stream cases.
 *
 * @example
 * ```ts
 * import { STREAM_CASES } from "./stream.ts";
 * console.log(STREAM_CASES.map((c) => c.id));
 * ```
 */
export const STREAM_CASES: CaseDefinition[] = [
  {
    id: "stream.crlf-output",
    clause: "§2.5",
    level: "MUST",
    requirement: "The server ends every line it sends with CR LF",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      await a.write("sent with LF\nsent with CR LF\r\n\nlast\n");
      const sentinel = await ctx.sentinel(a);
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      const got = await b.collectUntil(sentinel, { timeoutMs });
      if (got.end !== "found") {
        ctx.abort(
          `B never got A's sentinel: ${ctx.describeEnd(got, timeoutMs)}`,
          {
            clause: "§2.1",
          },
        );
      }
      const lines = [...got.lines, got.found!];
      const lfOnly = lines.filter((line) => !line.crlf);
      ctx.measure("terminator", lfOnly.length === 0 ? "crlf" : "lf");
      if (lfOnly.length > 0) {
        ctx.fail(
          `${lfOnly.length} of the ${lines.length} lines B received ended with LF alone`,
          { received: { B: lfOnly.map(escapeTerminated) } },
        );
      }
    },
  },
  {
    id: "stream.no-banner",
    clause: "§3.1",
    level: "MUST",
    requirement:
      "The server sends nothing but other clients' lines: no banner, prompt, notice or join/leave message",
    async run(ctx) {
      const [o, p] = await ctx.room(["O", "P"]);
      const n = await ctx.connect("N");
      await ctx.join(n);
      n.close();
      ctx.note("N left; O and P now exchange sentinels, after two ticks");
      await ctx.tick(p, o);
      await ctx.tick(o, p);
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      const rest = new Map<Peer, ReceivedLine[]>();
      for (const [from, to] of [[o, p], [p, o]] as const) {
        const got = await to.collectUntil(await ctx.sentinel(from), {
          timeoutMs,
        });
        if (got.end !== "found") {
          ctx.abort(
            `${to.name} never got ${from.name}'s sentinel: ${
              ctx.describeEnd(got, timeoutMs)
            }`,
            {
              clause: "§2.1",
            },
          );
        }
        rest.set(to, [...to.stray, ...got.lines]);
      }
      const moments: [Peer, string, ReceivedLine[]][] = [
        [o, "on connecting, or when P and N joined", o.unsolicited],
        [p, "on connecting, or when N joined", p.unsolicited],
        [n, "on connecting", n.unsolicited],
        [o, "after N left", rest.get(o)!],
        [p, "after N left", rest.get(p)!],
      ];
      for (const [peer, when, lines] of moments) {
        const { history, other } = classify(ctx, lines);
        if (other.length > 0) {
          ctx.fail(
            `${peer.name} received ${other.length} lines no client sent, ${when}`,
            {
              expected: { [peer.name]: [] },
              received: { [peer.name]: other },
            },
          );
        }
        if (history.length > 0) {
          ctx.info(
            `${peer.name} received ${history.length} lines sent before it connected, ${when} ` +
              "(history: see relay.join-mid-stream, §2.9)",
            { clause: "§2.9", received: { [peer.name]: history } },
          );
        }
      }
    },
  },
];

function escapeTerminated(line: ReceivedLine): Uint8Array {
  const out = new Uint8Array(line.bytes.length + (line.crlf ? 2 : 1));
  out.set(line.bytes);
  out.set(line.crlf ? [0x0d, 0x0a] : [0x0a], line.bytes.length);
  return out;
}
