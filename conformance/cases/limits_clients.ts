/**
 * Limit cases on clients (PROTOCOL.md §2.1 at scale, §4.8): many clients at
 * once, and the declared client limit.
 *
 * @module
 */

import type { ReceivedLine } from "../../client/chat_client.ts";
import { utf8 } from "../bytes.ts";
import type { CaseDefinition } from "../case.ts";
import { acceptQueue } from "../accept_queue.ts";
import { controlLine } from "../control_lines.ts";
import { CaseAbort } from "../findings.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";

/**
 * The cases on many clients and the client limit.
 *
 * @example
 * ```ts
 * import { CLIENT_LIMIT_CASES } from "./limits_clients.ts";
 * console.log(CLIENT_LIMIT_CASES.map((c) => c.id));
 * ```
 */
export const CLIENT_LIMIT_CASES: CaseDefinition[] = [
  {
    id: "limits.many-clients",
    clause: "§2.1",
    level: "MUST",
    requirement:
      "With many clients connected at once (--clients, default 500) every one receives each line",
    budgetMs: 120_000,
    async run(ctx) {
      const total = Math.max(
        3,
        Math.min(ctx.settings.clients, ctx.settings.maxClients ?? Infinity),
      );
      const t0 = performance.now();
      const [first, second] = await ctx.room(["C1", "C2"], { quiet: true });
      const rest: Peer[] = [];
      for (let i = 3; i <= total; i += 50) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(50, total - i + 1) },
            (_, k) =>
              ctx.connect(`C${i + k}`, { quiet: true, readBufferBytes: 4096 }),
          ),
        );
        rest.push(...batch);
      }
      // While the crowd registers, watch the listen queue (a server that
      // accepts slowly leaves connections waiting there): slow, not lost.
      const target = ctx.settings.targets[0];
      let queued = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          queued = Math.max(queued, acceptQueue(target) ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const t1 = performance.now();
      try {
        await ctx.joinMany(rest);
      } catch (error) {
        if (queued > 0 && error instanceof CaseAbort) {
          ctx.info(
            `up to ${queued} connections were waiting in the server's listen queue, ` +
              "not yet accepted, while the join lines were awaited",
            { data: { listenQueueMax: queued } },
          );
        }
        throw error;
      } finally {
        watching = false;
        await watch;
      }
      const registerMs = performance.now() - t1;
      ctx.measure("clients", total);
      ctx.measure("connectAndRegisterMs", performance.now() - t0);
      ctx.measure("slowestConnectMs", ctx.slowestConnectMs);
      ctx.measure("listenQueueMax", queued);
      if (registerMs > ctx.wait(TIMEOUTS.line) || ctx.slowestConnectMs > 1000) {
        ctx.info(
          `the server accepts slowly: the ${rest.length} clients' join lines took ${
            (registerMs / 1000).toFixed(1)
          } s to arrive` +
            (queued > 0
              ? `, with up to ${queued} connections waiting in its listen queue`
              : "") +
            (ctx.slowestConnectMs > 1000
              ? `, and a connect took ${
                (ctx.slowestConnectMs / 1000).toFixed(1)
              } s (its listen queue overflowed: the kernel dropped SYNs)`
              : "") +
            "; every line still arrived, late, not lost",
          {
            data: {
              registerMs: Math.round(registerMs),
              listenQueueMax: queued,
            },
          },
        );
      }
      const everyone = [first, second, ...rest];
      const timeoutMs = ctx.wait(TIMEOUTS.line * 2 + total * 4);
      for (const sender of [first, everyone[everyone.length - 1]]) {
        const line = utf8(`to all ${total} from ${sender.name} (${ctx.tag})`);
        const t1 = performance.now();
        await sender.send(line);
        const missed: string[] = [];
        await Promise.all(
          everyone.filter((p) => p !== sender).map(async (peer) => {
            const got = await peer.collectUntil(line, { timeoutMs });
            if (got.end !== "found") missed.push(peer.name);
          }),
        );
        ctx.measure(`fanOutMsFrom${sender.name}`, performance.now() - t1);
        if (missed.length > 0) {
          ctx.fail(
            `${missed.length} of ${
              total - 1
            } clients did not receive ${sender.name}'s line ` +
              `(e.g. ${
                missed.slice(0, 5).join(", ")
              }; C1 joined first, C${total} last)`,
            { data: { missed: missed.length, clients: total } },
          );
          return;
        }
      }
    },
  },
  {
    id: "limits.server-full",
    clause: "§4.8",
    level: "SHOULD",
    requirement:
      "A connection over the declared client limit is accepted and closed at once, receiving nothing",
    needs: ["max-clients"],
    budgetMs: 120_000,
    async run(ctx) {
      const max = ctx.settings.maxClients!;
      const [first, second] = await ctx.room(["C1", "C2"], { quiet: true });
      const members: Peer[] = [first, second];
      // Fill to a little under the limit in bulk (a client that just left
      // may still count for a moment), then one by one.
      const bulk = Math.max(0, max - 10 - 2);
      for (let i = 0; i < bulk; i += 50) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(50, bulk - i) },
            (_, k) =>
              ctx.connect(`C${members.length + i + k + 1}`, {
                quiet: true,
                readBufferBytes: 4096,
              }),
          ),
        );
        await ctx.joinMany(batch);
        members.push(...batch);
      }
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      let rejected: Peer | undefined;
      let rejectedLines: ReceivedLine[] = [];
      while (members.length <= max + 10) {
        const x = await ctx.connect(`C${members.length + 1}`, { quiet: true });
        const token = controlLine("join", ctx.tag, x.name);
        let sent = true;
        try {
          await x.send(token);
        } catch {
          sent = false;
        }
        const got = sent
          ? await first.collectUntil(token, { timeoutMs })
          : undefined;
        if (got?.end === "found") {
          members.push(x);
          continue;
        }
        const drained = await x.drainUntilClosed(ctx.timeout(TIMEOUTS.close));
        if (drained.closed) {
          rejected = x;
          rejectedLines = drained.lines;
          break;
        }
        ctx.abort(`${x.name} was neither registered nor closed`, {
          clause: "§4.8",
        });
      }
      ctx.measure("acceptedClients", members.length);
      if (!rejected) {
        ctx.fail(
          `no connection was refused up to ${members.length} clients (declared limit ${max})`,
        );
        return;
      }
      ctx.info(
        `${members.length} clients were registered; the next was closed at once`,
      );
      if (members.length > max) {
        ctx.fail(
          `${members.length} clients were registered, over the declared limit ${max}`,
        );
      }
      if (rejectedLines.length > 0) {
        ctx.fail(
          `the refused connection received ${rejectedLines.length} lines before being closed`,
          {
            received: { [rejected.name]: rejectedLines },
          },
        );
      }
      const line = utf8(`still serving all ${members.length} (${ctx.tag})`);
      await first.send(line);
      const missed: string[] = [];
      await Promise.all(
        members.slice(1).map(async (peer) => {
          const got = await peer.collectUntil(line, {
            timeoutMs: ctx.wait(TIMEOUTS.line * 2),
          });
          if (got.end !== "found") missed.push(peer.name);
        }),
      );
      if (missed.length > 0) {
        ctx.fail(
          `${missed.length} connected clients missed a line after the refusal`,
          { clause: "§4.8" },
        );
      }
    },
  },
];
