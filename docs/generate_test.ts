// The docs' generated blocks match what their commands print now: run
// `deno task docs` (then `deno fmt`) after changing a --help text, a case
// or the report schema.

import { equal } from "node:assert/strict";
import { documents, findBlocks, render, ROOT } from "./generate.ts";

for (const file of documents()) {
  const text = Deno.readTextFileSync(`${ROOT}/${file}`);
  for (const block of findBlocks(file, text)) {
    Deno.test(`${file}: the block of "${block.command}" is up to date (deno task docs)`, async () => {
      equal(block.current, await render(block));
    });
  }
}
