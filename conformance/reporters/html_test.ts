import { equal, ok } from "node:assert/strict";
import { fixtureReport } from "./_fixture.ts";
import { formatHtml, htmlEscape } from "./html.ts";

Deno.test("the HTML report is one page with every case, its verdict and evidence", () => {
  const report = fixtureReport();
  const html = formatHtml(report);
  ok(html.startsWith("<!doctype html>"));
  for (const c of report.cases) ok(html.includes(`id="${c.id}"`), c.id);
  ok(html.includes('class="v v-fail"'));
  ok(html.includes('class="v v-non-strict"'));
  ok(!html.includes("<script"), "no scripts, and messages are escaped");
  ok(html.includes("&lt;script&gt;"));
  ok(html.includes("wire trace (3 events)"));
  equal(
    (html.match(/<details class="case"[^>]*open>/g) ?? []).length,
    3,
    "failures are unfolded",
  );
  ok(!/<link|src=/.test(html), "self-contained");
});

Deno.test("htmlEscape escapes markup", () => {
  equal(
    htmlEscape(`<a href="x">&</a>`),
    "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;",
  );
});
