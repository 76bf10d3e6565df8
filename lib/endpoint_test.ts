import { deepStrictEqual as equal, throws } from "node:assert/strict";
import { UsageError } from "./args.ts";
import { formatEndpoint, parseEndpoint } from "./endpoint.ts";

Deno.test("parseEndpoint: every form, and formatEndpoint gives it back", () => {
  const cases: [string, string][] = [
    ["127.0.0.1:7687", "127.0.0.1:7687"],
    ["7687", "127.0.0.1:7687"],
    ["tls://localhost:7000", "tls://localhost:7000"],
    ["ws://127.0.0.1:8080", "ws://127.0.0.1:8080/ws"],
    ["ws://127.0.0.1:8080/", "ws://127.0.0.1:8080/"],
    ["ws://[::1]:8080/chat?room=a", "ws://[::1]:8080/chat?room=a"],
    ["wss://example.org/ws", "wss://example.org:443/ws"],
  ];
  for (const [text, formatted] of cases) {
    equal(formatEndpoint(parseEndpoint(text)), formatted, text);
  }
  equal(parseEndpoint("ws://[::1]:8080/x").hostname, "::1");
});

Deno.test("parseEndpoint: a mistake is one UsageError line", () => {
  for (const bad of ["http://x:1", "ws://", "tls://x:99999", "::1:7"]) {
    throws(() => parseEndpoint(bad), UsageError, bad);
  }
});
