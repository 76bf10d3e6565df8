/**
 * Test fixtures: a faulty server in this process, restartable, as the
 * fuzz search sees one.
 *
 * @module
 */

import { FAULTY_SERVERS } from "../faulty/faults.ts";
import { type FaultyHandle, serveFaulty } from "../faulty/server.ts";
import type { FuzzServer } from "./fuzz.ts";

/**
 * Starts faulty server `name` on a free port; `restart` starts a fresh
 * one, `stop` the last.
 *
 * @example
 * ```ts ignore
 * import { faultyFuzzServer } from "./_fixtures.ts";
 * const server = faultyFuzzServer("echo");
 * await server.stop();
 * ```
 */
export function faultyFuzzServer(
  name: string,
): FuzzServer & { stop(): Promise<void> } {
  const faults = FAULTY_SERVERS[name].faults;
  // Its greeting on stdout would only clutter the test output.
  const quiet = <T>(start: () => T): T => {
    const log = console.log;
    console.log = () => {};
    try {
      return start();
    } finally {
      console.log = log;
    }
  };
  let handle: FaultyHandle = quiet(() => serveFaulty(0, faults));
  return {
    target: () => ({
      hostname: "127.0.0.1",
      port: (handle.listener.addr as Deno.NetAddr).port,
    }),
    async restart() {
      await handle.shutdown(0);
      handle = quiet(() => serveFaulty(0, faults));
    },
    stop: () => handle.shutdown(0),
  };
}
