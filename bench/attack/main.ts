/**
 * `deno task attack ATTACK [options]`: runs one hostile-client attack
 * against a line-protocol chat server (ours by default) and prints what
 * the server did, with the command that reruns it. See `--help` and the
 * README.
 *
 * @module
 */

import { runMain } from "../../lib/args.ts";
import { ATTACKS } from "./attacks.ts";
import { ATTACK_USAGE, parseAttackArgs } from "./cli.ts";
import { type AttackReport, formatReport } from "./report.ts";

await runMain("linechat-attack", async () => {
  const args = parseAttackArgs(Deno.args);
  if (args.help) {
    console.log(ATTACK_USAGE);
    return;
  }
  const attack = ATTACKS[args.attack];
  const live = !args.json && !args.quiet && Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const onProgress = live
    ? (text: string) => {
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text.slice(0, 150)}`));
    }
    : undefined;
  const startedAt = new Date();
  const t0 = performance.now();
  let run;
  try {
    run = await attack.run(args.target, args.options, onProgress);
  } finally {
    if (live) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
  }
  const report: AttackReport = {
    attack: args.attack,
    rerun: args.rerun,
    startedAt: startedAt.toISOString(),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    servers: run.servers,
    verdict: attack.verdict(run.result),
    result: run.result,
  };
  console.log(
    args.json
      ? JSON.stringify(report, null, 2)
      : formatReport(report, attack.tables(run.result)),
  );
});
