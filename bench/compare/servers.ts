/**
 * The servers `deno task compare` measures, taken from the one registry
 * (`targets/servers.ts`) plus the variants only compare knows so far
 * ({@linkcode COMPARE_VARIANTS}: ours with WebSocket clients), and how
 * each is started for a run: through `lib/server_process.ts`, stdout
 * discarded, fresh for every run.
 *
 * @module
 */

import { throwawayCertificate } from "../../lib/throwaway_certificate.ts";
import { isListening } from "../../lib/listening.ts";
import { onPath } from "../../lib/on_path.ts";
import { groupMembers } from "../../lib/proc_stats.ts";
import { ServerProcess } from "../../lib/server_process.ts";
import { fillPorts, portsUsed } from "../../lib/shell.ts";
import {
  type KnownServer,
  knownServers,
  REPO_ROOT,
  selectServers,
  SERVER_IDS,
} from "../../targets/servers.ts";
import { discardStdout } from "../spawn.ts";

/**
 * A server compare measures: a registry entry, and where its clients
 * connect when that is not simply its ports over TCP.
 */
export interface CompareServer extends KnownServer {
  /**
   * Where clients connect, as `deno task load --target` templates
   * (`{port}`, `{port+N}` of the command); spread round-robin.
   *
   * @default {every client port of the command, over TCP (see clientPorts)}
   */
  connect?: string[];
  /**
   * The CA certificate (PEM file) clients trust, for TLS targets: passed
   * to `deno task load --ca`.
   *
   * @default {undefined: none}
   */
  ca?: string;
  /**
   * Files made for the run, by the placeholder that stands for each in
   * `command` and `ca` (`{tls-cert}` → its path): the report shows the
   * placeholders, the run gets the paths ({@linkcode fillFiles}).
   *
   * @default {undefined: none}
   */
  files?: Record<string, string>;
}

/**
 * `text` (a command or a `ca`) with the placeholders of `files` replaced
 * by their paths.
 *
 * @example
 * ```ts
 * import { fillFiles } from "./servers.ts";
 * console.log(fillFiles("x --tls-cert {tls-cert}", { "{tls-cert}": "/tmp/c.pem" }));
 * // "x --tls-cert /tmp/c.pem"
 * ```
 */
export function fillFiles(
  text: string,
  files: Record<string, string> | undefined,
): string {
  let filled = text;
  for (const [placeholder, path] of Object.entries(files ?? {})) {
    filled = filled.replaceAll(placeholder, path);
  }
  return filled;
}

/**
 * Placeholders of a variant's command and `ca` that
 * {@linkcode compareServers} fills with the files of a throwaway
 * certificate (a CA and a certificate for 127.0.0.1 it signed).
 */
const TLS_FILES = {
  cert: "{tls-cert}",
  key: "{tls-key}",
  ca: "{tls-ca}",
} as const;

/**
 * The variants compare adds to the registry's servers, each derived from
 * one of them. `ours-ws` is our server with its clients over WebSocket
 * (`ws://…/ws` on the ops port, PROTOCOL.md §6), to compare the two
 * transports under the same workloads; `ours-tls` (only when named) has
 * them over TLS, with a throwaway certificate made for the run. (Their
 * place is the registry; until they are there, they are here.)
 *
 * @example
 * ```ts
 * import { COMPARE_VARIANTS } from "./servers.ts";
 * console.log(COMPARE_VARIANTS.map((v) => v.id)); // ["ours-ws", "ours-tls"]
 * ```
 */
export const COMPARE_VARIANTS: readonly {
  id: string;
  from: string;
  after: string;
  /** Measured only when `--servers` names it, not by default. */
  optIn?: boolean;
  derive: (base: KnownServer) => CompareServer;
}[] = [{
  id: "ours-ws",
  from: "ours",
  after: "ours",
  derive: (ours) => ({
    ...ours,
    id: "ours-ws",
    name: "linechat (WebSocket)",
    description:
      "this repository's server, clients over WebSocket (ws://…/ws on its ops port)",
    command: `${ours.command} --http-port {port+1}`,
    connect: ["ws://127.0.0.1:{port+1}/ws"],
  }),
}, {
  id: "ours-tls",
  from: "ours",
  after: "ours-ws",
  optIn: true,
  derive: (ours) => ({
    ...ours,
    id: "ours-tls",
    name: "linechat (TLS)",
    description:
      "this repository's server, clients over TLS on its TCP port (a throwaway certificate)",
    command:
      `${ours.command} --tls-cert ${TLS_FILES.cert} --tls-key ${TLS_FILES.key}`,
    connect: ["tls://127.0.0.1:{port}"],
    ca: TLS_FILES.ca,
  }),
}];

/**
 * Every server id compare knows: the registry's and its own variants'.
 *
 * @example
 * ```ts
 * import { COMPARE_SERVER_IDS } from "./servers.ts";
 * console.log(COMPARE_SERVER_IDS.includes("ours-ws")); // true
 * ```
 */
export const COMPARE_SERVER_IDS: readonly string[] = (() => {
  const ids: string[] = [...SERVER_IDS];
  for (const variant of COMPARE_VARIANTS) {
    ids.splice(ids.indexOf(variant.after) + 1, 0, variant.id);
  }
  return ids;
})();

/**
 * The `deno task load --target` values for a started server listening
 * from `port`: its `connect` templates filled in, or each client port of
 * its command over TCP.
 *
 * @example
 * ```ts
 * import { clientTargets } from "./servers.ts";
 * console.log(clientTargets({ command: "x {port} {port+1}", connect: ["ws://127.0.0.1:{port+1}/ws"] }, 9000));
 * // ["ws://127.0.0.1:9001/ws"]
 * console.log(clientTargets({ command: "ncat -l --broker 127.0.0.1 {port}" }, 9000)); // ["127.0.0.1:9000"]
 * ```
 */
export function clientTargets(
  server: Pick<CompareServer, "command" | "connect">,
  port: number,
): string[] {
  if (server.connect) return server.connect.map((t) => fillPorts(t, port));
  return Array.from(
    { length: clientPorts(server.command) },
    (_, k) => `127.0.0.1:${port + k}`,
  );
}

/**
 * The `--max-clients` our server runs with: room for the 10,000-client
 * workload plus the generator's slow consumers.
 *
 * @example
 * ```ts
 * import { COMPARE_MAX_CLIENTS } from "./servers.ts";
 * console.log(COMPARE_MAX_CLIENTS); // 20000
 * ```
 */
export const COMPARE_MAX_CLIENTS = 20_000;

/** The servers to compare, and those that cannot be had here. */
export interface CompareServers {
  /** The servers to measure, in registry order (variants after their base). */
  servers: CompareServer[];
  /** One line per known server that cannot run here, and why. */
  missing: string[];
}

/**
 * Picks the servers to compare from the registry: those named (all when
 * `ids` is empty) that can run here. A named server that cannot run is
 * an error; every server that cannot run is listed in `missing`, so a
 * report never leaves one out silently. Builds the Nim references.
 *
 * @example
 * ```ts ignore
 * import { compareServers } from "./servers.ts";
 * const { servers, missing } = await compareServers(["ours", "ncat"]);
 * console.log(servers.map((s) => s.id), missing);
 * ```
 */
export async function compareServers(
  ids: readonly string[],
): Promise<CompareServers> {
  const registry = await knownServers({ oursMaxClients: COMPARE_MAX_CLIENTS });
  const known: CompareServer[] = [...registry];
  for (const variant of COMPARE_VARIANTS) {
    const base = registry.find((server) => server.id === variant.from);
    if (!base) continue;
    const at = known.findIndex((server) => server.id === variant.after);
    known.splice(at + 1, 0, variant.derive(base));
  }
  const optIn = COMPARE_VARIANTS.filter((v) => v.optIn).map((v) => v.id);
  let chosen = (selectServers(known, ids) as CompareServer[])
    .filter((server) => ids.includes(server.id) || !optIn.includes(server.id));
  if (chosen.some((server) => server.command.includes(TLS_FILES.cert))) {
    chosen = await withCertificate(chosen);
  }
  for (const server of chosen) {
    if (ids.includes(server.id) && server.unavailable) {
      throw new Error(`"${server.id}" cannot run here: ${server.unavailable}`);
    }
  }
  return {
    servers: chosen.filter((server) => !server.unavailable),
    missing: known.filter((server) => server.unavailable)
      .map((server) => `${server.id}: ${server.unavailable}`),
  };
}

/**
 * Fills the certificate placeholders of `servers` with the files of a
 * throwaway certificate, removed when the process exits; without openssl
 * those servers are unavailable.
 */
async function withCertificate(
  servers: CompareServer[],
): Promise<CompareServer[]> {
  let files: { cert: string; key: string; ca: string } | undefined;
  let why = "";
  if (onPath("openssl")) {
    try {
      const made = await throwawayCertificate();
      files = { cert: made.certFile, key: made.keyFile, ca: made.caFile };
      const dir = made.certFile.slice(0, made.certFile.lastIndexOf("/"));
      globalThis.addEventListener("unload", () => {
        try {
          Deno.removeSync(dir, { recursive: true });
        } catch {
          // Already gone.
        }
      });
    } catch (error) {
      why = `cannot make a certificate: ${(error as Error).message}`;
    }
  } else why = "needs openssl to make a throwaway certificate";
  return servers.map((server) => {
    if (!server.command.includes(TLS_FILES.cert)) return server;
    if (!files) return { ...server, unavailable: why };
    return {
      ...server,
      files: {
        [TLS_FILES.cert]: files.cert,
        [TLS_FILES.key]: files.key,
        [TLS_FILES.ca]: files.ca,
      },
    };
  });
}

/**
 * How many of a server's ports clients connect to: all those of its
 * command template but the ones it names as a Redis URL (the nodes'
 * own redis-server); clients are spread round-robin over them.
 *
 * @example
 * ```ts
 * import { clientPorts } from "./servers.ts";
 * console.log(clientPorts("ncat -l --broker 127.0.0.1 {port}")); // 1
 * console.log(clientPorts(
 *   "deno run -A cluster/main.ts --nodes 2 --base-port {port} --start-redis --redis redis://127.0.0.1:{port+2}",
 * )); // 2
 * ```
 */
export function clientPorts(command: string): number {
  const redis = command.match(/redis:\/\/[^\s]*\{port\+\d+\}/g) ?? [];
  return portsUsed(command) - redis.length;
}

/**
 * The first of `count` consecutive ports nobody listens on, below Linux's
 * ephemeral range (32768 and up). A server of several nodes needs it:
 * its nodes connect out (to Redis) while the later ones start, and an
 * outgoing connection's ephemeral port is often the next node's.
 *
 * @example
 * ```ts
 * import { portBlockBelowEphemeral } from "./servers.ts";
 * const first = portBlockBelowEphemeral(3);
 * console.log(first >= 20_000 && first + 2 < 32_768); // true
 * ```
 */
export function portBlockBelowEphemeral(count: number): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const ports = Array.from({ length: count }, (_, k) => base + k);
    if (!ports.some(isListening)) return base;
  }
  throw new Error(`no ${count} consecutive free ports below 32768`);
}

/**
 * Starts `server` for one run, from the repository root, its stdout
 * discarded. A server of several ports gets a block below the ephemeral
 * range, and is ready once every port listens, whoever holds it (its
 * nodes and redis-server run in process groups of their own).
 *
 * @example
 * ```ts ignore
 * import { startCompareServer } from "./servers.ts";
 * const process = await startCompareServer(server);
 * await process.stop();
 * ```
 */
export async function startCompareServer(
  server: Pick<CompareServer, "command" | "files">,
  cwd: string = REPO_ROOT,
): Promise<ServerProcess> {
  const ports = portsUsed(server.command);
  const process = new ServerProcess({
    command: discardStdout(fillFiles(server.command, server.files)),
    cwd,
    port: ports > 1 ? portBlockBelowEphemeral(ports) : undefined,
    ready: ports > 1
      ? (started) => started.ports.every((port) => isListening(port))
      : "listening",
    // `deno task compare` stops its servers itself on SIGINT and SIGTERM,
    // after writing the results so far.
    handleSignals: false,
  });
  await process.start();
  return process;
}

/**
 * The pid of the server a started command runs, to sample its CPU and
 * memory as one process: the one process of its group besides the shell
 * (or the shell itself, if it exec'd the server). Undefined for a server
 * of several processes, which then reports no such figures rather than
 * wrong ones.
 *
 * @example
 * ```ts ignore
 * import { serverPid } from "./servers.ts";
 * console.log(serverPid(process)); // e.g. 4242
 * ```
 */
export function serverPid(process: ServerProcess): number | undefined {
  const pgid = process.pid;
  if (pgid === undefined) return undefined;
  const others = groupMembers(pgid).filter((pid) => pid !== pgid);
  return others.length === 0
    ? pgid
    : others.length === 1
    ? others[0]
    : undefined;
}
