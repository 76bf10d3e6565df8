/**
 * `deno run -A bench/perf/saturation.ts [options]`: server CPU-seconds
 * per million deliveries at saturation (one sender as fast as the server
 * takes its lines, the others reading; or a fixed load with `--rate`),
 * with latency p99, for our server and `ncat --broker`, in alternating
 * runs of `deno task load`; prints each run and the medians. A benchmark that prints numbers: it asserts nothing.
 *
 * ```sh
 * deno run -A bench/perf/saturation.ts --rounds 3
 * deno run -A bench/perf/saturation.ts --servers ours,ours-deno,ncat --duration 5s
 * # fixed load instead: 10 senders at 100 lines/s each
 * deno run -A bench/perf/saturation.ts --senders 10 --rate 100
 * ```
 *
 * @module
 */

import { parseFlags, parseInteger, runMain } from "../../lib/args.ts";
import { perfServers, runRounds } from "./_servers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** What one `deno task load` run at saturation reported. */
export interface SaturationResult {
  server: string;
  /** Server CPU-seconds per million deliveries. */
  cpuPerMillion: number;
  /** Deliveries per second. */
  delivered: number;
  /** Latency p99 in ms. */
  p99Ms: number;
}

/**
 * Runs `deno task load` once against `command`; parses its report.
 *
 * @example
 * ```ts ignore
 * import { measure } from "./saturation.ts";
 * import { perfServers } from "./_servers.ts";
 * const [ncat] = await perfServers("ncat", []);
 * const result = await measure(ncat.name, ncat.command, {
 *   clients: 100, senders: 1, rate: 0, duration: "5s",
 * });
 * console.log(result.cpuPerMillion);
 * ```
 */
export async function measure(
  name: string,
  command: string,
  options: {
    clients: number;
    senders: number;
    rate: number;
    duration: string;
  },
): Promise<SaturationResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "bench/load/main.ts",
      "--spawn",
      command.replace("--max-clients 20000", ""),
      "--clients",
      String(options.clients),
      "--senders",
      String(options.senders),
      "--rate",
      String(options.rate),
      "--duration",
      options.duration,
      "--warmup",
      "2s",
      "--quiet",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const number = (pattern: RegExp) => {
    const match = pattern.exec(text);
    if (match === null) {
      throw new Error(`${name}: no ${pattern} in the report:\n${text}`);
    }
    return Number(match[1].replaceAll(",", ""));
  };
  return {
    server: name,
    cpuPerMillion: number(/([\d.]+) CPU-s per million deliveries/),
    delivered: number(/^delivered\s+([\d,]+) deliveries\/s/m),
    p99Ms: number(/^latency .* p99 ([\d.]+)/m),
  };
}

const USAGE = `Usage: deno run -A bench/perf/saturation.ts [options]

Server CPU-seconds per million deliveries and p99, one deno task load run
per server and round, alternating the servers; prints each run and the medians.

  --servers a,b        servers of targets/servers.ts, or named by --command
                       (default ours,ncat)
  --command NAME=CMD   add a server: a shell command with {port}
  --clients N          clients (default 100)
  --senders N          of them sending (default 1)
  --rate N             lines per second per sender; 0: as fast as taken (default 0)
  --duration T         measured time per run (default 8s)
  --rounds N           rounds (default 3)`;

if (import.meta.main) {
  await runMain("linechat perf saturation", async () => {
    const { values } = parseFlags({
      args: Deno.args,
      options: {
        rounds: { type: "string", default: "3" },
        clients: { type: "string", default: "100" },
        senders: { type: "string", default: "1" },
        rate: { type: "string", default: "0" },
        duration: { type: "string", default: "8s" },
        servers: { type: "string", default: "ours,ncat" },
        command: { type: "string", multiple: true, default: [] },
        help: { type: "boolean" },
      },
    });
    if (values.help) return console.log(USAGE);
    const servers = await perfServers(values.servers, values.command);
    const clients = parseInteger("--clients", values.clients, { min: 0 });
    const rate = parseInteger("--rate", values.rate, { min: 0 });
    const rounds = parseInteger("--rounds", values.rounds, { min: 1 });
    const senders = parseInteger("--senders", values.senders, { min: 0 });
    await runRounds(
      servers,
      rounds,
      (server) =>
        measure(server.name, server.command, {
          clients,
          senders,
          rate,
          duration: values.duration,
        }),
      (r) =>
        `${r.server.padEnd(10)} ${r.cpuPerMillion.toFixed(3)} CPU-s/M ` +
        `deliveries  ${(r.delivered / 1e6).toFixed(2)} M deliveries/s  ` +
        `p99 ${r.p99Ms} ms`,
    );
  });
}
