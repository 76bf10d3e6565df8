import { deepStrictEqual, equal } from "node:assert/strict";
import {
  globToRegExp,
  matchesPattern,
  selectByPatterns,
  splitPatterns,
} from "./glob.ts";

const noEcho = { id: "relay.no-echo", clause: "§2.2" };
const lonecr = { id: "framing.lone-cr", clause: "§1.1" };
const cases = [noEcho, lonecr, { id: "relay.basic", clause: "§2.1" }];

Deno.test("globs: * matches any run (dots too), ? one character, the rest is literal", () => {
  equal(globToRegExp("relay.*").test("relay.no-echo"), true);
  equal(globToRegExp("*.no-echo").test("relay.no-echo"), true);
  equal(globToRegExp("*").test("a.b.c"), true);
  equal(globToRegExp("relay.no-ech?").test("relay.no-echo"), true);
  equal(globToRegExp("relay.no-ech?").test("relay.no-ech"), false);
  equal(
    globToRegExp("relay.*").test("relayXno-echo"),
    false,
    "the dot is literal",
  );
  equal(
    globToRegExp("a+b(c)").test("a+b(c)"),
    true,
    "regex characters are literal",
  );
});

Deno.test("a pattern without wildcards matches the id and the ids below it", () => {
  equal(matchesPattern(noEcho, "relay"), true);
  equal(matchesPattern(noEcho, "relay.no-echo"), true);
  equal(
    matchesPattern(noEcho, "relay.no"),
    false,
    "not a prefix of a name part",
  );
  equal(matchesPattern(noEcho, "rel"), false);
});

Deno.test("a pattern starting with § matches clauses", () => {
  equal(matchesPattern(noEcho, "§2.2"), true);
  equal(matchesPattern(noEcho, "§2.*"), true);
  equal(matchesPattern(noEcho, "§1.*"), false);
  equal(
    matchesPattern({ id: "x.y", clause: "§2.10" }, "§2.1"),
    false,
    "§2.1 is not §2.10",
  );
});

Deno.test("selection: --only keeps matches (all when empty), then --skip drops", () => {
  deepStrictEqual(
    selectByPatterns(cases, [], []).map((c) => c.id),
    cases.map((c) => c.id),
  );
  deepStrictEqual(selectByPatterns(cases, ["relay"], []).map((c) => c.id), [
    "relay.no-echo",
    "relay.basic",
  ]);
  deepStrictEqual(
    selectByPatterns(cases, ["relay"], ["*.basic"]).map((c) => c.id),
    ["relay.no-echo"],
  );
  deepStrictEqual(
    selectByPatterns(cases, ["§1.*", "relay.basic"], []).map((c) => c.id),
    [
      "framing.lone-cr",
      "relay.basic",
    ],
  );
});

Deno.test("splitPatterns accepts repeated flags and comma lists", () => {
  deepStrictEqual(splitPatterns(["a,b", " c ", ",", ""]), ["a", "b", "c"]);
});
