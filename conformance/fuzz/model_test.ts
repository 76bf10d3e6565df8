import { deepEqual, equal } from "node:assert/strict";
import { applicableSteps, Model } from "./model.ts";
import { bytesLatin1, latin1Bytes } from "./schedule.ts";

const lines = (model: Model, name: string) =>
  model.conn(name)!.expected.map((l) => bytesLatin1(l.bytes));

Deno.test("§2.1 a line goes to every client connected when it completes", () => {
  const model = new Model(["O"]);
  model.apply({ do: "join", client: 0, line: "a1" }, 1);
  model.apply({ do: "join", client: 1, line: "b1" }, 2);
  deepEqual(lines(model, "O"), ["a1", "b1"]);
  deepEqual(lines(model, "A"), ["b1"]);
  deepEqual(lines(model, "B"), [], "§2.9: nothing from before it joined");
});

Deno.test("§2.2 the sender never gets its own line", () => {
  const model = new Model(["O"]);
  model.apply({ do: "join", client: 0, line: "x" }, 1);
  model.send("A", latin1Bytes("y\n"), 2);
  deepEqual(lines(model, "A"), []);
  deepEqual(model.conn("A")!.sent.map((l) => bytesLatin1(l.bytes)), ["x", "y"]);
});

Deno.test("§1.1 a CR right before the LF is terminator; other CRs are content", () => {
  const model = new Model(["O"]);
  model.apply({ do: "join", client: 0, line: "" }, 1);
  model.send("A", latin1Bytes("a\r\r\nb\rc\n"), 2);
  deepEqual(lines(model, "O"), ["", "a\r", "b\rc"]);
});

Deno.test("§2.1 recipients are those in the room at the LF, not at the first byte", () => {
  const model = new Model(["O"]);
  model.apply({ do: "join", client: 0, line: "" }, 1);
  model.send("A", latin1Bytes("hel"), 2);
  model.apply({ do: "join", client: 1, line: "" }, 3);
  model.send("A", latin1Bytes("lo\n"), 4);
  deepEqual(lines(model, "B"), ["hello"]);
});

Deno.test("§1.6 a leaving client's partial line is dropped, and §2.10 it gets nothing more", () => {
  const model = new Model(["O"]);
  model.apply({ do: "join", client: 0, line: "" }, 1);
  model.apply({ do: "leave", client: 0, how: "close", tail: "part" }, 2);
  model.send("O", latin1Bytes("after\n"), 3);
  deepEqual(lines(model, "A"), []);
  deepEqual(model.dropped.map((d) => bytesLatin1(d.bytes)), ["part"]);
  equal(model.conn("A")!.leftSeq, 1);
});

Deno.test("a reconnect is a new connection of the same identity", () => {
  const model = new Model([]);
  model.apply({ do: "join", client: 0, line: "" }, 1);
  model.apply({ do: "leave", client: 0, how: "reset", tail: "" }, 2);
  equal(model.nextName(0), "A2");
  model.apply({ do: "join", client: 0, line: "" }, 3);
  equal(model.current(0)!.name, "A2");
});

Deno.test("applicableSteps leaves out steps that cannot be done then", () => {
  const steps = applicableSteps([
    { do: "send", client: 0, data: "x\n", cut: "whole", cuts: [], tick: false },
    { do: "join", client: 0, line: "" },
    { do: "join", client: 0, line: "" },
    { do: "resume", client: 0 },
    { do: "pause", client: 0 },
  ]);
  deepEqual(steps.map((s) => s.do), ["join", "pause"]);
});
