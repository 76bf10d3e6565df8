/**
 * Builds the Nim reference chat servers in `reference/nim/` with the system
 * `nim` compiler, and says how to run them.
 *
 * Run as a script (`deno run -A reference/build.ts`) it builds every
 * reference and prints one line per binary: name, path, description.
 *
 * @module
 */

/**
 * A compiled reference server, ready to be started on a port.
 *
 * @example Start a reference server and stop it again
 * ```ts
 * import { buildReferences, findNim } from "./build.ts";
 *
 * if (findNim() !== null) {
 *   const [reference] = await buildReferences();
 *   const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 *   const port = listener.addr.port;
 *   listener.close();
 *   const [cmd, ...args] = reference.command(port);
 *   const server = new Deno.Command(cmd, { args, stdout: "null" }).spawn();
 *   server.kill();
 *   await server.status;
 * }
 * ```
 */
export interface ReferenceBinary {
  /** Short name, also the binary's file name, e.g. `"book_server"`. */
  name: string;
  /** Absolute path of the compiled binary. */
  path: string;
  /** Absolute path of the Nim source it was built from. */
  source: string;
  /** One line on which published design the server follows. */
  description: string;
  /**
   * The argv that starts this server listening on `port`. The servers bind
   * all addresses; connect to 127.0.0.1.
   */
  command(port: number): string[];
}

/**
 * Options for {@linkcode buildReferences}.
 *
 * @example Force a rebuild into a scratch directory
 * ```ts
 * import { buildReferences, findNim } from "./build.ts";
 *
 * if (findNim() !== null) {
 *   const buildDir = await Deno.makeTempDir();
 *   const references = await buildReferences({ buildDir, force: true });
 *   console.log(references.map((reference) => reference.path));
 *   await Deno.remove(buildDir, { recursive: true });
 * }
 * ```
 */
export interface BuildReferencesOptions {
  /**
   * The Nim compiler to run.
   *
   * @default {`findNim()`}
   */
  nim?: string;
  /**
   * The directory that gets the binaries and the nimcache directories.
   *
   * @default {`reference/nim/build/`}
   */
  buildDir?: string;
  /**
   * Rebuild even when a binary is newer than its source.
   *
   * @default {false}
   */
  force?: boolean;
}

interface ReferenceSource {
  name: string;
  description: string;
}

/** The reference servers, in the order they are built and listed. */
const SOURCES: readonly ReferenceSource[] = [
  {
    name: "book_server",
    description:
      "Nim in Action ch. 3 ChatApp server (asyncnet; relays to every other connected client)",
  },
  {
    name: "asyncnet_server",
    description:
      "Nim stdlib asyncnet doc chat-server example (relays to every client, sender included)",
  },
  {
    name: "selectors_server",
    description:
      '"Simple chat server in Nim" tutorial, final select() version (one thread, net + selectors)',
  },
];

const NIM_DIR = new URL("./nim/", import.meta.url);

function urlToPath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/**
 * Finds the `nim` compiler on `PATH`.
 *
 * Needs `--allow-env=PATH` and read access to the `PATH` directories.
 *
 * @example Check for the compiler before building
 * ```ts
 * import { findNim } from "./build.ts";
 *
 * const nim = findNim();
 * console.log(nim ?? "nim is not installed");
 * ```
 *
 * @returns The absolute path of the `nim` executable, or `null` if none is found.
 */
export function findNim(): string | null {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const candidate = `${dir.replace(/\/+$/, "")}/nim`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) {
        return candidate;
      }
    } catch {
      // Not in this directory, or not readable: keep looking.
    }
  }
  return null;
}

function mtimeOf(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function compile(
  nim: string,
  source: string,
  output: string,
  nimcache: string,
): Promise<void> {
  // Compile to a temporary name and rename, so that a concurrent build or
  // test never runs a half-written binary.
  const temporary = `${output}.tmp-${Deno.pid}`;
  const { code, stdout, stderr } = await new Deno.Command(nim, {
    args: [
      "c",
      "-d:release",
      "--hints:off",
      "--opt:speed",
      `--nimcache:${nimcache}`,
      `-o:${temporary}`,
      source,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    await Deno.remove(temporary).catch(() => {});
    const decoder = new TextDecoder();
    const log = (decoder.decode(stdout) + decoder.decode(stderr)).trim();
    throw new Error(`nim failed (exit ${code}) on ${source}:\n${log}`);
  }
  await Deno.rename(temporary, output);
}

/**
 * Compiles every Nim reference server, skipping any whose binary is newer
 * than its source, and returns how to run each one.
 *
 * Each is built with
 * `nim c -d:release --hints:off --opt:speed --nimcache:<dir>/nimcache_<name> -o:<dir>/<name> <source>`.
 *
 * @example Build the references and find one by name
 * ```ts
 * import { buildReferences, findNim } from "./build.ts";
 *
 * if (findNim() !== null) {
 *   const references = await buildReferences();
 *   const book = references.find((reference) => reference.name === "book_server");
 *   console.log(book?.command(7687)); // [".../reference/nim/build/book_server", "7687"]
 * }
 * ```
 *
 * @param options Which compiler and build directory to use.
 * @returns One entry per reference server, in build order.
 * @throws {Error} If `nim` is not installed, or a compile fails.
 */
export async function buildReferences(
  options: BuildReferencesOptions = {},
): Promise<ReferenceBinary[]> {
  const nim = options.nim ?? findNim();
  if (nim === null) {
    throw new Error(
      "nim not found on PATH: install it with `apt-get install nim` (Nim 1.6) to build the reference servers",
    );
  }
  const buildDir = (options.buildDir ?? urlToPath(new URL("./build", NIM_DIR)))
    .replace(/\/+$/, "");
  await Deno.mkdir(buildDir, { recursive: true });

  // The compiles are independent (one nimcache each), so run them together.
  return await Promise.all(SOURCES.map(async ({ name, description }) => {
    const source = urlToPath(new URL(`./${name}.nim`, NIM_DIR));
    const path = `${buildDir}/${name}`;
    const sourceTime = mtimeOf(source);
    if (sourceTime === null) throw new Error(`missing source ${source}`);
    const binaryTime = mtimeOf(path);
    if (options.force || binaryTime === null || binaryTime <= sourceTime) {
      await compile(nim, source, path, `${buildDir}/nimcache_${name}`);
    }
    return {
      name,
      path,
      source,
      description,
      command: (port: number) => [path, String(port)],
    };
  }));
}

/** The text `deno task ref:build --help` prints. */
export const BUILD_USAGE =
  `linechat ref:build: compiles the Nim reference chat servers in reference/nim/.

Usage: deno task ref:build [options]

Options:
  --force        rebuild every server, even one whose binary is newer than its source
  -h, --help     this text

Prints one line per server: name, binary path, description. Needs nim
(apt-get install nim); binaries go to reference/nim/build/.`;

if (import.meta.main) {
  const { parseFlags, runMain, UsageError } = await import("../lib/args.ts");
  await runMain("linechat-ref-build", async () => {
    const { values, positionals } = parseFlags({
      args: Deno.args,
      allowPositionals: true,
      options: {
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`);
    }
    if (values.help) {
      console.log(BUILD_USAGE);
      return;
    }
    for (const binary of await buildReferences({ force: values.force })) {
      console.log(`${binary.name}\t${binary.path}\t${binary.description}`);
    }
  });
}
