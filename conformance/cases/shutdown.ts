/**
 * Shutdown cases (PROTOCOL.md §5.4): SIGTERM closes the clients, stops
 * accepting and exits, having flushed what it held.
 *
 * @module
 */

import type { CaseDefinition } from "../case.ts";
import { describeStatus } from "../../lib/exit_status.ts";

/**
 * Whether `status` is a death by `signal`: reported as the signal, or by
 * the `sh -c` wrapper as 128 + its number.
 */
function killedBy(status: Deno.CommandStatus, signal: "SIGTERM"): boolean {
  return status.signal === signal || status.code === 128 + 15;
}

/**
 * Shutdown (§5.4) stops the server, so it runs last (see `cases/mod.ts`).
 *
 * @example
 * ```ts
 * import { SHUTDOWN_CASES } from "./disconnect.ts";
 * console.log(SHUTDOWN_CASES.map((c) => c.id));
 * ```
 */
export const SHUTDOWN_CASES: CaseDefinition[] = [
  {
    id: "disconnect.shutdown",
    clause: "§5.4",
    level: "SHOULD",
    requirement:
      "On SIGTERM the server stops accepting, closes every client within a bounded time, and exits",
    needs: ["spawn"],
    async run(ctx) {
      const server = ctx.server!;
      const [a, b] = await ctx.room(["A", "B"]);
      server.expectExit();
      const t0 = performance.now();
      server.signal("SIGTERM");
      const limit = ctx.timeout(5000);
      const [da, db] = await Promise.all([
        a.drainUntilClosed(limit),
        b.drainUntilClosed(limit),
      ]);
      const closedMs = performance.now() - t0;
      const status = await server.waitExit(Math.max(0, limit - closedMs));
      ctx.measure("clientsClosedMs", closedMs);
      if (!da.closed || !db.closed) {
        ctx.fail(
          `the server did not close its clients within ${limit} ms of SIGTERM`,
        );
      }
      if (status === null) {
        ctx.fail(`the server did not exit within ${limit} ms of SIGTERM`);
      } else if (killedBy(status, "SIGTERM")) {
        // The kernel closes the connections of a process it kills, so the
        // clients alone cannot tell this from a shutdown; the status can.
        ctx.fail(
          `the server did not shut down: it was ${
            describeStatus(status)
          }, the signal's default action (it has no handler); the kernel closed ` +
            `its clients after ${
              closedMs.toFixed(0)
            } ms and any output it held was dropped, ` +
            "not flushed",
          { data: { exitCode: status.code, signal: status.signal } },
        );
      } else {
        ctx.info(
          `clients closed after ${closedMs.toFixed(0)} ms; exit: ${
            describeStatus(status)
          }`,
        );
      }
      let accepting = false;
      try {
        const probe = await Deno.connect(ctx.settings.targets[0]);
        probe.close();
        accepting = true;
      } catch {
        // Refused: good.
      }
      if (accepting) {
        ctx.fail("the server still accepted connections after SIGTERM");
      }
    },
  },
];
