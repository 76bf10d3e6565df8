// Tests that need an external tool (nim, ncat, redis-server, tmux) run when
// it is installed, are reported as skipped when it is not, and fail instead
// when LINECHAT_REQUIRE_TOOLS=1 (as in CI, whose .ci/run installs them).

import { onPath } from "../lib/on_path.ts";

/** Whether `tool` is on the PATH. */
export const hasTool: (tool: string) => boolean = onPath;

/** Whether missing tools must fail tests rather than skip them. */
export const toolsRequired = Deno.env.get("LINECHAT_REQUIRE_TOOLS") === "1";

/**
 * Registers a test that needs `tools`: skipped (and named so) when one is
 * missing, unless tools are required, when it fails saying what to install.
 */
export function testWithTools(
  name: string,
  tools: string[],
  fn: (t: Deno.TestContext) => Promise<void> | void,
  options: Omit<Deno.TestDefinition, "name" | "fn" | "ignore"> = {},
): void {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (missing.length === 0) {
    Deno.test({ ...options, name, fn });
  } else if (toolsRequired) {
    Deno.test({
      ...options,
      name,
      fn() {
        throw new Error(
          `${
            missing.join(", ")
          } not installed (LINECHAT_REQUIRE_TOOLS=1): run .ci/run or apt-get install it`,
        );
      },
    });
  } else {
    Deno.test({
      ...options,
      name: `${name} (skipped: ${missing.join(", ")} not installed)`,
      ignore: true,
      fn,
    });
  }
}
