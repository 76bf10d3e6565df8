import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ReceivedLine } from "../../client/chat_client.ts";
import { TraceRecorder } from "../trace.ts";
import { compileDialect } from "./dialect.ts";
import { DialectView } from "./dialect_view.ts";

const e = (s: string) => new TextEncoder().encode(s);
const text = (l: ReceivedLine | null) => l && new TextDecoder().decode(l.bytes);

Deno.test("with echo, a sender's own line is dropped once it knows its name from a harness line", () => {
  const view = new DialectView(
    compileDialect({ relay: "^<(?<sender>\\w+)> (?<payload>.*)$", echo: true }),
  );
  const trace = new TraceRecorder();
  view.sent(e("lcc~ctl~join~c1~A\nhello\r\n"));
  assertEquals(
    view.receive(
      new ReceivedLine(e("<user5> lcc~ctl~join~c1~A"), true),
      trace,
      "A",
    ),
    null,
  );
  // Same content from someone else is kept; its own is dropped by sender.
  assertEquals(
    text(view.receive(new ReceivedLine(e("<user6> hello"), true), trace, "A")),
    "hello",
  );
  assertEquals(
    view.receive(new ReceivedLine(e("<user5> hello"), true), trace, "A"),
    null,
  );
  assertEquals(view.echoes, 2);
});

Deno.test("notices are dropped and counted; without echo the sender's line is kept", () => {
  const view = new DialectView(
    compileDialect({
      relay: "^(?<sender>\\S+?): (?<payload>.*)$",
      notices: ["^\\* "],
    }),
    ["me:1"],
  );
  const trace = new TraceRecorder();
  assertEquals(
    view.receive(new ReceivedLine(e("* x joined"), true), trace, "A"),
    null,
  );
  assertEquals(
    text(view.receive(new ReceivedLine(e("me:1: hi"), true), trace, "A")),
    "hi",
  );
  assertEquals(view.notices, 1);
});
