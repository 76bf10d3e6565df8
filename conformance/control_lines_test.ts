import { equal } from "node:assert/strict";
import { utf8 } from "./bytes.ts";
import { controlLine, isControlLine, sentinelLine } from "./control_lines.ts";

const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("control lines and sentinels keep their wire format (traces, cases and servers see it)", () => {
  equal(text(controlLine("join", "c3", "B")), "lcc~ctl~join~c3~B");
  equal(text(controlLine("ack", "c3", "A", 1)), "lcc~ctl~ack~c3~A~1");
  equal(text(controlLine("tick", "c3", 2)), "lcc~ctl~tick~c3~2");
  equal(text(sentinelLine("c3", "A", 1)), "lcc~end~c3~A~1");
  equal(
    text(sentinelLine("c9", "S", "after-65537")),
    "lcc~end~c9~S~after-65537",
  );
});

Deno.test("only control lines are control lines: sentinels are content", () => {
  equal(isControlLine(controlLine("tick", "c1", 1)), true);
  equal(isControlLine(sentinelLine("c1", "A", 1)), false);
  equal(isControlLine(utf8("xlcc~ctl~tick")), false);
  equal(
    isControlLine(utf8("127.0.0.1:4000: lcc~ctl~tick~c1~1")),
    true,
    "after a decoration",
  );
});
