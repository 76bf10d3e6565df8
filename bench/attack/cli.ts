/**
 * The command line of `deno task attack`: flags to a target and an
 * attack's options, the `--help` text, and the command that reruns an
 * attack with the same settings.
 *
 * @module
 */

import {
  parseFlags,
  parseNumber,
  parseTarget,
  UsageError,
} from "../../lib/args.ts";
import { negativeValues, parseCount, parseDuration } from "../flag_values.ts";
import {
  ATTACK_NAMES,
  type AttackName,
  ATTACKS,
  type FlagSpec,
} from "./attacks.ts";
import { ourCommand, type TargetSpec } from "./target.ts";

/** Parsed `deno task attack` arguments. */
export interface AttackArgs {
  /** `--help` was asked for (nothing else is set then). */
  help: boolean;
  /** The attack to run. */
  attack: AttackName;
  /** The server to attack. */
  target: TargetSpec;
  /** Print the report as JSON. */
  json: boolean;
  /** No progress on stderr. */
  quiet: boolean;
  /** The attack's options, every flag parsed (defaults filled in). */
  options: Record<string, number>;
  /** The command line that reruns this attack with the same settings. */
  rerun: string;
}

const COMMON_STRING_FLAGS = [
  "spawn",
  "target",
  "pid",
  "transport",
  "server-log",
  "max-old-space-size",
] as const;

function attackFlagLines(): string {
  const lines: string[] = [];
  for (const name of ATTACK_NAMES) {
    const attack = ATTACKS[name];
    lines.push(`  ${name}: ${attack.summary}`);
    for (const spec of attack.flags) {
      const left = `    --${spec.flag} ${spec.kind === "duration" ? "T" : "N"}`;
      lines.push(`${left.padEnd(26)} ${spec.help} (default ${spec.default})`);
    }
  }
  return lines.join("\n");
}

/**
 * The text `--help` prints.
 *
 * @example
 * ```ts
 * import { ATTACK_USAGE } from "./cli.ts";
 * console.log(ATTACK_USAGE.startsWith("linechat attack:")); // true
 * ```
 */
export const ATTACK_USAGE =
  `linechat attack: runs one hostile-client attack against a line-protocol chat
server and reports what the server did. Every attack is bounded in time and
bytes and ends by itself.

Usage: deno task attack ATTACK [options]

Server (default: ours, ${ourCommand()},
started on a free port; per attack --quiet gives way to the log it needs):
  --spawn "CMD {port}"      start this server instead (run with sh -c); stopped afterwards
  --server-log json         with --spawn: its stdout is linechat's JSON log
                            (close reasons are read from it)
  --target HOST:PORT        attack a server that is already running
  --pid PID                 with --target: its process id, to sample its memory
  --transport deno|node     our server's --transport (default node, as the server's)
  --max-old-space-size MB   run the server with DENO_V8_FLAGS=--max-old-space-size=MB
  --server-env KEY=VALUE    add to the server's environment (repeatable)

Attacks and their options (T: a duration such as 500ms, 20s, 1m):
${attackFlagLines()}

Output:
  --json                    the full report as JSON
  --quiet                   no progress on stderr
  -h, --help                this text

Exit status: 0 the attack ran (whatever the server did), 1 it could not
run (the server did not start, clients could not connect), 2 bad usage.`;

/**
 * Quotes a word for a POSIX shell, only when it needs it.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./cli.ts";
 * console.log(shellQuote("20s"), shellQuote("deno run -A x.ts --port {port}"));
 * // 20s "deno run -A x.ts --port {port}"
 * console.log(shellQuote(`say "hi"`)); // 'say "hi"'
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./{}-]+$/.test(word)) return word;
  if (!/["$`\\!]/.test(word)) return `"${word}"`;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function parseFlagValue(spec: FlagSpec, value: string): number {
  const name = `--${spec.flag}`;
  const bounds = { min: spec.min, max: spec.max };
  return spec.kind === "count"
    ? parseCount(name, value, bounds)
    : spec.kind === "number"
    ? parseNumber(name, value, bounds)
    : parseDuration(name, value, { minMs: spec.min, maxMs: spec.max });
}

/**
 * Parses `deno task attack` arguments strictly; throws
 * {@linkcode UsageError} with a one-line reason.
 *
 * @example
 * ```ts
 * import { parseAttackArgs } from "./cli.ts";
 * const args = parseAttackArgs(["reset", "--rounds", "20", "--transport", "node"]);
 * console.log(args.options.rounds, args.target.kind); // 20 "ours"
 * console.log(args.rerun);
 * // "deno task attack reset --transport node --rounds 20 --lines 5 --parallel 1 --writer-rate 1000 --round-wait 500ms"
 * ```
 */
export function parseAttackArgs(args: string[]): AttackArgs {
  const attackFlags = new Map<string, AttackName[]>();
  for (const name of ATTACK_NAMES) {
    for (const spec of ATTACKS[name].flags) {
      attackFlags.set(spec.flag, [...attackFlags.get(spec.flag) ?? [], name]);
    }
  }
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {
    json: { type: "boolean" },
    quiet: { type: "boolean" },
    help: { type: "boolean", short: "h" },
    "server-env": { type: "string", multiple: true },
  };
  for (const name of COMMON_STRING_FLAGS) options[name] = { type: "string" };
  for (const name of attackFlags.keys()) options[name] = { type: "string" };
  const { values, positionals } = parseFlags({
    args: negativeValues(args, options),
    allowPositionals: true,
    options,
  });
  const given = values as Record<
    string,
    string | boolean | string[] | undefined
  >;
  const string = (name: string) => given[name] as string | undefined;
  if (given.help) {
    return {
      help: true,
      attack: "flood",
      target: { kind: "ours", transport: "node", env: {} },
      json: false,
      quiet: false,
      options: {},
      rerun: "",
    };
  }
  if (positionals.length === 0) {
    throw new UsageError(`name an attack: ${ATTACK_NAMES.join(", ")}`);
  }
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument "${positionals[1]}"`);
  }
  const attack = positionals[0] as AttackName;
  if (!ATTACK_NAMES.includes(attack)) {
    throw new UsageError(
      `unknown attack "${positionals[0]}" (${ATTACK_NAMES.join(", ")})`,
    );
  }
  const definition = ATTACKS[attack];
  for (const [name, owners] of attackFlags) {
    if (given[name] !== undefined && !owners.includes(attack)) {
      throw new UsageError(
        `--${name} is not an option of ${attack} (it is of ${
          owners.join(", ")
        })`,
      );
    }
  }
  const target = parseTargetFlags(given, attack, definition.needsSpawn);
  const parsed: Record<string, number> = {};
  const rerunAttackFlags: string[] = [];
  for (const spec of definition.flags) {
    const value = string(spec.flag) ?? spec.default;
    parsed[spec.option] = parseFlagValue(spec, value);
    rerunAttackFlags.push(`--${spec.flag}`, value);
  }
  const rerunServerFlags: string[] = [];
  for (const name of COMMON_STRING_FLAGS) {
    const value = string(name);
    if (value !== undefined) rerunServerFlags.push(`--${name}`, value);
  }
  for (const value of (given["server-env"] as string[] | undefined) ?? []) {
    rerunServerFlags.push("--server-env", value);
  }
  const json = given.json === true;
  const rerun = [
    "deno",
    "task",
    "attack",
    attack,
    ...rerunServerFlags,
    ...rerunAttackFlags,
    ...(json ? ["--json"] : []),
  ].map(shellQuote).join(" ");
  return {
    help: false,
    attack,
    target,
    json,
    quiet: given.quiet === true,
    options: parsed,
    rerun,
  };
}

function parseTargetFlags(
  given: Record<string, string | boolean | string[] | undefined>,
  attack: AttackName,
  needsSpawn: boolean,
): TargetSpec {
  const spawn = given.spawn as string | undefined;
  const address = given.target as string | undefined;
  const pid = given.pid as string | undefined;
  const transport = given.transport as string | undefined;
  const serverLog = given["server-log"] as string | undefined;
  const oldSpace = given["max-old-space-size"] as string | undefined;
  const envPairs = (given["server-env"] as string[] | undefined) ?? [];
  if (spawn !== undefined && address !== undefined) {
    throw new UsageError("give --spawn or --target, not both");
  }
  if (spawn !== undefined && !spawn.includes("{port}")) {
    throw new UsageError('--spawn: the command must contain "{port}"');
  }
  if (pid !== undefined && address === undefined) {
    throw new UsageError(
      "--pid goes with --target (a spawned server's is known)",
    );
  }
  if (
    transport !== undefined && (spawn !== undefined || address !== undefined)
  ) {
    throw new UsageError(
      "--transport sets our default server's; with --spawn put it in the command",
    );
  }
  if (transport !== undefined && transport !== "deno" && transport !== "node") {
    throw new UsageError(
      `--transport: expected deno or node, got "${transport}"`,
    );
  }
  if (serverLog !== undefined && serverLog !== "json") {
    throw new UsageError(
      `--server-log: only json is understood, got "${serverLog}"`,
    );
  }
  if (serverLog !== undefined && spawn === undefined) {
    throw new UsageError("--server-log goes with --spawn (ours is known)");
  }
  if (
    address !== undefined && (oldSpace !== undefined || envPairs.length > 0)
  ) {
    throw new UsageError(
      "--max-old-space-size and --server-env need a server the attack starts",
    );
  }
  if (address !== undefined && needsSpawn) {
    throw new UsageError(`${attack} needs a server it starts: use --spawn`);
  }
  const env: Record<string, string> = {};
  for (const pair of envPairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) {
      throw new UsageError(`--server-env: expected KEY=VALUE, got "${pair}"`);
    }
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (oldSpace !== undefined) {
    const mb = parseCount("--max-old-space-size", oldSpace, {
      min: 16,
      max: 1024 * 1024,
    });
    const flag = `--max-old-space-size=${mb}`;
    env.DENO_V8_FLAGS = env.DENO_V8_FLAGS
      ? `${env.DENO_V8_FLAGS} ${flag}`
      : flag;
  }
  if (address !== undefined) {
    const { hostname, port } = parseTarget(address);
    return {
      kind: "address",
      hostname,
      port,
      pid: pid === undefined ? undefined : parseCount("--pid", pid, { min: 1 }),
    };
  }
  if (spawn !== undefined) {
    return {
      kind: "spawn",
      command: spawn,
      env,
      jsonLog: serverLog === "json",
    };
  }
  return {
    kind: "ours",
    transport: (transport ?? "node") as "deno" | "node",
    env,
  };
}
