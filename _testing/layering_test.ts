// The layout's rules, checked on the import graph of every module that is
// not a test (docs/architecture.md): the product never imports the tools,
// the server never imports the cluster, lib/ imports only the protocol's
// defaults, production code never imports test helpers, and no module
// imports itself through others.

import { deepEqual } from "node:assert/strict";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname)
  .replace(/\/$/, "");

const PRODUCT = ["protocol", "server", "client", "cluster"];
const TOOLS = ["conformance", "bench", "reference", "targets", "docs"];

/** Every non-test module, relative to the root, with what it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${ROOT}/${dir}`)) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory) {
        if (!/^(\.|node_modules$|build$|results$)/.test(entry.name)) {
          walk(path);
        }
      } else if (
        /\.ts$/.test(entry.name) &&
        !/(_test|_bench|^_testing)\.ts$/.test(entry.name) &&
        !path.startsWith("_testing/")
      ) {
        graph.set(path, importsOf(path));
      }
    }
  };
  walk("");
  return graph;
}

/** The repository modules `path` imports, statically or dynamically. */
function importsOf(path: string): string[] {
  const text = Deno.readTextFileSync(`${ROOT}/${path}`)
    // Imports inside comments and doc examples do not count.
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const found = new Set<string>();
  const pattern =
    /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;
  for (const match of text.matchAll(pattern)) {
    const url = new URL(match[1], `file://${ROOT}/${path}`);
    found.add(decodeURIComponent(url.pathname).slice(ROOT.length + 1));
  }
  return [...found];
}

const top = (path: string) => path.split("/")[0];

Deno.test("the product (protocol, server, client, cluster) never imports the tools", () => {
  const bad: string[] = [];
  for (const [from, targets] of importGraph()) {
    if (!PRODUCT.includes(top(from))) continue;
    for (const to of targets) {
      if (TOOLS.includes(top(to))) bad.push(`${from} → ${to}`);
    }
  }
  deepEqual(bad, []);
});

Deno.test("server/ never imports cluster/, and protocol/ imports nothing but protocol/", () => {
  const bad: string[] = [];
  for (const [from, targets] of importGraph()) {
    for (const to of targets) {
      if (top(from) === "server" && top(to) === "cluster") {
        bad.push(`${from} → ${to}`);
      }
      if (top(from) === "protocol" && top(to) !== "protocol") {
        bad.push(`${from} → ${to}`);
      }
    }
  }
  deepEqual(bad, []);
});

Deno.test("lib/ imports only lib/, the protocol's limits and deno.json", () => {
  const bad: string[] = [];
  for (const [from, targets] of importGraph()) {
    if (top(from) !== "lib") continue;
    for (const to of targets) {
      if (
        top(to) !== "lib" && to !== "protocol/limits.ts" && to !== "deno.json"
      ) {
        bad.push(`${from} → ${to}`);
      }
    }
  }
  deepEqual(bad, []);
});

Deno.test("production code never imports test helpers", () => {
  const bad: string[] = [];
  for (const [from, targets] of importGraph()) {
    for (const to of targets) {
      if (
        to.startsWith("_testing/") || /(^|\/)_testing\.ts$|_test\.ts$/.test(to)
      ) {
        bad.push(`${from} → ${to}`);
      }
    }
  }
  deepEqual(bad, []);
});

Deno.test("no import cycles", () => {
  const graph = importGraph();
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") {
        cycles.push([...stack.slice(stack.indexOf(next)), next].join(" → "));
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  deepEqual(cycles, []);
});
