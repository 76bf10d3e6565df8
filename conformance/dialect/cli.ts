/**
 * The command line's dialect flags: `--dialect FILE|JSON` read into a
 * {@linkcode Dialect}, and `--detect` run against the target (starting
 * the server first with `--spawn`).
 *
 * @module
 */

import { parseTarget, UsageError } from "../../lib/args.ts";
import { ServerProcess, SpawnError } from "../../lib/server_process.ts";
import { type ConformanceOptions, HarnessError } from "../run_options.ts";
import { type Dialect, parseDialect } from "./dialect.ts";
import { detectDialect, formatDetection } from "./detect.ts";

/**
 * Reads `--dialect`'s value: inline JSON when it starts with `{`, else a
 * profile file. Throws a {@linkcode UsageError} saying what is wrong.
 *
 * @example
 * ```ts
 * import { loadDialect } from "./cli.ts";
 * console.log(loadDialect('{"echo": true}')); // { echo: true }
 * ```
 */
export function loadDialect(value: string): Dialect {
  let text = value;
  if (!value.trimStart().startsWith("{")) {
    try {
      text = Deno.readTextFileSync(value);
    } catch (error) {
      throw new UsageError(
        `--dialect: cannot read ${value}: ${(error as Error).message}`,
      );
    }
  }
  try {
    return parseDialect(text);
  } catch (error) {
    throw new UsageError(`--dialect: ${(error as Error).message}`);
  }
}

/**
 * Runs `--detect` for `options` (its first target, or a server it spawns)
 * and returns the text to print.
 *
 * @example
 * ```ts ignore
 * import { runDetect } from "./cli.ts";
 * console.log(await runDetect({ spawn: "ncat -l --chat 127.0.0.1 {port}" }));
 * ```
 */
export async function runDetect(options: ConformanceOptions): Promise<string> {
  let server: ServerProcess | undefined;
  try {
    let target;
    if (options.spawn !== undefined) {
      server = new ServerProcess({ command: options.spawn, cwd: options.cwd });
      try {
        await server.start();
      } catch (error) {
        throw new HarnessError(
          error instanceof SpawnError ? error.message : String(error),
        );
      }
      target = server.target;
    } else {
      const first = options.targets?.[0];
      if (first === undefined) {
        throw new HarnessError("--detect needs --target or --spawn");
      }
      target = typeof first === "string" ? parseTarget(first) : first;
    }
    const where = `${target.hostname}:${target.port}`;
    try {
      const found = await detectDialect({
        target,
        timeoutScale: options.timeoutScale,
      });
      const flag = options.spawn !== undefined
        ? `--spawn '${options.spawn.replaceAll("'", "'\\''")}'`
        : `--target ${where}`;
      return `Detecting the dialect of ${where}\n\n${
        formatDetection(found, flag)
      }`;
    } catch (error) {
      throw new HarnessError(`--detect: ${where}: ${(error as Error).message}`);
    }
  } finally {
    await server?.stop();
  }
}
