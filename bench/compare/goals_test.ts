import { deepEqual, match } from "node:assert/strict";
import { checkGoals } from "./goals.ts";
import type { RunRecord } from "./runner.ts";
import { report, results, run, SAT } from "./_testing.ts";

Deno.test("goals: saturation ratios to book and ncat, idle memory, slow consumer", () => {
  const runs: RunRecord[] = [];
  for (const round of [1, 2, 3]) {
    runs.push(
      run(
        "saturation",
        SAT,
        "ours",
        round,
        report({ delivered: 2.6e6, cpuPerMillion: 0.1 }),
      ),
      run(
        "saturation",
        SAT,
        "book",
        round,
        report({ delivered: 1e5, cpuPerMillion: 5 }),
      ),
      run(
        "saturation",
        SAT,
        "ncat",
        round,
        report({ delivered: 4e6, cpuPerMillion: 0.05 }),
      ),
      run("latency", SAT, "ours", round, report({ p99: 3 })),
      run("latency", SAT, "book", round, report({ p99: 4 })),
      run("latency", SAT, "ncat", round, null, "the server crashed"),
      run(
        "idle",
        "10000 clients",
        "ours",
        round,
        report({ rssPerConnection: 5000 }),
      ),
      run("slow-consumer", "without", "ours", round, report({ p99: 2 })),
      run(
        "slow-consumer",
        "with a slow consumer",
        "ours",
        round,
        report({ p99: 5 }),
      ),
    );
  }
  const goals = checkGoals(results(runs));
  deepEqual(goals.map((g) => g.met), [true, false, true, true, false]);
  match(
    goals[0].measured,
    /^26\.00× \(2\.6M vs 100k lines\/s\); CPU per delivery: book uses 50\.00× ours/,
  );
  match(goals[1].measured, /^0\.65×/);
  match(goals[2].measured, /ncat failed/);
  match(goals[3].measured, /4\.9 KiB per connection/);
  match(goals[4].measured, /2\.50×$/);
});

Deno.test("goals: no latency goal when only variants of ours ran, and a poor memory fit is said", () => {
  const only = results([
    run("latency", SAT, "ours", 1, report({ p99: 3 })),
    run(
      "idle",
      "10000 clients",
      "ours",
      1,
      report({ rssPerConnection: 5000, rssFitR2: 0.5 }),
    ),
  ]);
  only.servers = only.servers.filter((s) => s.id === "ours");
  const goals = checkGoals(only);
  deepEqual(goals.filter((g) => g.goal.startsWith("p99")), []);
  const idle = goals.find((g) => g.goal.includes("idle connection"))!;
  match(
    idle.measured,
    /^4\.9 KiB per connection \(slope; poor fit: R² 0\.50\)$/,
  );
});
