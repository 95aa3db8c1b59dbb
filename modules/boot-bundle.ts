/**
 * The boot scripts as instances get them. Everything of boot/ (packed at build time into
 * boot/files.js by boot/compile.js) goes into one gzip'd tar archive, named by its sha256 and kept
 * in the cluster's bucket (`NAME/boot/SHA256.tar.gz`); the user data carries only the loader
 * (boot/loader.sh) and the archive's name and digest. EC2 caps user data at 16 KiB, which the etcd
 * and Kubernetes logic would not fit; this way it stays a few KiB however the scripts grow, a script
 * change still changes the user data (a new launch template version in the plan), and an instance
 * runs exactly the scripts its template names.
 *
 * The archive is deterministic: entries in path order, owner root, mtime 0, and gzip by fflate
 * (pinned exactly: another release could compress differently, and every launch template would
 * change). The same boot/ gives byte-identical archives on every machine and Node.js version.
 */
import { createHash } from "crypto";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { Construct } from "constructs";
import { gzipSync } from "fflate";

/** One file of boot/, as it is installed under /opt/kopsform. */
export interface BootFile {
  /** Path under boot/ and under /opt/kopsform: `lib.sh`, `steps/etcd.sh`, `systemd/...`. */
  readonly path: string;
  /** 0o755 for executables, 0o644 otherwise. */
  readonly mode: number;
  readonly content: string;
}

/** The packed boot/ folder (boot/files.js, written by `npm run build`). */
export const BOOT_FILES: readonly BootFile[] = (require("../boot/files.js") as { files: BootFile[] }).files;

/** A file of boot/ by its path; throws when the build did not pack it. */
export function bootFile(path: string): BootFile {
  const file = BOOT_FILES.find((f) => f.path === path);
  if (!file) {
    throw new Error(`boot/${path} is not in boot/files.js; run npm run build`);
  }
  return file;
}

/** The archive of the boot scripts and its digest. */
export interface BootArchive {
  readonly gzip: Uint8Array;
  /** Hex sha256 of `gzip`: what the loader checks. */
  readonly sha256: string;
}

let archive: BootArchive | undefined;

/** The archive of every file of boot/ (computed once per process). */
export function bootArchive(): BootArchive {
  if (!archive) {
    const gzip = gzipSync(tar(BOOT_FILES), { level: 9, mtime: 0 });
    archive = { gzip, sha256: createHash("sha256").update(gzip).digest("hex") };
  }
  return archive;
}

/** The object key of the archive in the cluster's bucket. */
export function bootArchiveKey(clusterName: string): string {
  return `${clusterName}/boot/${bootArchive().sha256}.tar.gz`;
}

/** Props of {@link BootBundle}. */
export interface BootBundleProps {
  readonly clusterName: string;
  /** The cluster's bucket (modules/cluster-bucket.ts). */
  readonly bucket: string;
}

/**
 * The archive as an S3 object of the cluster's bucket. Its key changes with its content, so a new
 * archive is a new object, made before the old one is removed (instances launching meanwhile still
 * find theirs). Encrypted with S3's own key (SSE-S3): the scripts are no secret, and nodes then
 * need no KMS rights to fetch them.
 */
export class BootBundle extends Construct {
  readonly object: S3Object;
  readonly key: string;

  constructor(scope: Construct, id: string, props: BootBundleProps) {
    super(scope, id);
    const { gzip, sha256 } = bootArchive();
    this.key = bootArchiveKey(props.clusterName);
    this.object = new S3Object(this, "boot-scripts", {
      bucket: props.bucket,
      key: this.key,
      contentBase64: Buffer.from(gzip).toString("base64"),
      contentType: "application/gzip",
      serverSideEncryption: "AES256",
      tags: { "kopsform.io/sha256": sha256 },
      lifecycle: { createBeforeDestroy: true },
    });
  }
}

/** A POSIX (ustar) archive of `files`, with their directories, owned by root, dated 1970. */
function tar(files: readonly BootFile[]): Uint8Array {
  const blocks: Buffer[] = [];
  const directories = new Set<string>();
  for (const file of files) {
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join("/")}/`;
      if (!directories.has(dir)) {
        directories.add(dir);
        blocks.push(tarHeader(dir, 0o755, 0, "5"));
      }
    }
    const body = Buffer.from(file.content, "utf8");
    blocks.push(tarHeader(file.path, file.mode, body.length, "0"), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function tarHeader(name: string, mode: number, size: number, type: "0" | "5"): Buffer {
  if (Buffer.byteLength(name) > 100) {
    throw new Error(`boot/${name}: names in the boot archive are limited to 100 bytes`);
  }
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => header.write(value, offset, length, "ascii");
  const octal = (value: number, offset: number, length: number) =>
    field(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length);
  field(name, 0, 100);
  octal(mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  header.fill(" ", 148, 156);
  field(type, 156, 1);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  field("root", 265, 32);
  field("root", 297, 32);
  let sum = 0;
  for (const byte of header) {
    sum += byte;
  }
  field(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return header;
}
