// Every relative link in the docs leads somewhere: the file exists, and an
// #anchor names a heading of it (GitHub's slugs).

import { deepEqual } from "node:assert/strict";
import { documents, ROOT } from "./generate.ts";

/** GitHub's anchor for a heading's text. */
function slug(heading: string): string {
  return heading.trim().toLowerCase()
    .replace(/[`*_~]/g, "")
    .replace(/[^\p{L}\p{N} -]/gu, "")
    .replaceAll(" ", "-");
}

function anchorsOf(path: string): Set<string> {
  const text = Deno.readTextFileSync(path).replace(/```[\s\S]*?```/g, "");
  const anchors = new Set<string>();
  for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
    anchors.add(slug(match[1]));
  }
  return anchors;
}

Deno.test("every relative link in README.md, PROTOCOL.md and docs/ resolves", () => {
  const broken: string[] = [];
  for (const file of documents()) {
    const path = `${ROOT}/${file}`;
    const dir = path.slice(0, path.lastIndexOf("/"));
    const text = Deno.readTextFileSync(path).replace(/```[\s\S]*?```/g, "");
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1];
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [file_, anchor] = target.split("#");
      const resolved = file_ === "" ? path : `${dir}/${file_}`;
      try {
        Deno.statSync(resolved);
      } catch {
        broken.push(`${file}: ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith(".md")) {
        if (!anchorsOf(resolved).has(anchor)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
  }
  deepEqual(broken, []);
});
