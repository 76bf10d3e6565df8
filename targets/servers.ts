/**
 * The servers the tools know by name: ours (with either transport, or as
 * two nodes), the three Nim reference servers and `ncat --broker`. One
 * registry for the conformance matrix, `deno task compare` and
 * `deno task attack`; each entry is a command template that
 * `lib/server_process.ts` starts.
 *
 * @module
 */

import { onPath } from "../lib/on_path.ts";
import { shellJoin, shellQuote } from "../lib/shell.ts";
import { buildReferences } from "../reference/build.ts";

/**
 * A server under test, known by id.
 *
 * @example
 * ```ts
 * import type { KnownServer } from "./servers.ts";
 *
 * const server: KnownServer = {
 *   id: "ours",
 *   name: "linechat",
 *   description: "this repository's server",
 *   kind: "ours",
 *   command: "deno run -A server/main.ts --port {port} --quiet",
 *   tools: [],
 * };
 * console.log(server.command.includes("{port}")); // true
 * ```
 */
export interface KnownServer {
  /** Short id: `--servers` value, column key and expectations key. */
  id: string;
  /** Display name. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Ours, a Nim reference, or a general-purpose relay. */
  kind: "ours" | "reference" | "relay";
  /**
   * The command that starts it, run with `sh -c` from the repository root:
   * `{port}` is where it listens, `{port+N}` further ports it uses.
   */
  command: string;
  /** External programs it needs (`nim`, `ncat`, `redis-server`). */
  tools: string[];
  /**
   * The client limit it runs with, if it has one the tools should know
   * (the conformance suite checks §4.8 with it).
   *
   * @default {undefined}
   */
  maxClients?: number;
  /**
   * Relative run time of a full suite on it; heavier servers start first
   * so that a run in several lanes ends sooner.
   *
   * @default {1}
   */
  weight?: number;
  /** The baseline that `compare` takes ratios against (the book design). */
  baseline?: boolean;
  /** Set when it cannot run here, saying why (it is listed all the same). */
  unavailable?: string;
}

/**
 * Every id, in the order tools list them.
 *
 * @example
 * ```ts
 * import { SERVER_IDS } from "./servers.ts";
 * console.log(SERVER_IDS.length); // 7
 * ```
 */
export const SERVER_IDS = [
  "ours",
  "ours-deno",
  "ours-2-nodes",
  "book",
  "asyncnet",
  "selectors",
  "ncat",
] as const;

/** One of {@linkcode SERVER_IDS}. */
export type ServerId = typeof SERVER_IDS[number];

/**
 * The repository root, where every command runs.
 *
 * @example
 * ```ts
 * import { REPO_ROOT } from "./servers.ts";
 * console.log(REPO_ROOT.startsWith("/")); // true
 * ```
 */
export const REPO_ROOT: string = decodeURIComponent(
  new URL("../", import.meta.url).pathname,
).replace(/\/$/, "");

/** Options for {@linkcode knownServers}. */
export interface KnownServersOptions {
  /**
   * Build the Nim references (with `reference/build.ts`) when `nim` is
   * installed. Without it, they are listed as unavailable.
   *
   * @default {true}
   */
  build?: boolean;
  /**
   * The `--max-clients` our server runs with (the matrix declares 1,000 so
   * that §4.8 is checked; compare needs 20,000 for its 10,000 clients).
   *
   * @default {1000}
   */
  oursMaxClients?: number;
  /**
   * The `deno` our server is started with.
   *
   * @default {"deno" when on the PATH, else `Deno.execPath()`}
   */
  deno?: string;
}

const NIM: Record<string, { id: ServerId; name: string; weight: number }> = {
  book_server: { id: "book", name: "Nim book", weight: 1 },
  asyncnet_server: { id: "asyncnet", name: "Nim asyncnet", weight: 1 },
  selectors_server: { id: "selectors", name: "Nim selectors", weight: 4 },
};

/**
 * Lists every known server in {@linkcode SERVER_IDS} order. One that
 * cannot run here (a tool is missing, the references do not build) is
 * listed with `unavailable` saying why, so nothing is left out silently.
 *
 * @example List them without building anything
 * ```ts
 * import { knownServers } from "./servers.ts";
 * const servers = await knownServers({ build: false });
 * console.log(servers.map((server) => server.id).join(" "));
 * // "ours ours-deno ours-2-nodes book asyncnet selectors ncat"
 * ```
 */
export async function knownServers(
  options: KnownServersOptions = {},
): Promise<KnownServer[]> {
  const deno = options.deno ??
    (onPath("deno") ? "deno" : shellQuote(Deno.execPath()));
  const maxClients = options.oursMaxClients ?? 1000;
  const ours = `${deno} run -A server/main.ts --port {port} --quiet ` +
    `--max-clients ${maxClients}`;
  const missing = (tool: string) =>
    onPath(tool)
      ? undefined
      : `${tool} is not installed (apt-get install ${
        tool === "redis-server" ? "redis-server" : tool
      })`;
  const servers: KnownServer[] = [
    {
      id: "ours",
      name: "linechat",
      description: "this repository's server, its default transport (node:net)",
      kind: "ours",
      command: ours,
      tools: [],
      maxClients,
    },
    {
      id: "ours-deno",
      name: "linechat (Deno.listen)",
      description:
        "this repository's server, Deno.listen transport (the one TLS uses)",
      kind: "ours",
      command: `${ours} --transport deno`,
      tools: [],
      maxClients,
    },
    {
      id: "ours-2-nodes",
      name: "linechat, 2 nodes",
      description:
        "two nodes of ours joined through a redis-server of their own; clients alternate between them",
      kind: "ours",
      command: `${deno} run -A cluster/main.ts --nodes 2 --base-port {port} ` +
        `--start-redis --redis redis://127.0.0.1:{port+2} -- --quiet ` +
        `--max-clients ${maxClients}`,
      tools: ["redis-server"],
      maxClients,
      unavailable: missing("redis-server"),
    },
    ...await nimServers(options.build ?? true),
    {
      id: "ncat",
      name: "ncat --broker",
      description:
        "Nmap's ncat relaying between its clients (C, select()); --max-conns " +
        "lifts its default limit of 100 connections",
      kind: "relay",
      command: "ncat -l --broker --max-conns 20000 127.0.0.1 {port}",
      tools: ["ncat"],
      weight: 2,
      unavailable: missing("ncat"),
    },
  ];
  return servers;
}

async function nimServers(build: boolean): Promise<KnownServer[]> {
  const entry = (
    binary: string,
    fields: Partial<KnownServer> = {},
  ): KnownServer => {
    const known = NIM[binary];
    return {
      id: known.id,
      name: known.name,
      description: `Nim reference reference/nim/${binary}.nim`,
      kind: "reference",
      command: `reference/nim/build/${binary} {port}`,
      tools: ["nim"],
      weight: known.weight,
      baseline: known.id === "book" || undefined,
      ...fields,
    };
  };
  const all = (unavailable: string) =>
    Object.keys(NIM).map((binary) => entry(binary, { unavailable }));
  if (!build) return all("not built (build: false)");
  if (!onPath("nim")) return all("nim is not installed (apt-get install nim)");
  let references;
  try {
    references = await buildReferences();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return all(`the references did not build: ${message.split("\n")[0]}`);
  }
  // A port no reference takes as anything else, replaced by `{port}`.
  const sentinel = 65432;
  return references.filter((reference) => reference.name in NIM).map(
    (reference) =>
      entry(reference.name, {
        description: reference.description,
        command: shellJoin(
          reference.command(sentinel).map((word) =>
            word.startsWith(`${REPO_ROOT}/`)
              ? word.slice(REPO_ROOT.length + 1)
              : word
          ),
        ).replaceAll(String(sentinel), "{port}"),
      }),
  );
}

/**
 * Keeps the servers whose ids are listed (all when `ids` is empty), in
 * registry order. Throws on an unknown id, naming the known ones.
 *
 * @example
 * ```ts
 * import { knownServers, selectServers } from "./servers.ts";
 * const servers = await knownServers({ build: false });
 * console.log(selectServers(servers, ["ncat", "ours"]).map((s) => s.id)); // [ "ours", "ncat" ]
 * ```
 */
export function selectServers(
  servers: readonly KnownServer[],
  ids: readonly string[],
): KnownServer[] {
  for (const id of ids) {
    if (!servers.some((server) => server.id === id)) {
      throw new Error(
        `unknown server "${id}" (known: ${
          servers.map((s) => s.id).join(", ")
        })`,
      );
    }
  }
  return ids.length === 0
    ? [...servers]
    : servers.filter((server) => ids.includes(server.id));
}
