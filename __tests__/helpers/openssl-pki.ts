/**
 * Certificates made by the real openssl CLI, independent of kopsform's own X.509 code: the cluster CA
 * the run-time store would hold (docs/runtime.md: PEM certificate, then PKCS#8 EC P-256 key), and
 * server certificates for the fake API server.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Runs openssl; throws with its stderr on failure. */
export function openssl(args: readonly string[], input?: string): string {
  return execFileSync("openssl", [...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

/** A CA made by openssl in `dir`. */
export interface OpensslCa {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  /** What a master stores in `/kopsform/NAME/pki/kubernetes-ca`: the certificate, then the key. */
  readonly bundle: string;
}

/** An EC P-256 CA (`CN=name`), valid for `days`. */
export function makeCa(dir: string, name = "kubernetes-ca", days = 3650): OpensslCa {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile]);
  openssl([
    "req", "-x509", "-new", "-key", keyFile, "-out", certFile, "-days", String(days), "-subj", `/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const keyPem = openssl(["pkcs8", "-topk8", "-nocrypt", "-in", keyFile]);
  const certPem = fs.readFileSync(certFile, "utf8");
  return { dir, certFile, keyFile, certPem, keyPem, bundle: `${certPem}${keyPem}` };
}

/** A server certificate for `127.0.0.1` (and `names`), signed by `ca`: key and certificate PEM. */
export function makeServerCert(ca: OpensslCa, names: readonly string[] = []): { keyPem: string; certPem: string } {
  const base = path.join(ca.dir, `server-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${base}.key`]);
  openssl(["req", "-new", "-key", `${base}.key`, "-out", `${base}.csr`, "-subj", "/CN=kube-apiserver"]);
  const san = ["IP:127.0.0.1", ...names.map((n) => `DNS:${n}`)].join(",");
  fs.writeFileSync(`${base}.ext`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl([
    "x509", "-req", "-in", `${base}.csr`, "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial",
    "-days", "2", "-out", `${base}.crt`, "-extfile", `${base}.ext`,
  ]);
  return { keyPem: fs.readFileSync(`${base}.key`, "utf8"), certPem: fs.readFileSync(`${base}.crt`, "utf8") };
}
