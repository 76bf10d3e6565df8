import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { noticePatterns, proposeDialect, relayPattern } from "./propose.ts";

const e = (s: string) => new TextEncoder().encode(s);

Deno.test("a sender part that differs between senders becomes the sender group", () => {
  assertEquals(
    relayPattern(
      new Map([["A", "user1 says "], ["B", "user2 says "]]),
      "",
      new Map(),
    ),
    "^(?<sender>\\S+?) says (?<payload>.*)$",
  );
  assertEquals(
    relayPattern(new Map([["A", ""], ["B", ""]]), "", new Map()),
    undefined,
  );
  assertEquals(
    relayPattern(new Map([["A", "> "], ["B", "> "]]), "", new Map()),
    "^> (?<payload>.*)$",
  );
});

Deno.test("the sender is found by its address or name when the decoration holds it", () => {
  const ids = new Map([["A", ["127.0.0.1:1", "detA"]], ["B", [
    "127.0.0.1:2",
    "detB",
  ]]]);
  assertEquals(
    relayPattern(new Map([["A", "<detA> "], ["B", "<detB> "]]), "", ids),
    "^<(?<sender>\\S+?)> (?<payload>.*)$",
  );
});

Deno.test("notices sharing a leading token give one pattern, others one each", () => {
  assertEquals(noticePatterns(["* a joined", "* b left", "Welcome, detA!"]), [
    "^\\* ",
    "^Welcome, ",
  ]);
  assertEquals(noticePatterns(["hello 12 there"]), ["^hello \\d+ there$"]);
  assertEquals(
    noticePatterns(["hi detA from 127.0.0.1:5"], ["detA", "127.0.0.1:5"]),
    ["^hi \\S+ from \\S+$"],
  );
});

Deno.test("a bare server gives an empty dialect; a name prompt gives a handshake", () => {
  const relayed = [
    { at: "B", from: "A", token: "t1", bytes: e("t1") },
    { at: "A", from: "B", token: "t2", bytes: e("t2") },
  ];
  const base = {
    notices: [],
    unexplained: [],
    addresses: new Map(),
    sendEol: "lf" as const,
  };
  assertEquals(
    proposeDialect({ ...base, greetings: [], names: new Map(), relayed }),
    {},
  );
  const named = proposeDialect({
    ...base,
    greetings: [{ at: "A", bytes: e("Your name?") }],
    names: new Map([["A", "detA"]]),
    relayed,
  });
  assertEquals(named.handshake, { send: "{name}", prompt: "^Your name\\?$" });
});
