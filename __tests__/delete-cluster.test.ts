/**
 * `kopsform delete cluster`: what goes is shown first; with --yes the destroy runs through Terraform
 * on a temporary copy whose safeguards are lifted (e2e-delete-cluster.test.ts proves that copy with
 * the real Terraform CLI), the backups are kept unless
 * asked, and exactly the cluster's own run-time parameters are removed afterwards (SSM answered by a
 * stateful fake through aws-sdk-client-mock), never those of a cluster with a similar name.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { DeleteParametersCommand, DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { ownRuntimeParameters } from "../cli/delete-cluster";
import { kopsform } from "./helpers/cli";
import { SEED_1_SPEC, writeSpecs } from "./helpers/specs";

const NAME = SEED_1_SPEC.name;
const SLUG = NAME.replace(/\./g, "-");

/** The parameters of three clusters whose names share a start, and Terraform's own config/ ones. */
const OWN = [
  `/kopsform/${NAME}/etcd/events/created`,
  `/kopsform/${NAME}/etcd/main/created`,
  `/kopsform/${NAME}/join/ca-cert-hash`,
  `/kopsform/${NAME}/join/token`,
  `/kopsform/${NAME}/k8s/initialized`,
  `/kopsform/${NAME}/pki/etcd-clients-ca`,
  `/kopsform/${NAME}/pki/kubernetes-ca`,
];
const NOT_OURS = [
  `/kopsform/${NAME}/config/api-endpoint`,
  `/kopsform/${NAME}/config/backup-bucket`,
  `/kopsform/${NAME}.other/pki/kubernetes-ca`,
  `/kopsform/${NAME}.other/join/token`,
  `/kopsform/${NAME}-2/pki/kubernetes-ca`,
  `/kopsform/hacluster.example.co/pki/kubernetes-ca`,
  `/kopsform/${NAME}x`,
  `/other/kopsform/${NAME}/pki/kubernetes-ca`,
];

/** SSM Parameter Store as far as delete uses it: names, the Path filter's whole-level matching, deletes. */
class FakeParameterStore {
  readonly names = new Set<string>([...OWN, ...NOT_OURS]);
  readonly deleted: string[][] = [];
  private readonly mock = mockClient(SSMClient);

  constructor() {
    this.mock.on(DescribeParametersCommand).callsFake((input) => {
      const filter = input.ParameterFilters?.find((f: { Key?: string }) => f.Key === "Path");
      const base = (filter?.Values?.[0] ?? "/").replace(/\/$/, "");
      // SSM's path filter: a parameter under the path's levels, never one sharing a name's start.
      const all = [...this.names].sort().filter((n) => n.startsWith(`${base}/`) && (filter?.Option === "Recursive" || !n.slice(base.length + 1).includes("/")));
      const start = Number(input.NextToken ?? 0);
      const page = all.slice(start, start + (input.MaxResults ?? 50));
      return { Parameters: page.map((Name) => ({ Name })), NextToken: start + page.length < all.length ? String(start + page.length) : undefined };
    });
    this.mock.on(DeleteParametersCommand).callsFake((input) => {
      if ((input.Names ?? []).length > 10) throw Object.assign(new Error("Member must have length less than or equal to 10"), { name: "ValidationException" });
      this.deleted.push([...(input.Names ?? [])]);
      const gone = (input.Names ?? []).filter((n: string) => this.names.delete(n));
      return { DeletedParameters: gone, InvalidParameters: (input.Names ?? []).filter((n: string) => !gone.includes(n)) };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}

/** A fake `terraform` first on PATH: records its arguments, answers `show -json` with a state. */
function fakeTerraform(dir: string): { log: string; captured: string; state: string } {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const files = { log: path.join(dir, "terraform.log"), captured: path.join(dir, "destroyed.tf.json"), state: path.join(dir, "state.json") };
  fs.writeFileSync(
    path.join(bin, "terraform"),
    `#!/bin/bash
printf '%s\\n' "$*" >> ${JSON.stringify(files.log)}
case "$1" in
  init|state) exit 0 ;;
  show) cat ${JSON.stringify(files.state)} ;;
  apply)
    if [[ " $* " == *" -destroy "* ]]; then
      cp cdk.tf.json ${JSON.stringify(files.captured)}
      if [ -n "\${FAKE_TF_FAIL_DESTROY:-}" ]; then echo "Error: deleting EC2 Subnet: DependencyViolation" >&2; exit 1; fi
      echo "Destroy complete! Resources: 60 destroyed."
    else
      echo "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."
    fi ;;
  *) echo "unexpected: $*" >&2; exit 3 ;;
esac
`,
    { mode: 0o755 },
  );
  const resource = (type: string, name: string, values: Record<string, unknown>) => ({ address: `${type}.${name}`, mode: "managed", type, name, values });
  const state = {
    format_version: "1.0",
    values: {
      root_module: {
        resources: [
          resource("aws_ebs_volume", `a-etcd-main-${SLUG}`, { id: "vol-0a", tags: { "k8s.io/etcd/main": "a/a,b,c" } }),
          resource("aws_ebs_volume", `a-etcd-events-${SLUG}`, { id: "vol-0b", tags: { "k8s.io/etcd/events": "a/a,b,c" } }),
          resource("aws_lb", `api-${SLUG}`, { id: "arn:lb", enable_deletion_protection: true }),
          resource("aws_autoscaling_group", "master-us-west-2a", { id: "master-us-west-2a.masters.x" }),
          resource("aws_s3_bucket", `backups-${SLUG}`, { id: "kopsform-backups-abc", bucket: "kopsform-backups-abc" }),
          resource("aws_s3_bucket_versioning", `backups-${SLUG}`, { id: "kopsform-backups-abc" }),
          resource("aws_kms_key", SLUG, { id: "key-1" }),
          resource("aws_kms_alias", SLUG, { id: "alias/kopsform/x" }),
          resource("aws_vpc", SLUG, { id: "vpc-1" }),
        ],
      },
    },
  };
  fs.writeFileSync(files.state, JSON.stringify(state));
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
  return files;
}

describe("with a fake Terraform and SSM", () => {
  let dir: string;
  let configDir: string;
  let store: FakeParameterStore;
  let tf: { log: string; captured: string; state: string };
  const savedPath = process.env.PATH;
  const s3 = mockClient(S3Client);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-delete-"));
    configDir = writeSpecs([SEED_1_SPEC], path.join(dir, "clusters"));
    store = new FakeParameterStore();
    tf = fakeTerraform(dir);
    s3.reset();
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 96 });
  });
  afterEach(() => {
    store.restore();
    process.env.PATH = savedPath;
    delete process.env.FAKE_TF_FAIL_DESTROY;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const del = (...args: string[]) => kopsform(["delete", "cluster", NAME, "--config-dir", configDir, "--output", path.join(dir, "cdktf.out"), ...args]);
  const specText = () => fs.readFileSync(path.join(configDir, `${NAME}.yaml`), "utf8");

  it("without --yes shows what goes, the etcd volumes and backups named, and deletes nothing", async () => {
    const before = specText();
    const r = await del();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Deleting cluster hacluster.example.com \(us-west-2\) removes:$/m);
    expect(r.stdout).toContain(`aws_ebs_volume.a-etcd-main-${SLUG} (vol-0a)`);
    expect(r.stdout).toContain(`aws_ebs_volume.a-etcd-events-${SLUG} (vol-0b)`);
    expect(r.stdout).toMatch(/API load balancer aws_lb\.api-hacluster-example-com \(deletion protection lifted for this run only\)/);
    expect(r.stdout).toMatch(/etcd backups: KEPT, with their bucket and the cluster's KMS key/);
    expect(r.stdout).toContain("s3://kopsform-backups-abc/hacluster.example.com/backups/etcd/: 96 objects");
    for (const p of OWN) expect(r.stdout).toContain(`    ${p}`);
    for (const p of NOT_OURS) expect(r.stdout).not.toContain(p);
    expect(r.stdout).toMatch(/Must specify --yes to delete the cluster\.$/);
    expect(fs.readFileSync(tf.log, "utf8").split("\n").filter(Boolean).map((l) => l.split(" ")[0])).toEqual(["init", "show"]);
    expect(store.deleted).toEqual([]);
    expect(specText()).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".kopsform-delete-"))).toEqual([]);
  });

  it("with --yes: keeps the backups out of the destroy, lifts the load balancer's protection, destroys, then removes exactly the cluster's own run-time parameters", async () => {
    const before = specText();
    const r = await del("--yes");
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.code).toBe(0);
    const calls = fs.readFileSync(tf.log, "utf8").split("\n").filter(Boolean);
    expect(calls[0]).toMatch(/^init /);
    expect(calls[1]).toMatch(/^show -json/);
    expect(calls[2]).toBe(
      `state rm aws_s3_bucket.backups-${SLUG} aws_s3_bucket_versioning.backups-${SLUG} aws_kms_key.${SLUG} aws_kms_alias.${SLUG}`,
    );
    expect(calls[3]).toBe(`apply -input=false -no-color -auto-approve -target=aws_lb.api-${SLUG}`);
    expect(calls[4]).toBe("apply -destroy -input=false -no-color -auto-approve");
    expect(calls).toHaveLength(5);

    // The configuration destroyed was the lifted copy: no prevent_destroy, no deletion protection.
    const destroyed = JSON.parse(fs.readFileSync(tf.captured, "utf8"));
    const volumes = Object.entries(destroyed.resource.aws_ebs_volume as Record<string, { lifecycle?: { prevent_destroy?: boolean } }>);
    expect(volumes.length).toBe(6);
    expect(volumes.every(([, v]) => v.lifecycle?.prevent_destroy === false)).toBe(true);
    expect(destroyed.resource.aws_lb[`api-${SLUG}`].enable_deletion_protection).toBe(false);

    // Exactly this cluster's run-time parameters, in batches SSM accepts; nothing of another cluster.
    expect(store.deleted.flat().sort()).toEqual([...OWN].sort());
    expect([...store.names].sort()).toEqual([...NOT_OURS].sort());
    expect(r.stdout).toMatch(/Deleted hacluster.example.com: \d+ Terraform resources destroyed, 7 run-time parameters removed\./);
    expect(r.stdout).toMatch(/Kept: the etcd backups in s3:\/\/kopsform-backups-abc and the cluster's KMS key/);
    expect(r.stdout).toMatch(/The spec .*hacluster.example.com.yaml is unchanged: remove it in git/);
    // The committed spec and the output directory are as they were; the temporary copy is gone.
    expect(specText()).toBe(before);
    expect(fs.existsSync(path.join(dir, "cdktf.out", "stacks"))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".kopsform-delete-"))).toEqual([]);
  });

  it("--delete-backups: nothing is kept out of the destroy, and the bucket is emptied by it", async () => {
    const r = await del("--yes", "--delete-backups");
    expect(r.code).toBe(0);
    const calls = fs.readFileSync(tf.log, "utf8").split("\n").filter(Boolean);
    expect(calls.some((c) => c.startsWith("state rm"))).toBe(false);
    expect(r.stdout).not.toMatch(/^Kept:/m);
  });

  it("a failed destroy leaves the run-time parameters in place and says how to go on (exit 1)", async () => {
    process.env.FAKE_TF_FAIL_DESTROY = "1";
    const r = await del("--yes");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/DependencyViolation/);
    expect(r.stderr).toMatch(/delete cluster: terraform apply failed \(exit 1\).*the run-time parameters were not removed.*rerun kopsform delete cluster --yes/);
    expect(store.deleted).toEqual([]);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(".kopsform-delete-"))).toEqual([]);
  });
});

describe("the run-time parameters of exactly one cluster", () => {
  it("keeps every name that only shares the cluster's name as a start, and Terraform's config/ ones", () => {
    // As a path filter that matched by string start would return them: the command checks again.
    expect(ownRuntimeParameters([...OWN, ...NOT_OURS, `/kopsform/${NAME}/`], NAME)).toEqual([...OWN].sort());
  });
});
