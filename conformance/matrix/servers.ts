/**
 * The servers the conformance matrix runs the suite against: ours (both
 * transports), the Nim reference servers and `ncat --broker`, each as a
 * `--spawn` command the suite starts afresh.
 *
 * @module
 */

import { hasTool } from "../../_testing/tools.ts";
import { buildReferences } from "../../reference/build.ts";

/**
 * One column of the matrix: a server and how the suite starts it.
 *
 * @example
 * ```ts
 * import type { MatrixServer } from "./servers.ts";
 *
 * const server: MatrixServer = {
 *   id: "ours",
 *   name: "linechat",
 *   description: "this repository's server",
 *   kind: "ours",
 *   spawn: "deno run -A server/main.ts --port {port} --quiet",
 *   tools: [],
 * };
 * console.log(server.spawn.includes("{port}")); // true
 * ```
 */
export interface MatrixServer {
  /** Short id: column key, `--servers` value and expectations key. */
  id: string;
  /** Column heading. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Ours, a Nim reference, or a general-purpose relay. */
  kind: "ours" | "reference" | "relay";
  /** The `--spawn` command, with `{port}` where the port goes. */
  spawn: string;
  /** External programs it needs (`nim`, `ncat`), for skipping or failing. */
  tools: string[];
  /**
   * The client limit the server is started with, declared to the suite so
   * that `limits.server-full` (§4.8) can run.
   *
   * @default {undefined}
   */
  maxClients?: number;
  /**
   * Relative expected run time; heavier servers start first so that a run
   * with several lanes ends sooner.
   *
   * @default {1}
   */
  weight?: number;
  /** Set when the server cannot be run here, saying why. */
  unavailable?: string;
}

/**
 * The client limit our server is started with in the matrix (`--max-clients`),
 * declared to the suite so that it checks §4.8. It is above the suite's
 * default `--clients` (500), so `limits.many-clients` is unaffected.
 *
 * @example
 * ```ts
 * import { OURS_MAX_CLIENTS } from "./servers.ts";
 * console.log(OURS_MAX_CLIENTS); // 1000
 * ```
 */
export const OURS_MAX_CLIENTS = 1000;

/**
 * Server ids in column order.
 *
 * @example
 * ```ts
 * import { SERVER_IDS } from "./servers.ts";
 * console.log(SERVER_IDS.join(",")); // "ours,ours-node,book,asyncnet,selectors,ncat"
 * ```
 */
export const SERVER_IDS = [
  "ours",
  "ours-node",
  "book",
  "asyncnet",
  "selectors",
  "ncat",
] as const;

const NIM: Record<string, { id: string; name: string; weight: number }> = {
  book_server: { id: "book", name: "Nim book", weight: 1 },
  asyncnet_server: { id: "asyncnet", name: "Nim asyncnet", weight: 1 },
  selectors_server: { id: "selectors", name: "Nim selectors", weight: 4 },
};

/**
 * The repository root, where every spawn command runs.
 *
 * @example
 * ```ts
 * import { REPO_ROOT } from "./servers.ts";
 * console.log(REPO_ROOT.startsWith("/")); // true
 * ```
 */
export const REPO_ROOT: string = decodeURIComponent(
  new URL("../../", import.meta.url).pathname,
).replace(/\/$/, "");

/** Quotes `word` for `sh -c` when it needs it. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./{}-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'"'"'`)}'`;
}

/** Options for {@linkcode matrixServers}. */
export interface MatrixServersOptions {
  /**
   * Build the Nim references (with `reference/build.ts`) when `nim` is
   * installed. Without it, or without `nim`, they are listed as
   * unavailable.
   *
   * @default {true}
   */
  build?: boolean;
  /**
   * The `deno` executable our server is started with.
   *
   * @default {"deno" when it is on PATH, else `Deno.execPath()`}
   */
  deno?: string;
}

/**
 * Lists every matrix server in column order. A server that cannot run here
 * (its tool is missing, or the references do not build) is still listed,
 * with `unavailable` saying why, so that nothing is left out silently.
 *
 * @example List the servers without building anything
 * ```ts
 * import { matrixServers } from "./servers.ts";
 *
 * const servers = await matrixServers({ build: false });
 * console.log(servers.map((server) => server.id).join(" ")); // "ours ours-node book asyncnet selectors ncat"
 * ```
 *
 * @param options Whether to build the references and which deno to use.
 * @returns One entry per server, in column order.
 */
export async function matrixServers(
  options: MatrixServersOptions = {},
): Promise<MatrixServer[]> {
  const deno = options.deno ??
    (hasTool("deno") ? "deno" : shellQuote(Deno.execPath()));
  const ours = `${deno} run -A server/main.ts --port {port} --quiet ` +
    `--max-clients ${OURS_MAX_CLIENTS}`;
  const servers: MatrixServer[] = [
    {
      id: "ours",
      name: "linechat",
      description: "this repository's server, Deno.listen transport",
      kind: "ours",
      spawn: ours,
      tools: [],
      maxClients: OURS_MAX_CLIENTS,
    },
    {
      id: "ours-node",
      name: "linechat (node:net)",
      description: "this repository's server, node:net transport",
      kind: "ours",
      spawn: `${ours} --transport node`,
      tools: [],
      maxClients: OURS_MAX_CLIENTS,
    },
  ];
  servers.push(...await nimServers(options.build ?? true));
  servers.push({
    id: "ncat",
    name: "ncat --broker",
    description:
      "Nmap's ncat relaying between its clients (C, select()); --max-conns " +
      "lifts its default limit of 100 connections",
    kind: "relay",
    spawn: "ncat -l --broker --max-conns 20000 127.0.0.1 {port}",
    tools: ["ncat"],
    weight: 2,
    unavailable: hasTool("ncat")
      ? undefined
      : "ncat is not installed (apt-get install ncat)",
  });
  return servers;
}

async function nimServers(build: boolean): Promise<MatrixServer[]> {
  const placeholder = (id: string, unavailable: string): MatrixServer => {
    const [binary, known] = Object.entries(NIM).find(([, n]) => n.id === id)!;
    return {
      id,
      name: known.name,
      description: `Nim reference reference/nim/${binary}.nim`,
      kind: "reference",
      spawn: `reference/nim/build/${binary} {port}`,
      tools: ["nim"],
      weight: known.weight,
      unavailable,
    };
  };
  const all = (why: string) =>
    Object.values(NIM).map(({ id }) => placeholder(id, why));
  if (!build) return all("not built (build: false)");
  if (!hasTool("nim")) {
    return all("nim is not installed (apt-get install nim)");
  }
  let references;
  try {
    references = await buildReferences();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return all(`the references did not build: ${message.split("\n")[0]}`);
  }
  // A port no reference takes as anything else, replaced by `{port}`.
  const sentinel = 65432;
  return references.map((reference) => {
    const known = NIM[reference.name] ??
      { id: reference.name, name: reference.name, weight: 1 };
    const spawn = reference.command(sentinel)
      .map((word) =>
        word.startsWith(`${REPO_ROOT}/`)
          ? word.slice(REPO_ROOT.length + 1)
          : word
      )
      .map((word) => shellQuote(word).replaceAll(String(sentinel), "{port}"))
      .join(" ");
    return {
      id: known.id,
      name: known.name,
      description: reference.description,
      kind: "reference" as const,
      spawn,
      tools: ["nim"],
      weight: known.weight,
    };
  });
}

/**
 * Keeps the servers whose ids are listed (all when `ids` is empty), in
 * column order. Throws on an unknown id.
 *
 * @example
 * ```ts
 * import { matrixServers, selectServers } from "./servers.ts";
 *
 * const servers = await matrixServers({ build: false });
 * console.log(selectServers(servers, ["ncat", "ours"]).map((s) => s.id)); // [ "ours", "ncat" ]
 * ```
 */
export function selectServers(
  servers: readonly MatrixServer[],
  ids: readonly string[],
): MatrixServer[] {
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
