/**
 * A throwaway TLS certificate, made with Debian's openssl: a CA and a
 * certificate it signed for localhost and 127.0.0.1, valid one day (for
 * tests, and for `deno task compare`'s ours-tls).
 *
 * @module
 */

/**
 * A certificate for localhost and 127.0.0.1 and its key (PEM text), the
 * CA that signed it (what clients trust), and where they are on disk.
 */
export interface TestCertificate extends AsyncDisposable {
  cert: string;
  key: string;
  ca: string;
  certFile: string;
  keyFile: string;
  caFile: string;
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/**
 * Makes a CA and a server certificate it signed, valid one day, in a
 * temporary directory; `await using` removes them. (rustls will not take a
 * self-signed CA certificate as a server's own.)
 *
 * @example
 * ```ts ignore
 * import { throwawayCertificate } from "./throwaway_certificate.ts";
 * await using certificate = await throwawayCertificate();
 * console.log(certificate.certFile, certificate.caFile);
 * ```
 */
export async function throwawayCertificate(): Promise<TestCertificate> {
  const dir = await Deno.makeTempDir({ prefix: "linechat-tls-" });
  const file = (name: string) => `${dir}/${name}`;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    file("ca-key.pem"),
    "-out",
    file("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=linechat test CA",
  ]);
  await openssl([
    "req",
    ...ec,
    "-nodes",
    "-keyout",
    file("key.pem"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=localhost",
  ]);
  Deno.writeTextFileSync(
    file("ext.cnf"),
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca-key.pem"),
    "-CAcreateserial",
    "-out",
    file("cert.pem"),
    "-days",
    "1",
    "-extfile",
    file("ext.cnf"),
  ]);
  return {
    cert: await Deno.readTextFile(file("cert.pem")),
    key: await Deno.readTextFile(file("key.pem")),
    ca: await Deno.readTextFile(file("ca.pem")),
    certFile: file("cert.pem"),
    keyFile: file("key.pem"),
    caFile: file("ca.pem"),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
