// When the suite itself is stopped (a CI timeout's SIGTERM, Ctrl-C), it
// stops the process group it spawned: nothing of it is left running (an
// `sh -c ncat …` was once found orphaned, ppid 1, after `timeout 8`).

import { equal, ok } from "node:assert/strict";
import { testWithTools } from "../_testing/tools.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Every process's pid and process group, from /proc. */
function processGroups(): { pid: number; pgid: number; cmdline: string }[] {
  const out: { pid: number; pgid: number; cmdline: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`)
        .replaceAll("\0", " ");
      out.push({ pid: Number(entry.name), pgid: Number(fields[2]), cmdline });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

async function until<T>(
  probe: () => T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return probe();
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  testWithTools(
    `${signal} to deno task conformance --spawn 'ncat …' leaves no process of the spawned group`,
    ["ncat"],
    async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "task",
          "conformance",
          "--spawn",
          "ncat -l --chat 127.0.0.1 {port}",
          "--only",
          "limits.*",
        ],
        cwd: ROOT,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const decoder = new TextDecoder();
      let output = "";
      const reading = (async () => {
        for await (const chunk of child.stdout) {
          output += decoder.decode(chunk);
        }
      })();
      const errors = new Response(child.stderr).text();
      // Running: the start line names the port the server listens on.
      const port = await until(
        () => /against 127\.0\.0\.1:(\d+)/.exec(output)?.[1],
        30_000,
      );
      ok(port, `the run started: ${output}`);
      const ncat = await until(
        () =>
          processGroups().find((p) =>
            p.cmdline.includes("ncat") && p.cmdline.includes(` ${port}`)
          ),
        10_000,
      );
      ok(ncat, "the spawned ncat is running");
      // `timeout` signals the process it started: here `deno task`.
      child.kill(signal);
      const status = await child.status;
      await reading;
      await errors;
      ok(!status.success, `it was stopped (${status.code})`);
      const left = await until(() => {
        const group = processGroups().filter((p) => p.pgid === ncat!.pgid);
        return group.length === 0 ? [] : undefined;
      }, 5000);
      equal(
        left?.length,
        0,
        `processes of group ${ncat!.pgid} still running: ${
          processGroups().filter((p) => p.pgid === ncat!.pgid).map((p) =>
            `${p.pid} ${p.cmdline}`
          ).join("; ")
        }`,
      );
    },
  );
}
