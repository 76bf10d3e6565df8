/**
 * What the perf scripts run: servers of the one registry
 * (targets/servers.ts), with room for 20,000 clients, and those
 * `--command NAME=CMD` adds; and their rounds, alternating the servers,
 * printed one run at a time and then as medians.
 *
 * @module
 */

import { UsageError } from "../../lib/args.ts";
import { knownServers } from "../../targets/servers.ts";
import { spread } from "../statistics.ts";

/** A server a perf script starts: its name and shell command template. */
export interface PerfServer {
  name: string;
  /** Run with `sh -c` from the repository root; `{port}` is its port. */
  command: string;
}

const NIM_IDS = ["book", "asyncnet", "selectors"];

/**
 * The servers `list` (`a,b`) names, in its order: ids of the registry
 * (the Nim references are built only when one is named) or names that
 * `commands` (`NAME=COMMAND` with `{port}`) define. Throws
 * {@linkcode UsageError} for a bad or unknown name, and an `Error` saying
 * why for one that cannot run here (a tool missing).
 *
 * @example
 * ```ts ignore
 * import { perfServers } from "./_servers.ts";
 * const [ncat] = await perfServers("ncat", []);
 * console.log(ncat.command); // ncat -l --broker --max-conns 20000 127.0.0.1 {port}
 * ```
 */
export async function perfServers(
  list: string,
  commands: readonly string[],
): Promise<PerfServer[]> {
  const given = new Map<string, string>();
  for (const named of commands) {
    const at = named.indexOf("=");
    if (at < 1 || !named.includes("{port}")) {
      throw new UsageError(
        `--command: expected NAME=COMMAND with {port}, got "${named}"`,
      );
    }
    given.set(named.slice(0, at), named.slice(at + 1));
  }
  const names = list.split(",").filter((name) => name !== "");
  const registry = await knownServers({
    build: names.some((name) => NIM_IDS.includes(name) && !given.has(name)),
    oursMaxClients: 20_000,
  });
  return names.map((name) => {
    const command = given.get(name);
    if (command !== undefined) return { name, command };
    const known = registry.find((server) => server.id === name);
    if (known === undefined) {
      throw new UsageError(
        `--servers: unknown server "${name}" (known: ${
          registry.map((server) => server.id).join(", ")
        }; add one with --command NAME=CMD)`,
      );
    }
    if (known.unavailable !== undefined) {
      throw new Error(`${name} cannot run here: ${known.unavailable}`);
    }
    return { name, command: known.command };
  });
}

/**
 * Measures every server `rounds` times, alternating them, printing each
 * result as it comes (`format`) and then one row of medians per server
 * (every numeric field of its results); resolves with all results.
 *
 * @example
 * ```ts ignore
 * import { runRounds } from "./_servers.ts";
 * await runRounds(servers, 3, (server) => measure(server), (r) => `${r.server} ${r.ms} ms`);
 * ```
 */
export async function runRounds<R extends { server: string }>(
  servers: readonly PerfServer[],
  rounds: number,
  measure: (server: PerfServer) => Promise<R>,
  format: (result: R) => string,
): Promise<R[]> {
  const results: R[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      const result = await measure(server);
      results.push(result);
      console.log(`round ${round}  ${format(result)}`);
    }
  }
  console.log("medians:");
  for (const { name } of servers) {
    const mine = results.filter((result) => result.server === name);
    const row: Record<string, unknown> = { ...mine[0] };
    for (const [key, value] of Object.entries(row)) {
      if (typeof value === "number") {
        row[key] = spread(mine.map((r) => r[key as keyof R] as number))!
          .median;
      }
    }
    console.log(`          ${format(row as R)}`);
  }
  return results;
}
