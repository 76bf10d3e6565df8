import { equal, match } from "node:assert/strict";
import { VERSION } from "./version.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);
const TASKS = [
  "start",
  "client",
  "cluster",
  "conformance",
  "matrix",
  "load",
  "compare",
  "attack",
  "ref:build",
  "docs",
];

Deno.test("every program answers --version with its name and linechat's version", async () => {
  for (const task of TASKS) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", task, "--version"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    equal(out.code, 0, `${task}: ${new TextDecoder().decode(out.stderr)}`);
    match(
      text,
      new RegExp(`^linechat-[a-z-]+ ${VERSION.replaceAll(".", "\\.")}$`),
      task,
    );
  }
});
