/**
 * The servers `deno task compare` measures: ours, the Nim reference servers
 * (when `nim` can build them) and `ncat --broker` (when installed).
 *
 * @module
 */

import { fillPort, splitCommand } from "./server_process.ts";

/** A server under comparison. */
export interface CompareServer {
  /** Short id used in results and on the command line, e.g. `"book"`. */
  id: string;
  /** Display name. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** The argv that starts it on `port`. */
  command(port: number): string[];
  /**
   * Whether this is the baseline that ratios are taken against (the "Nim
   * in Action" design).
   */
  baseline?: boolean;
  /**
   * Consecutive ports it listens on from `port` (nodes of one room);
   * clients are spread over them.
   *
   * @default {1}
   */
  ports?: number;
}

/** Servers found, and why any expected one is missing. */
export interface ServerDiscovery {
  servers: CompareServer[];
  /** One line per server that could not be included, and why. */
  missing: string[];
}

/**
 * Our server's command: quiet, and room for the 10,000-client workload plus
 * the generator's slow consumers.
 */
export const OURS_COMMAND =
  "deno run -A server/main.ts --port {port} --quiet --max-clients 20000";

/**
 * ncat's broker mode. Its default limit is 100 connections (`--max-conns`),
 * which would fail every workload above 100 clients on a setting, so it is
 * raised as ours is; its `select()` loop still cannot go past 1,024 file
 * descriptors.
 */
/** Ours with the node:net transport (lighter idle connections). */
export const OURS_NODE_COMMAND = `${OURS_COMMAND} --transport node`;

/**
 * Ours as two nodes of one room through a redis-server of its own on
 * `port + 2`: the cross-node workload of issue 6.
 */
export const OURS_CLUSTER_COMMAND =
  "deno run -A cluster/main.ts --nodes 2 --base-port {port} --start-redis " +
  "--redis redis://127.0.0.1:{port+2} -- --quiet --max-clients 20000";

export const NCAT_COMMAND =
  "ncat -l --broker --max-conns 20000 127.0.0.1 {port}";

/** Short ids of the Nim references, by binary name. */
const NIM_IDS: Record<string, { id: string; name: string }> = {
  book_server: { id: "book", name: "Nim in Action (book)" },
  asyncnet_server: { id: "asyncnet", name: "Nim asyncnet example" },
  selectors_server: { id: "selectors", name: "Nim selectors tutorial" },
};

function fromTemplate(template: string): (port: number) => string[] {
  const words = splitCommand(template);
  return (port) =>
    fillPort(words, port).map((word) =>
      word.replaceAll("{port+2}", String(port + 2))
    );
}

async function onPath(program: string): Promise<boolean> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const info = await Deno.stat(`${dir}/${program}`);
      if (info.isFile) return true;
    } catch {
      // Not here.
    }
  }
  return false;
}

/**
 * Finds the servers to compare: ours always, the Nim references if
 * `reference/build.ts` can build them, ncat if it is on the PATH. A server
 * that cannot be had is listed in `missing` with the reason, so a report
 * never silently leaves one out.
 *
 * @example
 * ```ts ignore
 * import { discoverServers } from "./compare_servers.ts";
 * const { servers, missing } = await discoverServers();
 * console.log(servers.map((s) => s.id), missing);
 * ```
 */
export async function discoverServers(): Promise<ServerDiscovery> {
  const servers: CompareServer[] = [{
    id: "ours",
    name: "linechat (ours)",
    description: "this repository's Deno server",
    command: fromTemplate(OURS_COMMAND),
  }, {
    id: "ours-node",
    name: "linechat (node:net)",
    description: "this repository's Deno server, --transport node",
    command: fromTemplate(OURS_NODE_COMMAND),
  }];
  const missing: string[] = [];
  if (await onPath("redis-server")) {
    servers.push({
      id: "ours-2-nodes",
      name: "linechat, 2 nodes",
      description:
        "two nodes of ours joined through Redis pub/sub, clients alternating between them",
      command: fromTemplate(OURS_CLUSTER_COMMAND),
      ports: 2,
    });
  } else {
    missing.push("ours-2-nodes: redis-server not installed");
  }
  try {
    // Imported lazily: another part of the repository, built on demand.
    const { buildReferences } = await import("../reference/build.ts");
    const references = await buildReferences();
    for (const reference of references) {
      const known = NIM_IDS[reference.name] ??
        { id: reference.name, name: reference.name };
      servers.push({
        id: known.id,
        name: known.name,
        description: reference.description,
        command: (port) => reference.command(port),
        baseline: known.id === "book",
      });
    }
  } catch (error) {
    missing.push(
      `Nim references: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (await onPath("ncat")) {
    servers.push({
      id: "ncat",
      name: "ncat --broker",
      description: "Nmap's ncat in connection-brokering mode (C, select())",
      command: fromTemplate(NCAT_COMMAND),
    });
  } else {
    missing.push("ncat: not installed (apt-get install ncat)");
  }
  return { servers, missing };
}

/**
 * Keeps the servers whose ids are listed (all when `ids` is empty); throws
 * on an unknown id.
 *
 * @example
 * ```ts
 * import { selectServers } from "./compare_servers.ts";
 * const all = [{ id: "ours", name: "", description: "", command: () => [] }];
 * console.log(selectServers(all, ["ours"]).length); // 1
 * ```
 */
export function selectServers(
  servers: readonly CompareServer[],
  ids: readonly string[],
): CompareServer[] {
  if (ids.length === 0) return [...servers];
  for (const id of ids) {
    if (!servers.some((server) => server.id === id)) {
      throw new Error(
        `unknown or unavailable server "${id}" (have: ${
          servers.map((s) => s.id).join(", ")
        })`,
      );
    }
  }
  return servers.filter((server) => ids.includes(server.id));
}
