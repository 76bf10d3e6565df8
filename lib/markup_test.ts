import { equal } from "node:assert/strict";
import { escapeMarkup } from "./markup.ts";

Deno.test("escapeMarkup makes text safe in content and in either quote", () => {
  equal(
    escapeMarkup(`<script>alert("x")</script> & 'y'`),
    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;",
  );
  equal(escapeMarkup("plain text"), "plain text");
});
