/**
 * kubeconfig files as kubectl and kops keep them: which file, merging one cluster's entries without
 * losing anything else, and writing with mode 0600 through a temporary file and a rename.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { UserError } from "../spec/problems";

/** One cluster's entries: a cluster, a user and a context, all named `name` (as kops names them). */
export interface KubeconfigEntry {
  readonly name: string;
  readonly server: string;
  /** PEM of the CA that signs the API server's certificate. */
  readonly caPem: string;
  readonly clientCertificatePem: string;
  readonly clientKeyPem: string;
}

/**
 * The file to write: `--kubeconfig`, else the first file of `$KUBECONFIG`, else `~/.kube/config`
 * (kubectl reads the files of `$KUBECONFIG` in order and the first one's entries win).
 */
export function kubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) {
    return flag;
  }
  const first = (env.KUBECONFIG ?? "").split(path.delimiter).find((p) => p.trim() !== "");
  return first ?? path.join(os.homedir(), ".kube", "config");
}

type Named = { name?: unknown; [key: string]: unknown };

/** Parses kubeconfig `text` (empty or absent: a new one); a {@link UserError} names `source` otherwise. */
export function parseKubeconfig(text: string | undefined, source = "kubeconfig"): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  if (text !== undefined && text.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = YAML.parse(text);
    } catch (e) {
      throw new UserError([`${source}: is not valid YAML (${(e as Error).message.split("\n")[0]}); fix or move it, then retry.`]);
    }
    if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
      throw new UserError([`${source}: is not a kubeconfig (a YAML mapping); fix or move it, then retry.`]);
    }
    config = (parsed as Record<string, unknown>) ?? {};
  }
  for (const key of ["clusters", "users", "contexts"]) {
    if (config[key] !== undefined && config[key] !== null && !Array.isArray(config[key])) {
      throw new UserError([`${source}: ${key} is not a list; fix or move the file, then retry.`]);
    }
  }
  return config;
}

/** Puts `entry` into the kubeconfig `text` (or a new one), replacing only entries of the same name. */
export function mergeKubeconfig(text: string | undefined, entry: KubeconfigEntry, source = "kubeconfig"): string {
  const config = parseKubeconfig(text, source);
  const b64 = (pem: string) => Buffer.from(pem).toString("base64");
  const put = (key: string, value: Record<string, unknown>) => {
    const list = config[key] ?? [];
    const others = (list as Named[]).filter((e) => e?.name !== entry.name);
    config[key] = [...others, { name: entry.name, ...value }];
  };
  config.apiVersion ??= "v1";
  config.kind ??= "Config";
  put("clusters", { cluster: { server: entry.server, "certificate-authority-data": b64(entry.caPem) } });
  put("users", {
    user: { "client-certificate-data": b64(entry.clientCertificatePem), "client-key-data": b64(entry.clientKeyPem) },
  });
  put("contexts", { context: { cluster: entry.name, user: entry.name } });
  config["current-context"] = entry.name;
  return YAML.stringify(config, { lineWidth: 0 });
}

/**
 * Writes `text` to `file` (following a symbolic link to its target) through a temporary file in the
 * same directory and a rename, with mode 0600: the file holds a private key, and a failed write never
 * leaves half a kubeconfig.
 */
export function writeKubeconfig(file: string, text: string): void {
  let target = file;
  try {
    target = fs.realpathSync(file);
  } catch {
    // not there yet
  }
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(target)}.kopsform-${process.pid}.tmp`);
  try {
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, text, { mode: 0o600, flag: "wx" });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError([`${file}: cannot be written (${(e as NodeJS.ErrnoException).code ?? String(e)}); give another --kubeconfig.`]);
  }
}

/** Reads a kubeconfig file, or undefined when there is none. */
export function readKubeconfigText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      return undefined;
    }
    throw new UserError([`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}).`]);
  }
}

/** What a context of a kubeconfig says about reaching a cluster. */
export interface KubeconfigContext {
  readonly server: string;
  readonly caPem?: string;
  readonly tlsServerName?: string;
  readonly clientCertificatePem?: string;
  readonly clientKeyPem?: string;
  readonly token?: string;
}

/** Context `name` of kubeconfig `file` (embedded data or file paths), or a {@link UserError}. */
export function readKubeconfigContext(file: string, name: string): KubeconfigContext {
  const text = readKubeconfigText(file);
  const fail = (why: string) => new UserError([`${file}: ${why}; run kopsform export kubecfg ${name} --admin, or leave out --kubeconfig.`]);
  if (text === undefined) {
    throw fail("does not exist");
  }
  let config: Record<string, Named[] | undefined>;
  try {
    config = (YAML.parse(text) ?? {}) as Record<string, Named[] | undefined>;
  } catch {
    throw fail("is not valid YAML");
  }
  const find = (key: string, n: unknown) => (Array.isArray(config[key]) ? config[key] : []).find((e) => e?.name === n);
  const context = find("contexts", name)?.context as { cluster?: string; user?: string } | undefined;
  if (!context) {
    throw fail(`has no context ${name}`);
  }
  const cluster = (find("clusters", context.cluster)?.cluster ?? {}) as Record<string, string | undefined>;
  const user = (find("users", context.user)?.user ?? {}) as Record<string, string | undefined>;
  if (!cluster.server) {
    throw fail(`context ${name} names no cluster with a server`);
  }
  const dataOrFile = (data?: string, ref?: string) => {
    if (data) {
      return Buffer.from(data, "base64").toString("utf8");
    }
    if (ref) {
      return fs.readFileSync(path.resolve(path.dirname(file), ref), "utf8");
    }
    return undefined;
  };
  return {
    server: cluster.server,
    caPem: dataOrFile(cluster["certificate-authority-data"], cluster["certificate-authority"]),
    tlsServerName: cluster["tls-server-name"],
    clientCertificatePem: dataOrFile(user["client-certificate-data"], user["client-certificate"]),
    clientKeyPem: dataOrFile(user["client-key-data"], user["client-key"]),
    token: user.token,
  };
}
