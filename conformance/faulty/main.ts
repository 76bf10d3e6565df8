/**
 * Runs one faulty server of the self-test:
 * `deno run -A conformance/faulty/main.ts --fault NAME --port N` (no
 * `--fault`: the fault-free server). `--list` names them all.
 *
 * @module
 */

import {
  parseFlags,
  parseInteger,
  runMain,
  UsageError,
} from "../../lib/args.ts";
import { FAULT_NAMES, FAULTY_SERVERS, type FaultyServer } from "./faults.ts";
import { serveFaulty } from "./server.ts";

const USAGE = `A faulty line-chat server for the conformance self-test.

Usage: deno run -A conformance/faulty/main.ts [--fault NAME] [--port N]

  --fault NAME   which fault (default: correct, the fault-free server)
  --port N       the port to listen on, on 127.0.0.1 (default 7687)
  --list         every fault, with what it does wrong
  -h, --help     this text`;

/**
 * The faulty server `name` stands for; a usage error naming the known ones
 * if none.
 *
 * @example
 * ```ts
 * import { faultyServer } from "./main.ts";
 * console.log(faultyServer("echo").faults); // { echo: true }
 * ```
 */
export function faultyServer(name: string): FaultyServer {
  if (!Object.hasOwn(FAULTY_SERVERS, name)) {
    throw new UsageError(
      `--fault: unknown "${name}" (known: ${FAULT_NAMES.join(", ")})`,
    );
  }
  return FAULTY_SERVERS[name];
}

function main(args: string[]): void {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      fault: { type: "string", default: "correct" },
      port: { type: "string", default: "7687" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.list) {
    for (const name of FAULT_NAMES) {
      console.log(`${name.padEnd(22)} ${FAULTY_SERVERS[name].description}`);
    }
    return;
  }
  const { faults } = faultyServer(values.fault);
  const server = serveFaulty(
    parseInteger("--port", values.port, { max: 65535 }),
    faults,
  );
  if (faults.noShutdownHandler) return;
  // A graceful shutdown (§5.4): stop accepting, flush, close, exit 0.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, async () => {
      await server.shutdown();
      Deno.exit(0);
    });
  }
}

if (import.meta.main) runMain("faulty-server", () => main(Deno.args));
