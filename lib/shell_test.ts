import { equal } from "node:assert/strict";
import { fillPorts, portsUsed, shellJoin, shellQuote } from "./shell.ts";

Deno.test("shellQuote leaves plain words and quotes the rest for sh", () => {
  equal(shellQuote("server/main.ts"), "server/main.ts");
  equal(shellQuote("{port}"), "{port}");
  equal(shellQuote("a b"), "'a b'");
  equal(shellQuote("it's"), `'it'"'"'s'`);
  equal(shellJoin(["echo", "$HOME", ""]), `echo '$HOME' ''`);
});

Deno.test("fillPorts fills {port} and {port+N}; portsUsed counts them", () => {
  equal(fillPorts("a {port} b {port+2} {port}", 100), "a 100 b 102 100");
  equal(portsUsed("a {port}"), 1);
  equal(portsUsed("a {port} {port+1} {port+3}"), 4);
});
