/**
 * Reading a launch template's user data as cloud-init does: base64, then gzip, then the
 * cloud-config YAML; with its files (write_files) and the instance's facts (cluster.env).
 */
import { gunzipSync } from "zlib";
import YAML from "yaml";

/** One file cloud-init writes. */
export interface CloudInitFile {
  readonly path: string;
  readonly owner: string;
  readonly permissions: string;
  readonly content: string;
}

/** A decoded user data. */
export interface DecodedUserData {
  /** The cloud-config's text. */
  readonly text: string;
  readonly files: readonly CloudInitFile[];
  readonly runcmd: readonly (readonly string[])[];
  /** /etc/kopsform/cluster.env as KEY -> VALUE. */
  readonly env: Readonly<Record<string, string>>;
  /** The gzip'd bytes' length (what EC2's 16 KiB limit applies to). */
  readonly bytes: number;
}

/** Decodes base64 user data (a launch template's `user_data`). */
export function decodeUserData(base64: unknown): DecodedUserData {
  const gzip = Buffer.from(String(base64), "base64");
  const text = gunzipSync(gzip).toString("utf8");
  const doc = YAML.parse(text) as { write_files: CloudInitFile[]; runcmd: string[][] };
  const envFile = doc.write_files.find((f) => f.path === "/etc/kopsform/cluster.env");
  const env = Object.fromEntries(
    (envFile?.content ?? "")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  return { text, files: doc.write_files, runcmd: doc.runcmd, env, bytes: gzip.length };
}
