/**
 * Keeps the text in the docs that repeats the code true: every block
 * between `<!-- generated: COMMAND -->` and `<!-- end generated -->` in
 * README.md and docs/*.md is the output of COMMAND (run from the
 * repository root, without a shell), in a `text` code block unless the
 * command prints Markdown (then marked `generated-markdown:`).
 *
 * `deno task docs` rewrites the blocks; `docs/generate_test.ts` fails when
 * one is stale, so `--help` texts, the case table and the report schema in
 * the docs cannot drift from the code.
 *
 * @module
 */

import { runMain, UsageError } from "../lib/args.ts";

/** The repository root. */
export const ROOT: string = decodeURIComponent(
  new URL("../", import.meta.url).pathname,
).replace(/\/$/, "");

/** One generated block of a document. */
export interface GeneratedBlock {
  /** The document, relative to the root. */
  file: string;
  /** The command whose output the block is. */
  command: string;
  /** Whether the output is Markdown (inserted as is) or plain text. */
  markdown: boolean;
  /** The block's text as it stands in the file. */
  current: string;
}

const BLOCK =
  /<!-- generated(-markdown)?: (.+?) -->\n([\s\S]*?)<!-- end generated -->/g;

/**
 * The documents that may hold generated blocks.
 *
 * @example
 * ```ts
 * import { documents } from "./generate.ts";
 * console.log(documents().includes("README.md")); // true
 * ```
 */
export function documents(): string[] {
  const files = ["README.md", "PROTOCOL.md"];
  for (const entry of Deno.readDirSync(`${ROOT}/docs`)) {
    if (entry.isFile && entry.name.endsWith(".md")) {
      files.push(`docs/${entry.name}`);
    }
  }
  return files.sort();
}

/**
 * Finds the generated blocks of `text` (the contents of `file`).
 *
 * @example
 * ```ts
 * import { findBlocks } from "./generate.ts";
 * const text = "a\n<!-- generated: deno --version -->\n```text\nx\n```\n<!-- end generated -->\n";
 * console.log(findBlocks("README.md", text)[0].command); // "deno --version"
 * ```
 */
export function findBlocks(file: string, text: string): GeneratedBlock[] {
  return [...text.matchAll(BLOCK)].map((match) => ({
    file,
    command: match[2],
    markdown: match[1] !== undefined,
    current: match[3],
  }));
}

/** Splits a block's command into words (double quotes group). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/**
 * Runs a block's command and returns the text the block should hold.
 * `deno task X` runs as `deno task -q X`; ANSI colours are removed.
 *
 * @example
 * ```ts ignore
 * import { render } from "./generate.ts";
 * console.log(await render({ file: "README.md", command: "deno run -A server/main.ts --help", markdown: false, current: "" }));
 * ```
 */
export async function render(block: GeneratedBlock): Promise<string> {
  const [program, ...args] = words(block.command);
  if (program === "deno" && args[0] === "task") args.splice(1, 0, "-q");
  const out = await new Deno.Command(
    program === "deno" ? Deno.execPath() : program,
    {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    },
  ).output();
  if (!out.success) {
    throw new Error(
      `${block.file}: "${block.command}" failed (exit ${out.code}): ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
  const text = new TextDecoder().decode(out.stdout)
    // deno-lint-ignore no-control-regex
    .replace(/\x1b\[[0-9;]*m/g, "")
    .trimEnd();
  const body = block.markdown ? text : "```text\n" + text + "\n```";
  return `\n${await formatMarkdown(body)}\n\n`;
}

/** Formats Markdown as `deno fmt` does, so blocks stay as fmt leaves them. */
async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error("deno fmt could not format a block");
  return new TextDecoder().decode(out.stdout).trimEnd();
}

/**
 * Regenerates every block of every document; returns the files changed.
 *
 * @example
 * ```ts ignore
 * import { regenerate } from "./generate.ts";
 * console.log(await regenerate());
 * ```
 */
export async function regenerate(): Promise<string[]> {
  const changed: string[] = [];
  for (const file of documents()) {
    const path = `${ROOT}/${file}`;
    const text = Deno.readTextFileSync(path);
    let updated = text;
    for (const block of findBlocks(file, text)) {
      const fresh = await render(block);
      updated = updated.replace(
        `${block.command} -->\n${block.current}<!-- end generated -->`,
        `${block.command} -->\n${fresh}<!-- end generated -->`,
      );
    }
    if (updated !== text) {
      Deno.writeTextFileSync(path, updated);
      changed.push(file);
    }
  }
  return changed;
}

if (import.meta.main) {
  await runMain("linechat-docs", async () => {
    if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
      console.log(
        "deno task docs: rewrites the generated blocks of README.md, PROTOCOL.md\n" +
          "and docs/*.md from the commands they name (then run deno fmt).",
      );
      return;
    }
    if (Deno.args.length > 0) {
      throw new UsageError(`unexpected argument "${Deno.args[0]}"`);
    }
    const changed = await regenerate();
    console.log(
      changed.length === 0
        ? "docs: every generated block is up to date"
        : `docs: rewrote ${changed.join(", ")}`,
    );
  });
}
