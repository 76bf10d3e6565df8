import { equal } from "node:assert/strict";
import { utf8 } from "./bytes.ts";
import { lineKey, rememberSentLines, type WireStats } from "./wire_stats.ts";

Deno.test("complete lines of a write are remembered, their CR LF or LF left out", () => {
  const stats: WireStats = {
    linesReceived: 0,
    lfOnlyLines: 0,
    sent: new Set(),
  };
  rememberSentLines(stats, utf8("one\r\ntwo\nunfinished"));
  equal(stats.sent!.has(lineKey(utf8("one"))), true);
  equal(stats.sent!.has(lineKey(utf8("two"))), true);
  equal(stats.sent!.has(lineKey(utf8("unfinished"))), false);
});

Deno.test("writes over 64 KiB are not scanned, and nothing is kept without a set", () => {
  const stats: WireStats = {
    linesReceived: 0,
    lfOnlyLines: 0,
    sent: new Set(),
  };
  rememberSentLines(stats, new Uint8Array(64 * 1024 + 1).fill(0x0a));
  equal(stats.sent!.size, 0);
  rememberSentLines({ linesReceived: 0, lfOnlyLines: 0 }, utf8("a\n"));
});
