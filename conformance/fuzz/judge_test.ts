import { deepEqual, equal } from "node:assert/strict";
import type { FuzzLine } from "./fuzz_client.ts";
import { judgeConnection } from "./judge.ts";
import { Model } from "./model.ts";
import { latin1Bytes } from "./schedule.ts";

const got = (...texts: string[]): FuzzLine[] =>
  texts.map((t) => ({ bytes: latin1Bytes(t), terminator: "crlf" }));

/** O and A in the room, A said "a1" and "a2"; B joins and says "b1". */
function room(): Model {
  const model = new Model(["O"]);
  model.apply({ do: "join", client: 0, line: "a1" }, 1);
  model.send("A", latin1Bytes("a2\n"), 2);
  model.apply({ do: "join", client: 1, line: "b1" }, 3);
  return model;
}

const clauses = (model: Model, name: string, lines: FuzzLine[]) =>
  judgeConnection(model, model.conn(name)!, lines).map((m) => m.clause);

Deno.test("a stream as the model says has no mismatch", () => {
  deepEqual(clauses(room(), "O", got("a1", "a2", "b1")), []);
});

Deno.test("lines of different senders may interleave; one sender's may not", () => {
  const model = room();
  model.send("O", latin1Bytes("o1\n"), 4);
  deepEqual(clauses(model, "A", got("o1", "b1")), []);
  deepEqual(clauses(model, "O", got("a2", "a1", "b1")), ["§2.6"]);
});

Deno.test("§2.2 its own line back is an echo", () => {
  deepEqual(clauses(room(), "A", got("a1", "b1")), ["§2.2"]);
});

Deno.test("§2.9 a line from before it joined", () => {
  deepEqual(clauses(room(), "B", got("a2")), ["§2.9"]);
});

Deno.test("§2.10 a line completed after it left", () => {
  const model = room();
  model.leave("B", "half-close");
  model.send("A", latin1Bytes("late\n"), 5);
  deepEqual(clauses(model, "B", got("late")), ["§2.10"]);
});

Deno.test("§1.6 a partial line relayed, whole or glued onto another", () => {
  const model = room();
  model.apply({ do: "leave", client: 1, how: "close", tail: "tail" }, 4);
  deepEqual(clauses(model, "O", got("a1", "a2", "b1", "tail")), ["§1.6"]);
  deepEqual(clauses(model, "O", got("a1", "a2", "tailb1")), ["§1.6"]);
});

Deno.test("§1.4 a piece of a line, §2.7 lines merged, §2.4 other bytes", () => {
  const model = room();
  deepEqual(clauses(model, "O", got("a", "1", "a2", "b1")), ["§1.4", "§1.4"]);
  deepEqual(clauses(model, "O", got("a1a2", "b1")), ["§2.7"]);
  const [mismatch] = judgeConnection(
    model,
    model.conn("O")!,
    got("a1", "A2", "b1"),
  );
  equal(mismatch.clause, "§2.4");
  equal(mismatch.message, 'O received "A2" instead of "a2", A\'s line');
});

Deno.test("§2.3 a line twice, §2.1 a line never received", () => {
  const model = room();
  deepEqual(clauses(model, "O", got("a1", "a1", "a2", "b1")), ["§2.3"]);
  const [lost] = judgeConnection(model, model.conn("O")!, got("a1", "b1"));
  equal(lost.clause, "§2.1");
  equal(
    lost.message,
    'O never received A\'s line "a2" (step 2), though it was in the room',
  );
});

Deno.test("bytes the server left with no LF match no line", () => {
  const model = room();
  const lines: FuzzLine[] = [...got("a1", "a2"), {
    bytes: latin1Bytes("b1"),
    terminator: "none",
  }];
  deepEqual(clauses(model, "O", lines), ["§2.4"]);
});
