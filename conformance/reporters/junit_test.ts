import { equal, ok } from "node:assert/strict";
import { everyVerdictReport } from "../_fixtures.ts";
import { formatJunit, replaceNonXmlChars } from "./junit.ts";

/** Checks that tags nest and close (a tiny well-formedness check). */
function assertBalanced(xml: string): void {
  const stack: string[] = [];
  for (const match of xml.matchAll(/<(\/?)([a-zA-Z-]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) equal(stack.pop(), name, `</${name}> closes the open tag`);
    else stack.push(name);
  }
  equal(stack.length, 0, `unclosed: ${stack.join(", ")}`);
}

Deno.test("JUnit: suites per area, failures for counted results, skipped, escaped", () => {
  const xml = formatJunit(everyVerdictReport());
  ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
  assertBalanced(xml.replace(/^<\?xml[^>]*>/, ""));
  ok(
    xml.includes(
      '<testsuites name="linechat-conformance" tests="7" failures="4" skipped="1"',
    ),
  );
  equal(
    (xml.match(/<testsuite /g) ?? []).length,
    4,
    "relay, limits, slow-consumer, disconnect",
  );
  equal((xml.match(/<failure /g) ?? []).length, 4);
  ok(xml.includes('<failure type="flaky"'));
  ok(xml.includes('<failure type="timeout"'));
  ok(xml.includes('<skipped message="needs --max-clients N"/>'));
  ok(xml.includes("&lt;script&gt;&amp;&quot;&#39;"));
  ok(!xml.includes("<script>"));
  ok(xml.includes("wire trace:"));
});

Deno.test("replaceNonXmlChars replaces characters XML 1.0 cannot carry", () => {
  equal(replaceNonXmlChars("a\x00b\x1bc\td"), "a\ufffdb\ufffdc\td");
});
