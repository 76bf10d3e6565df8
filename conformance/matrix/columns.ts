/**
 * Which of the known servers (`targets/servers.ts`) are the matrix's
 * columns, in column order, and the client limit ours is declared with.
 * Everything else about a server (its command, tools, weight) is the
 * registry's.
 *
 * @module
 */

import {
  type KnownServer,
  knownServers,
  selectServers,
  type ServerId,
} from "../../targets/servers.ts";

/**
 * The matrix's server ids in column order (the registry's `ours-2-nodes`
 * is not a column: `cluster/conformance_test.ts` runs the suite across
 * nodes).
 *
 * @example
 * ```ts
 * import { MATRIX_SERVER_IDS } from "./columns.ts";
 * console.log(MATRIX_SERVER_IDS.join(",")); // "ours,ours-deno,book,asyncnet,selectors,ncat"
 * ```
 */
export const MATRIX_SERVER_IDS = [
  "ours",
  "ours-deno",
  "book",
  "asyncnet",
  "selectors",
  "ncat",
] as const satisfies readonly ServerId[];

/**
 * The client limit our server is started with in the matrix (`--max-clients`),
 * declared to the suite so that it checks §4.8. It is above the suite's
 * default `--clients` (500), so `limits.many-clients` is unaffected.
 *
 * @example
 * ```ts
 * import { OURS_MAX_CLIENTS } from "./columns.ts";
 * console.log(OURS_MAX_CLIENTS); // 1000
 * ```
 */
export const OURS_MAX_CLIENTS = 1000;

/**
 * Options for {@linkcode matrixServers}.
 *
 * @example
 * ```ts
 * import type { MatrixServersOptions } from "./columns.ts";
 * const options: MatrixServersOptions = { build: false };
 * console.log(options.build);
 * ```
 */
export interface MatrixServersOptions {
  /**
   * Build the Nim references when `nim` is installed; without it they are
   * listed as unavailable.
   *
   * @default {true}
   */
  build?: boolean;
  /**
   * The `deno` our server is started with.
   *
   * @default {"deno" when on the PATH, else `Deno.execPath()`}
   */
  deno?: string;
}

/**
 * The matrix's servers from the registry, in column order. One that
 * cannot run here is listed with `unavailable` saying why.
 *
 * @example List them without building anything
 * ```ts
 * import { matrixServers } from "./columns.ts";
 * const servers = await matrixServers({ build: false });
 * console.log(servers.map((server) => server.id).join(" ")); // "ours ours-deno book asyncnet selectors ncat"
 * ```
 */
export async function matrixServers(
  options: MatrixServersOptions = {},
): Promise<KnownServer[]> {
  const servers = await knownServers({
    build: options.build,
    deno: options.deno,
    oursMaxClients: OURS_MAX_CLIENTS,
  });
  return selectServers(servers, MATRIX_SERVER_IDS);
}
