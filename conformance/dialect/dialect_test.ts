import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import {
  compileDialect,
  decodeLine,
  givenUpClauses,
  parseDialect,
  relaxations,
} from "./dialect.ts";

const e = (s: string) => new TextEncoder().encode(s);

Deno.test("a relayed line gives its payload byte for byte, bytes above 0x7f too", () => {
  const d = compileDialect({ relay: "^(?<sender>\\S+?): (?<payload>.*)$" });
  const line = new Uint8Array([...e("1.2.3.4:5: "), 0xff, 0x00, 0x0d, 0x80]);
  const got = decodeLine(d, line);
  assertEquals(got.kind, "relay");
  if (got.kind !== "relay") return;
  assertEquals([...got.payload], [0xff, 0x00, 0x0d, 0x80]);
  assertEquals(got.sender, "1.2.3.4:5");
});

Deno.test("notices are recognised before the relay pattern; other lines stay whole", () => {
  const d = compileDialect({
    relay: "^<(?<sender>\\w+)> (?<payload>.*)$",
    notices: ["^<announce> "],
  });
  assertEquals(decodeLine(d, e("<bob> hi")).kind, "relay");
  assertEquals(decodeLine(d, e("<announce> <bob> left")).kind, "notice");
  assertEquals(decodeLine(d, e("PARTIAL<bob> hi")).kind, "raw");
});

Deno.test("parseDialect rejects unknown fields, bad regexes and a relay without payload", () => {
  throws(() => parseDialect('{"relai": "x"}'), new RegExp("unknown field"));
  throws(() => parseDialect('{"relay": "("}'), new RegExp("relay"));
  throws(() => parseDialect('{"relay": "^(.*)$"}'), new RegExp("payload"));
  throws(
    () => parseDialect('{"handshake": {"skipLines": -1}}'),
    new RegExp("skipLines"),
  );
  assertEquals(
    parseDialect('{"handshake": {"send": "{name}"}}').handshake?.send,
    "{name}",
  );
});

Deno.test("the clauses a dialect gives up: §2.2 with echo, §3.1 with notices or a greeting, §2.4 with a relay pattern", () => {
  assertEquals([...givenUpClauses({}).keys()], []);
  assertEquals([...givenUpClauses({ handshake: { skipLines: 1 } }).keys()], [
    "§3.1",
  ]);
  assertEquals(
    [...givenUpClauses({ handshake: { send: "{name}" } }).keys()],
    [],
  );
  assertEquals(
    [...givenUpClauses({ relay: "(?<payload>.*)", echo: true }).keys()],
    ["§2.2", "§2.4"],
  );
  assertEquals(relaxations({ notices: ["^\\*"] }).length, 1);
});
