import { equal, ok } from "node:assert/strict";
import { everyVerdictReport } from "../_fixtures.ts";
import { formatHtml } from "./html.ts";

Deno.test("the HTML report is one page with every case, its verdict and evidence", () => {
  const report = everyVerdictReport();
  const html = formatHtml(report);
  ok(html.startsWith("<!doctype html>"));
  for (const c of report.cases) ok(html.includes(`id="${c.id}"`), c.id);
  ok(html.includes('class="v v-fail"'));
  ok(html.includes('class="v v-non-strict"'));
  ok(html.includes('class="v v-timeout"'));
  ok(!html.includes("<script"), "no scripts, and messages are escaped");
  ok(html.includes("&lt;script&gt;"));
  ok(html.includes("wire trace (3 events)"));
  equal(
    (html.match(/<details class="case"[^>]*open>/g) ?? []).length,
    4,
    "failures are unfolded",
  );
  ok(!/<link|src=/.test(html), "self-contained");
});

Deno.test("the HTML report escapes with lib/markup.ts: quotes and apostrophes too", () => {
  const html = formatHtml(everyVerdictReport());
  ok(html.includes("&lt;script&gt;&amp;&quot;&#39;"));
});
