import { deepEqual, equal } from "node:assert/strict";
import { LineEditor } from "./line_editor.ts";

const keys = (s: string) => new TextEncoder().encode(s);
const sends = (editor: LineEditor, input: string | Uint8Array) =>
  editor.feed(typeof input === "string" ? keys(input) : input)
    .filter((a) => a.kind === "send")
    .map((a) => a.kind === "send" && a.line);

Deno.test("Enter (CR or LF) sends the typed line and starts a new one", () => {
  const editor = new LineEditor();
  deepEqual(sends(editor, "one\rtwo\n"), ["one", "two"]);
  equal(editor.text, "");
});

Deno.test("Backspace removes one whole character, even a multi-byte one", () => {
  const editor = new LineEditor();
  editor.feed(keys("héé👍🏽\x7f\x7f"));
  equal(editor.text, "hé");
});

Deno.test("UTF-8 split across reads is decoded whole", () => {
  const editor = new LineEditor();
  const bytes = keys("ü");
  editor.feed(bytes.subarray(0, 1));
  editor.feed(bytes.subarray(1));
  equal(editor.text, "ü");
});

Deno.test("Ctrl-U clears; arrow keys and other escape sequences are ignored", () => {
  const editor = new LineEditor();
  editor.feed(keys("junk\x15ok\x1b[A\x1b[1;5C\x1bOP!"));
  equal(editor.text, "ok!");
});

Deno.test("Ctrl-C quits; Ctrl-D quits only on an empty line", () => {
  const editor = new LineEditor();
  deepEqual(editor.feed(keys("\x03")).at(-1), { kind: "quit" });
  editor.feed(keys("x\x04"));
  equal(editor.text, "x");
  deepEqual(new LineEditor().feed(keys("\x04")).at(-1), { kind: "quit" });
});
