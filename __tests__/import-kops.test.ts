/**
 * `kopsform import kops`: kops manifests in, a spec and a report out. The rules table against kops's
 * own field tree, every field mapped or reported, the errors (wrong kind, two clusters, foreign instance
 * groups, groups without zones, broken quorum) with the same messages as create cluster, and the
 * report's escaping. The Terraform round trip is in e2e-import-kops.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { loadSpecs } from "../spec/load";
import { KOPS_V1ALPHA2_TYPES } from "../spec/kops/api-fields";
import { ImportedCluster, convertManifest } from "../spec/kops/convert";
import { KOPS_KINDS, KopsKind, readManifests } from "../spec/kops/manifest";
import { escapeMarkdown, markdown, renderMarkdown, say } from "../spec/kops/report";
import { FIELD_RULES, ruleFor } from "../spec/kops/rules";
import { kopsform, kopsformProcess } from "./helpers/cli";
import { tempDir } from "./helpers/cluster";

const FIXTURES = path.join(__dirname, "fixtures", "kops");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");
const NAME = "hacluster.example.com";

/** The documents of a manifest as objects, to change one field and write it back. */
function docsOf(text: string): Record<string, unknown>[] {
  return YAML.parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
}
const manifest = (docs: readonly unknown[]) => docs.map((d) => YAML.stringify(d)).join("---\n");

/** Sets `path` (`spec.subnets[0].cidr`) in an object, creating what is missing. */
function setAt(object: Record<string, unknown>, at: string, value: unknown): void {
  const keys = [...at.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
  let current: Record<string | number, unknown> = object;
  keys.slice(0, -1).forEach((key, i) => {
    if (current[key] === undefined || current[key] === null) {
      current[key] = typeof keys[i + 1] === "number" ? [] : {};
    }
    current = current[key] as Record<string | number, unknown>;
  });
  current[keys[keys.length - 1]] = value;
}

/** Reads and converts a manifest in process. */
function convert(text: string, source = "kops.yaml"): { imported?: ImportedCluster; problems: string[] } {
  const read = readManifests([{ source, text }]);
  if (read.problems.length > 0) {
    return { problems: read.problems.map((p) => `${p.where}: ${p.message}`) };
  }
  const converted = convertManifest(read.documents);
  return { imported: converted.imported, problems: converted.problems.map((p) => `${p.where}: ${p.message}`) };
}

function imported(text: string): ImportedCluster {
  const { imported: result, problems } = convert(text);
  expect(problems).toEqual([]);
  return result as ImportedCluster;
}

/** Runs the command on manifest text in a fresh directory. */
async function importInto(text: string, extra: string[] = []): Promise<{ dir: string; code: number; stdout: string; stderr: string }> {
  const dir = tempDir("import");
  fs.writeFileSync(path.join(dir, "kops.yaml"), text);
  const r = await kopsform(["import", "kops", path.join(dir, "kops.yaml"), "--config-dir", path.join(dir, "clusters"), ...extra]);
  return { dir, ...r };
}

/** The type reference a path pattern has in kops's field tree (a `.*` rule: the path it covers). */
function refAt(kind: KopsKind, pattern: string): string {
  let ref: string = KOPS_KINDS[kind];
  for (const segment of pattern.replace(/\.\*$/, "").split(".")) {
    const list = segment.endsWith("[]");
    ref = KOPS_V1ALPHA2_TYPES[ref][list ? segment.slice(0, -2) : segment];
    if (list) {
      ref = ref.slice(2);
    }
  }
  return ref;
}

/** A value of a type reference, to set a field in a test. */
function sample(ref: string): unknown {
  if (ref.startsWith("[]")) {
    return ["string", "int", "bool", "any"].includes(ref.slice(2)) ? ["x"] : [];
  }
  if (ref.startsWith("map[")) {
    return ref.startsWith("map[[]") ? { k: ["v"] } : { k: "v" };
  }
  return ({ string: "x", int: 1, bool: true, float: 1.5, any: "1" } as Record<string, unknown>)[ref] ?? {};
}

/** Every path of kops's field tree under a kind, stopping where a `.*` rule covers a whole subtree. */
function treePaths(kind: KopsKind, stopAtRules: boolean): string[] {
  const out: string[] = [];
  const visit = (ref: string, prefix: string, depth: number) => {
    const fields = KOPS_V1ALPHA2_TYPES[ref];
    if (!fields || depth > 12) {
      return;
    }
    for (const [name, child] of Object.entries(fields)) {
      const at = prefix ? `${prefix}.${name}` : name;
      out.push(at);
      if (stopAtRules && ruleFor(kind, at)?.key.endsWith(".*")) {
        continue;
      }
      if (child.startsWith("[]")) {
        visit(child.slice(2), `${at}[]`, depth + 1);
      } else {
        visit(child, at, depth + 1);
      }
    }
  };
  visit(KOPS_KINDS[kind], "", 0);
  return out;
}

const KINDS = Object.keys(KOPS_KINDS) as KopsKind[];

describe("the rules table and kops's field tree", () => {
  it.each(KINDS)("covers every field kops's %s has", (kind) => {
    const uncovered = treePaths(kind, true).filter((p) => !ruleFor(kind, p));
    expect(uncovered).toEqual([]);
  });

  it.each(KINDS)("names only fields kops's %s has", (kind) => {
    const known = new Set(treePaths(kind, false));
    const stale = Object.keys(FIELD_RULES[kind]).filter((key) => !known.has(key.replace(/\.\*$/, "")));
    expect(stale).toEqual([]);
  });

  it("reads its tree from kops's Go types: the fields of an etcd member", () => {
    expect(Object.keys(KOPS_V1ALPHA2_TYPES.EtcdMemberSpec).sort()).toEqual(
      ["encryptedVolume", "instanceGroup", "kmsKeyId", "name", "volumeIops", "volumeSize", "volumeThroughput", "volumeType"].sort(),
    );
  });
});

describe("a field that is not carried over is reported, with the rule's words", () => {
  const base = docsOf(fixture("seed-1.yaml"));
  const cases = KINDS.flatMap((kind) =>
    Object.entries(FIELD_RULES[kind])
      .filter(([, rule]) => rule.status !== "mapped")
      // Refused outright rather than reported: an IPv6 subnet (kopsform builds IPv4 networks), and an
      // empty metadata or spec of a cluster or group (no name, no role).
      .filter(([pattern]) => pattern !== "spec.subnets[].ipv6CIDR")
      .filter(([pattern]) => kind === "SSHCredential" || !["metadata", "spec"].includes(pattern))
      .map(([pattern, rule]) => [kind, pattern, rule.status] as const),
  );

  it.each(cases)("%s %s (%s)", (kind, pattern, status) => {
    const docs = structuredClone(base);
    docs.push({ apiVersion: "kops.k8s.io/v1alpha2", kind: "SSHCredential", metadata: { name: "admin" }, spec: { publicKey: "ssh-ed25519 AAAAC3Nza k" } });
    const target = docs.find((d) => d.kind === kind && (kind !== "InstanceGroup" || (d.metadata as { name: string }).name === "nodes-us-west-2a"));
    let at = pattern.replace(/\.\*$/, "").replace(/\[\]/g, "[0]");
    const node = pattern.replace(/\.\*$/, "");
    if (pattern.startsWith("spec.networking.")) {
      // Another CNI than the seed's, with one of its settings.
      const [child, ref] = Object.entries(KOPS_V1ALPHA2_TYPES[refAt(kind, pattern)])[0];
      setAt(target as Record<string, unknown>, "spec.networking", { [node.split(".")[2]]: { [child]: sample(ref) } });
      at = `${node}.${child}`;
    } else {
      setAt(target as Record<string, unknown>, at, sample(refAt(kind, pattern)));
    }
    const { report } = imported(manifest(docs));
    const rule = FIELD_RULES[kind][pattern];
    if (status === "unsupported") {
      const item = report.omitted.find((i) => i.paths.includes(at));
      expect(item).toMatchObject({ did: [rule.status === "unsupported" && rule.did], instead: [rule.status === "unsupported" && rule.instead] });
    } else {
      expect(report.bookkeeping.find((i) => i.paths.includes(at))).toBeDefined();
    }
  });
});

describe("the seed's examples as kops stores them", () => {
  it("imports the first: three masters in three zones, private, kopeio-vxlan, and keeps kops's open API and SSH", async () => {
    const r = await importInto(fixture("seed-1.yaml"));
    expect(r.code).toBe(3);
    const [loaded] = loadSpecs(path.join(r.dir, "clusters"));
    expect(loaded.spec.masters.map((m) => `${m.name}/${m.member}`)).toEqual([
      "master-us-west-2a/a",
      "master-us-west-2b/b",
      "master-us-west-2c/c",
    ]);
    const spec = YAML.parse(fs.readFileSync(path.join(r.dir, "clusters", `${NAME}.yaml`), "utf8"));
    expect(spec).toEqual({
      name: NAME,
      zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
      kubernetesVersion: "1.33.5",
      // The running kops cluster's version is the record upgrades are checked against (spec/upgrade.ts).
      deployedKubernetesVersion: "1.33.5",
      masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
      masterCount: 3,
      masterSize: "t2.medium",
      masterVolumeSize: 64,
      nodeCount: 3,
      nodeSize: "t2.medium",
      nodeVolumeSize: 128,
      topology: "private",
      networking: "kopeio-vxlan",
      networkCidr: "172.20.0.0/16",
      etcdStorageType: "gp3",
      etcdVolumeSize: 20,
      etcdMembers: ["a", "b", "c"],
      apiLoadBalancerType: "public",
      adminAccess: ["0.0.0.0/0", "::/0"],
      sshAccess: ["0.0.0.0/0", "::/0"],
      allowSshFromAnywhere: true,
      image: "099720109477/ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610",
      encryptEtcdStorage: true,
    });
    expect(r.stdout).toMatch(/Wrote .*hacluster\.example\.com\.yaml\nWrote .*hacluster\.example\.com\.import\.md/);
    expect(r.stdout).toMatch(/Not carried over \(10 settings\):/);
    expect(r.stdout).toMatch(/spec\.kubelet\.anonymousAuth: in kops, configured the kubelet of the nodes; instead, kopsform does not configure Kubernetes components/);
    expect(r.stdout).toMatch(/The API load balancer stays internet-facing and open to 0\.0\.0\.0\/0, ::\/0, as in kops/);
    expect(r.stdout).toMatch(/SSH stays open to 0\.0\.0\.0\/0, ::\/0, as in kops \(allowSshFromAnywhere: true\)/);
    expect(r.stdout).toMatch(/control-plane-us-west-2a -> master-us-west-2a/);
    expect(r.stdout).toMatch(/nodes-us-west-2a \(1\), nodes-us-west-2b \(1\), nodes-us-west-2c \(1\) become kopsform's default group nodes/);
    const report = fs.readFileSync(path.join(r.dir, "clusters", `${NAME}.import.md`), "utf8");
    expect(report).toMatch(/\*\*10 settings of the manifest are not carried over\*\* \(exit code 3\)/);
    expect(report).toMatch(/\| `document 1 \(Cluster hacluster\.example\.com\)` \| `spec\.nonMasqueradeCIDR` \| set the cluster's internal address range/);
    expect(report).toMatch(/\| `document 1 \(Cluster hacluster\.example\.com\)`, `document 2 \(InstanceGroup control-plane-us-west-2a\)`, .*\| `metadata\.creationTimestamp` \|/);
    expect(report).toMatch(/\| `adminAccess` \| `document 1 \(Cluster hacluster\.example\.com\)`: `spec\.kubernetesApiAccess` \|/);
  });

  it("refuses the second as written, with create cluster's message for i-abcd1234, naming the groups and the path", async () => {
    const r = await importInto(fixture("seed-2.yaml"));
    const created = await kopsform([
      "create", "cluster", "--zones", "us-west-2a", "--master-security-groups", "sg-12345678,i-abcd1234", "--config-dir", path.join(r.dir, "c"), NAME,
    ]);
    const createMessage = created.stderr.replace(/^--master-security-groups: /, "");
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toEqual([
      `${path.join(r.dir, "kops.yaml")}: document 2 (InstanceGroup control-plane-us-west-2a), document 3 (InstanceGroup control-plane-us-west-2b), ` +
        `document 4 (InstanceGroup control-plane-us-west-2c): spec.additionalSecurityGroups[1] (the spec's masterSecurityGroups[1]): ${createMessage}`,
    ]);
    expect(fs.existsSync(path.join(r.dir, "clusters"))).toBe(false);
  });

  it("imports the second with a real security group: DNS zone, extra groups, cloud labels, the image by owner/name", async () => {
    const r = await importInto(fixture("seed-2.yaml").replaceAll("i-abcd1234", "sg-abcd1234"));
    expect(r.code).toBe(3);
    const spec = YAML.parse(fs.readFileSync(path.join(r.dir, "clusters", `${NAME}.yaml`), "utf8"));
    expect(spec).toMatchObject({
      dnsZone: "example.com",
      networking: "weave",
      masterSecurityGroups: ["sg-12345678", "sg-abcd1234"],
      nodeSecurityGroups: ["sg-12345678"],
      cloudLabels: { Owner: "John Doe", Team: "Dev" },
      image: "293135079892/k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16",
      nodeCount: 3,
    });
    expect(spec.dns).toBeUndefined();
  });

  it("imports the third: three masters in one zone, with kopsform's member names and the quorum warning", async () => {
    const r = await importInto(fixture("seed-3.yaml"));
    expect(r.code).toBe(3);
    const [loaded] = loadSpecs(path.join(r.dir, "clusters"));
    expect(loaded.spec).toMatchObject({ masterZones: ["us-east-1a"], masterCount: 3, topology: "public", networking: "cilium", zones: ["us-east-1a", "us-east-1b"] });
    expect(loaded.spec.masters.map((m) => m.member)).toEqual(["a", "a-2", "a-3"]);
    expect(r.stdout).toMatch(/control-plane-us-east-1a-1 -> master-us-east-1a, control-plane-us-east-1a-2 -> master-us-east-1a-2/);
    expect(r.stdout).toMatch(/etcd members \(of main and events\) are named after their master's zone in kopsform: etcd-1 -> a, etcd-2 -> a-2, etcd-3 -> a-3\./);
    expect(r.stdout).toMatch(/spec\.networking\.cilium\.enableNodePort: in kops, configured the CNI kops installed/);
    expect(r.stderr).toMatch(/warning: masterZones: 3 of 3 masters run in us-east-1a: losing us-east-1a loses etcd quorum/);
  });
});

describe("a cluster that sets every field kopsform imports", () => {
  it("maps every one of them, and exits 0: nothing is left out", async () => {
    const r = await importInto(fixture("everything.yaml"));
    expect(r.stdout).toMatch(/Every setting of the manifest is carried over\./);
    expect(r.code).toBe(0);
    const spec = YAML.parse(fs.readFileSync(path.join(r.dir, "clusters", "prod.example.org.yaml"), "utf8"));
    expect(spec).toEqual({
      name: "prod.example.org",
      zones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
      kubernetesVersion: "1.32.4",
      deployedKubernetesVersion: "1.32.4",
      masterZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
      masterCount: 3,
      masterSize: "m5.large",
      masterVolumeSize: 100,
      nodeCount: 3,
      nodeSize: "m5.xlarge",
      nodeVolumeSize: 200,
      topology: "private",
      networking: "calico",
      networkCidr: "10.20.0.0/16",
      etcdStorageType: "io1",
      etcdVolumeSize: 50,
      etcdMembers: ["a", "b", "c"],
      // eu-west-1a's subnets and the utility ones are kopsform's plan already; these two are not.
      subnets: [
        { zone: "eu-west-1b", type: "private", cidr: "10.20.128.0/19" },
        { zone: "eu-west-1c", type: "private", cidr: "10.20.160.0/19" },
      ],
      dnsZone: "example.org",
      dns: "private",
      apiLoadBalancerType: "internal",
      adminAccess: ["10.0.0.0/8", "192.0.2.0/24"],
      sshAccess: ["203.0.113.0/24"],
      sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKopsformImportTestKeyOnlyForTests0000000 ops@example.org",
      bastion: true,
      image: "ami-0123456789abcdef0",
      masterSecurityGroups: ["sg-0123456789abcdef0"],
      nodeSecurityGroups: ["sg-0fedcba9876543210"],
      cloudLabels: { CostCenter: "4711", Environment: "production" },
      etcdVolumeIops: 100,
      encryptEtcdStorage: true,
      etcdKmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      apiAccessLogsBucket: "prod-example-org-lb-logs",
      nodeGroups: [
        {
          name: "gpu",
          zones: ["eu-west-1b", "eu-west-1c"],
          size: "g5.xlarge",
          minSize: 0,
          maxSize: 4,
          volumeSize: 300,
          image: "ami-0fedcba9876543210",
          labels: { "nvidia.com/gpu": "true" },
          taints: ["nvidia.com/gpu=present:NoSchedule"],
          securityGroups: ["sg-0fedcba9876543210", "sg-0aaaaaaaaaaaaaaaa"],
        },
      ],
    });
    expect(r.stdout).toMatch(/etcd's io1 volumes keep kops's 100 IOPS \(kops's default when none is given/);
  });

  it("writes the same files on every run", async () => {
    const a = await importInto(fixture("everything.yaml"));
    const b = await importInto(fixture("everything.yaml"));
    for (const f of ["prod.example.org.yaml", "prod.example.org.import.md"]) {
      const [first, second] = [a, b].map((r) => fs.readFileSync(path.join(r.dir, "clusters", f), "utf8").replaceAll(r.dir, "DIR"));
      expect(second).toBe(first);
    }
  });
});

describe("mapping details", () => {
  const seed1 = () => docsOf(fixture("seed-1.yaml"));
  const cluster = (docs: Record<string, unknown>[]) => docs[0];
  const group = (docs: Record<string, unknown>[], name: string) =>
    docs.find((d) => (d.metadata as { name: string }).name === name) as Record<string, unknown>;

  it("keeps a shared VPC and its subnets by id, without the CIDRs kops recorded for them", () => {
    const docs = seed1();
    setAt(cluster(docs), "spec.networkID", "vpc-0123456789abcdef0");
    (cluster(docs).spec as { subnets: Record<string, unknown>[] }).subnets.forEach((s, i) => (s.id = `subnet-0000000${i}`));
    const { raw, report } = imported(manifest(docs));
    expect(raw.vpc).toBe("vpc-0123456789abcdef0");
    expect(raw.subnets).toEqual([
      { zone: "us-west-2a", type: "private", id: "subnet-00000000" },
      { zone: "us-west-2b", type: "private", id: "subnet-00000001" },
      { zone: "us-west-2c", type: "private", id: "subnet-00000002" },
      { zone: "us-west-2a", type: "utility", id: "subnet-00000003" },
      { zone: "us-west-2b", type: "utility", id: "subnet-00000004" },
      { zone: "us-west-2c", type: "utility", id: "subnet-00000005" },
    ]);
    expect(report.notes.map(markdown).join("\n")).toMatch(/kops recorded its CIDR `172\.20\.32\.0\/19`/);
  });

  it("keeps node groups apart when they differ, and gives kopsform's default group 0 instances", () => {
    const docs = seed1();
    setAt(group(docs, "nodes-us-west-2b"), "spec.maxSize", 5);
    const { raw, report } = imported(manifest(docs));
    expect(raw.nodeCount).toBe(0);
    expect((raw.nodeGroups as { name: string; minSize: number; maxSize: number; zones: string[] }[]).map((g) => [g.name, g.zones, g.minSize, g.maxSize])).toEqual([
      ["nodes-us-west-2a", ["us-west-2a"], 1, 1],
      ["nodes-us-west-2b", ["us-west-2b"], 1, 5],
      ["nodes-us-west-2c", ["us-west-2c"], 1, 1],
    ]);
    expect(report.notes.map(markdown).join("\n")).toMatch(/kopsform always has a default node group, nodes; no kops group matches it/);
  });

  it("renames a kops group called nodes that kopsform's default group cannot stand for", () => {
    const docs = seed1().filter((d) => !String((d.metadata as { name: string }).name).startsWith("nodes-"));
    docs.push({ ...group(seed1(), "nodes-us-west-2a"), metadata: { name: "nodes" }, spec: { role: "Node", minSize: 1, maxSize: 3, subnets: ["us-west-2a"] } });
    const { raw, report } = imported(manifest(docs));
    expect(raw.nodeGroups).toEqual([{ name: "nodes-kops", zones: ["us-west-2a"], minSize: 1, maxSize: 3 }]);
    expect(report.renamed.map(markdown).join("\n")).toMatch(/kops's node group nodes is named nodes-kops/);
  });

  it("resolves kops's image owner aliases to their accounts, and says so", () => {
    const docs = seed1();
    docs.slice(1).forEach((d) => setAt(d, "spec.image", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610"));
    const { raw, report } = imported(manifest(docs));
    expect(raw.image).toBe("099720109477/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610");
    expect(report.kept.map(markdown)).toContainEqual(expect.stringMatching(/kops's image owner `ubuntu` is its alias for account `099720109477`/));
  });

  it("takes kops's ssm: image of Canonical's Ubuntu 24.04 as kopsform's default image", () => {
    const docs = seed1();
    docs.slice(1).forEach((d) => setAt(d, "spec.image", "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"));
    const { raw, report } = imported(manifest(docs));
    expect(raw.image).toBeUndefined();
    expect(report.omitted).not.toContainEqual(expect.objectContaining({ paths: ["spec.image"] }));
  });

  it("reports settings kopsform's launch templates enforce otherwise: a hop limit of 3, IMDSv1, unencrypted gp2 roots", () => {
    const docs = seed1();
    setAt(group(docs, "control-plane-us-west-2a"), "spec.instanceMetadata", { httpPutResponseHopLimit: 3, httpTokens: "optional" });
    setAt(group(docs, "nodes-us-west-2a"), "spec.rootVolumeType", "gp2");
    setAt(group(docs, "nodes-us-west-2a"), "spec.rootVolumeEncryption", false);
    const lines = imported(manifest(docs)).report.omitted.map((i) => `${i.where} ${i.paths.join()}: ${markdown(i.did)} / ${markdown(i.instead)}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/control-plane-us-west-2a\) spec\.instanceMetadata\.httpTokens: allowed IMDSv1 .* \/ IMDSv2 only, enforced at synthesis \(KSEC-LT-001\)/),
        expect.stringMatching(/control-plane-us-west-2a\) spec\.instanceMetadata\.httpPutResponseHopLimit: let metadata responses travel `3` hops.* \/ a hop limit of 1/),
        expect.stringMatching(/nodes-us-west-2a\) spec\.rootVolumeType: used `gp2` root volumes \/ root volumes are gp3/),
        expect.stringMatching(/nodes-us-west-2a\) spec\.rootVolumeEncryption: left root volumes unencrypted/),
      ]),
    );
  });

  it("reports unencrypted etcd volumes (kopsform encrypts them), and differing member settings", () => {
    const docs = seed1();
    const members = (cluster(docs).spec as { etcdClusters: { etcdMembers: Record<string, unknown>[] }[] }).etcdClusters.flatMap((c) => c.etcdMembers);
    members.forEach((m) => delete m.encryptedVolume);
    members[2].volumeSize = 40;
    const { raw, report } = imported(manifest(docs));
    expect(raw.encryptEtcdStorage).toBeUndefined();
    expect(raw.etcdVolumeSize).toBe(20);
    const omitted = report.omitted.map((i) => `${i.paths.join()}: ${markdown(i.did)} / ${markdown(i.instead)}`);
    expect(omitted).toContainEqual(expect.stringMatching(/^spec\.etcdClusters\[0\]\.etcdMembers\[0\]\.encryptedVolume: left the etcd volumes unencrypted \/ etcd volumes are always encrypted/));
    expect(omitted).toContainEqual(expect.stringMatching(/^spec\.etcdClusters\[0\]\.etcdMembers\[2\]: gave etcd volumes different settings .*gp3, 40 GiB/));
  });

  it("keeps gp3 IOPS above the baseline, and reports a throughput kopsform does not set", () => {
    const docs = seed1();
    (cluster(docs).spec as { etcdClusters: { etcdMembers: Record<string, unknown>[] }[] }).etcdClusters
      .flatMap((c) => c.etcdMembers)
      .forEach((m) => Object.assign(m, { volumeType: "gp3", volumeIops: 6000, volumeThroughput: 250, volumeSize: 40 }));
    const { raw, report } = imported(manifest(docs));
    expect(raw).toMatchObject({ etcdStorageType: "gp3", etcdVolumeSize: 40, etcdVolumeIops: 6000 });
    expect(report.omitted.map((i) => i.paths.join())).toContain("spec.etcdClusters[0].etcdMembers[0].volumeThroughput");
  });

  it("reports managed prefix lists in access lists, and keeps the CIDRs", () => {
    const docs = seed1();
    setAt(cluster(docs), "spec.kubernetesApiAccess", ["203.0.113.0/24", "pl-0123456789abcdef0"]);
    const { raw, report } = imported(manifest(docs));
    expect(raw.adminAccess).toEqual(["203.0.113.0/24"]);
    expect(report.omitted.map((i) => markdown(i.did))).toContainEqual("admitted the managed prefix lists `pl-0123456789abcdef0` to the API");
  });

  it("reports a CNI kopsform does not know as cni, and an API published by DNS only", () => {
    const docs = seed1();
    setAt(cluster(docs), "spec.networking", { kindnet: {} });
    setAt(cluster(docs), "spec.api", { dns: {} });
    const { raw, report } = imported(manifest(docs));
    expect(raw).toMatchObject({ networking: "cni", apiLoadBalancerType: "public" });
    const paths = report.omitted.map((i) => i.paths.join());
    expect(paths).toEqual(expect.arrayContaining(["spec.networking.kindnet", "spec.api.dns"]));
  });

  it("leaves out a group of a role kopsform does not have, as a whole, and says so", () => {
    const docs = seed1();
    docs.push({ ...group(docs, "nodes-us-west-2a"), metadata: { name: "apiservers" }, spec: { role: "APIServer", subnets: ["us-west-2a"], machineType: "m5.large" } });
    const { report } = imported(manifest(docs));
    expect(report.omitted).toContainEqual(
      expect.objectContaining({ where: "kops.yaml: document 8 (InstanceGroup apiservers)", paths: ["apiVersion", "kind", "metadata.name", "spec.role", "spec.subnets", "spec.machineType"] }),
    );
  });
});

describe("refusals, each naming the file, the document and the path", () => {
  const seed1 = fixture("seed-1.yaml");
  const problemsOf = (text: string) => convert(text).problems;

  it("refuses another kind, naming it", () => {
    const text = `${seed1}\n---\napiVersion: kops.k8s.io/v1alpha2\nkind: Keyset\nmetadata:\n  name: kubernetes-ca\nspec: {}\n`;
    expect(problemsOf(text)).toEqual([
      'kops.yaml: document 8 (Keyset kubernetes-ca): kind: "Keyset" is not imported; kopsform reads a Cluster, its InstanceGroups and an SSHCredential. Remove other objects from the input (apply add-on objects to the running cluster yourself).',
    ]);
  });

  it("refuses an apiVersion other than v1alpha2", () => {
    expect(problemsOf(seed1.replace("kops.k8s.io/v1alpha2\nkind: Cluster", "kops.k8s.io/v1alpha3\nkind: Cluster"))).toEqual([
      expect.stringMatching(/^kops\.yaml: document 1 \(Cluster hacluster\.example\.com\): apiVersion: "kops\.k8s\.io\/v1alpha3" is not supported; kopsform reads kops\.k8s\.io\/v1alpha2/),
    ]);
  });

  it("refuses an unknown field, with the path and the field kops has", () => {
    expect(problemsOf(seed1.replace("  - cidr: 172.20.64.0/19", "  - cdir: 172.20.64.0/19"))).toEqual([
      expect.stringMatching(
        /^kops\.yaml: document 1 \(Cluster hacluster\.example\.com\): spec\.subnets\[1\]\.cdir: unknown field: kops\.k8s\.io\/v1alpha2 ClusterSubnetSpec has no field "cdir" .* Did you mean cidr\? \(kops itself ignores fields it does not know/,
      ),
    ]);
  });

  it("refuses a value of the wrong type", () => {
    expect(problemsOf(seed1.replace("  maxSize: 1\n  minSize: 1\n  role: Node\n  subnets:\n  - us-west-2a", '  maxSize: 1\n  minSize: "1"\n  role: Node\n  subnets:\n  - us-west-2a'))).toEqual([
      'kops.yaml: document 5 (InstanceGroup nodes-us-west-2a): spec.minSize: "1" is not a whole number.',
    ]);
  });

  it("refuses two clusters in one input", () => {
    const other = seed1.split("\n---\n")[0].replace(/hacluster\.example\.com/g, "other.example.com");
    expect(problemsOf(`${seed1}\n---\n${other}`)).toEqual([
      "kops.yaml: document 8 (Cluster other.example.com): is a second Cluster (after kops.yaml: document 1 (Cluster hacluster.example.com)); import one cluster at a time, with its own instance groups.",
    ]);
  });

  it("refuses the instance groups of another cluster", () => {
    const text = seed1.replace("  labels:\n    kops.k8s.io/cluster: hacluster.example.com\n  name: nodes-us-west-2b", "  labels:\n    kops.k8s.io/cluster: other.example.com\n  name: nodes-us-west-2b");
    expect(problemsOf(text)).toEqual([
      'kops.yaml: document 6 (InstanceGroup nodes-us-west-2b): metadata.labels.kops.k8s.io/cluster: "other.example.com": this InstanceGroup belongs to another cluster than hacluster.example.com; import each cluster with its own objects (kops get all NAME -o yaml).',
    ]);
  });

  it("refuses an instance group with no zones", () => {
    const text = seed1.replace("  role: Node\n  subnets:\n  - us-west-2c\n", "  role: Node\n");
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^kops\.yaml: document 7 \(InstanceGroup nodes-us-west-2c\): spec\.subnets: is empty, so the group has no zones; kops places an instance group in the subnets it names/),
    ]);
  });

  it("refuses an instance group in a subnet the cluster does not have", () => {
    expect(problemsOf(seed1.replace("  role: Node\n  subnets:\n  - us-west-2c", "  role: Node\n  subnets:\n  - us-west-2d"))).toEqual([
      expect.stringMatching(/^kops\.yaml: document 7 \(InstanceGroup nodes-us-west-2c\): spec\.subnets\[0\]: "us-west-2d" is not a subnet of the Cluster \(it has us-west-2a/),
    ]);
  });

  it("refuses a master count that breaks quorum, with create cluster's message", async () => {
    const docs = docsOf(seed1).filter((d) => (d.metadata as { name: string }).name !== "control-plane-us-west-2c");
    (docs[0].spec as { etcdClusters: { etcdMembers: unknown[] }[] }).etcdClusters.forEach((c) => c.etcdMembers.splice(2, 1));
    const r = await importInto(manifest(docs));
    const created = await kopsform([
      "create", "cluster", "--zones", "us-west-2a,us-west-2b", "--master-zones", "us-west-2a,us-west-2b", "--master-count", "2", "--config-dir", path.join(r.dir, "c"), NAME,
    ]);
    expect(created.code).toBe(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${path.join(r.dir, "kops.yaml")}: document 2 (InstanceGroup control-plane-us-west-2a), document 3 (InstanceGroup control-plane-us-west-2b): ` +
        `spec.subnets, spec.minSize (the spec's masterCount): ${created.stderr.replace(/^--master-count: /, "")}`,
    );
    expect(fs.existsSync(path.join(r.dir, "clusters"))).toBe(false);
  });

  it("refuses a master layout kopsform's round-robin cannot express", () => {
    const docs = docsOf(fixture("seed-3.yaml"));
    const extra = structuredClone(docs.find((d) => (d.metadata as { name: string }).name === "control-plane-us-east-1a-3") as Record<string, unknown>);
    (extra.metadata as { name: string }).name = "control-plane-us-east-1b";
    setAt(extra, "spec.subnets", ["us-east-1b"]);
    const extra2 = structuredClone(extra);
    (extra2.metadata as { name: string }).name = "control-plane-us-east-1a-4";
    setAt(extra2, "spec.subnets", ["us-east-1a"]);
    docs.push(extra, extra2);
    expect(convert(manifest(docs)).problems).toEqual([
      expect.stringMatching(/put 4 in us-east-1a, 1 in us-east-1b; kopsform lays masters over their zones round-robin/),
    ]);
  });

  it("refuses etcd members on groups that are not control-plane groups, and masters without members", () => {
    const text = seed1.replace("      instanceGroup: control-plane-us-west-2c\n      name: c\n    manager:\n      backupRetentionDays: 90\n    memoryRequest: 100Mi\n    name: main", "      instanceGroup: nodes-us-west-2c\n      name: c\n    manager:\n      backupRetentionDays: 90\n    memoryRequest: 100Mi\n    name: main");
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/spec\.etcdClusters\[0\]\.etcdMembers\[2\]\.instanceGroup: "nodes-us-west-2c": every etcd member runs on a control-plane group/),
      expect.stringMatching(/spec\.etcdClusters\[0\]\.etcdMembers: control-plane group control-plane-us-west-2c runs 1 master but has 0 members of etcd main/),
    ]);
  });

  it("refuses a control-plane group over two zones", () => {
    const text = seed1.replace("  role: Master\n  subnets:\n  - us-west-2a\n", "  role: Master\n  subnets:\n  - us-west-2a\n  - us-west-2b\n");
    expect(problemsOf(text)).toEqual([expect.stringMatching(/control-plane-us-west-2a\): spec\.subnets: places one control-plane group in us-west-2a, us-west-2b; kopsform pins each master to one zone/)]);
  });

  it("refuses the output of kops toolbox dump, saying what to give instead", () => {
    expect(problemsOf("resources:\n- type: vpc\ninstances:\n- name: x\n")).toEqual([expect.stringMatching(/is the output of `kops toolbox dump`.*give `kops get all NAME -o yaml`/)]);
  });

  it("explains two outputs appended without a separator", () => {
    const [clusterDoc, ...igs] = seed1.split("\n---\n");
    expect(problemsOf(`${clusterDoc}\n${igs[0]}`)[0]).toMatch(/Map keys must be unique.*put a line `---` between them, or give them as two files/);
  });

  it("refuses an input without a cluster", () => {
    expect(problemsOf(seed1.split("\n---\n").slice(1).join("\n---\n"))).toEqual([expect.stringMatching(/^\(input\): holds no Cluster; give the cluster with its instance groups/)]);
  });

  it("reports every problem of the input in one pass", () => {
    const text = seed1.replace("  minSize: 1\n  role: Node\n  subnets:\n  - us-west-2a", '  minSize: "1"\n  role: Node\n  subnets:\n  - us-west-2a').replace("  - cidr: 172.20.64.0/19", "  - cdir: 172.20.64.0/19");
    expect(problemsOf(text)).toHaveLength(2);
  });
});

describe("the command", () => {
  it("refuses to overwrite a spec without --yes, and overwrites with it", async () => {
    const first = await importInto(fixture("seed-1.yaml"));
    const file = path.join(first.dir, "clusters", `${NAME}.yaml`);
    fs.writeFileSync(file, "# mine\n");
    const again = await kopsform(["import", "kops", path.join(first.dir, "kops.yaml"), "--config-dir", path.join(first.dir, "clusters")]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`${file} already exists; pass --yes to overwrite it, or import into another --config-dir.`);
    expect(fs.readFileSync(file, "utf8")).toBe("# mine\n");
    const yes = await kopsform(["import", "kops", path.join(first.dir, "kops.yaml"), "--config-dir", path.join(first.dir, "clusters"), "--yes"]);
    expect(yes.code).toBe(3);
    expect(fs.readFileSync(file, "utf8")).toMatch(/^# Cluster spec for kopsform \(written by `kopsform import kops`/);
  });

  it("reads stdin as -, exits 3 when settings are left out, and prints no stack trace on bad input", () => {
    const dir = tempDir("import-stdin");
    const bin = path.join(__dirname, "..", "bin", "kopsform.js");
    const { spawnSync } = require("child_process") as typeof import("child_process");
    const ok = spawnSync(process.execPath, [bin, "import", "kops", "-", "--config-dir", "out"], { cwd: dir, input: fixture("seed-1.yaml"), encoding: "utf8" });
    expect(ok.status).toBe(3);
    expect(ok.stdout).toMatch(/^Wrote out\/hacluster\.example\.com\.yaml$/m);
    expect(fs.readFileSync(path.join(dir, "out", `${NAME}.import.md`), "utf8")).toMatch(/from `stdin`/);
    const bad = spawnSync(process.execPath, [bin, "import", "kops", "-", "--config-dir", "bad"], { cwd: dir, input: "kind: Secret\napiVersion: v1\n", encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr).not.toMatch(/at .*\.js/);
    expect(fs.existsSync(path.join(dir, "bad"))).toBe(false);
  });

  it("is a usage error without files (exit 2), and invalid input for a missing file (exit 1)", () => {
    const dir = tempDir("import-usage");
    expect(kopsformProcess(["import", "kops"], dir).code).toBe(2);
    const missing = kopsformProcess(["import", "kops", "nope.yaml"], dir);
    expect(missing).toMatchObject({ code: 1, stderr: "nope.yaml: cannot be read (no such file); give the file kops wrote (kops get all NAME -o yaml > FILE).\n" });
  });
});

describe("the report keeps every value of the manifest data", () => {
  it("escapes Markdown in values: no link, HTML, mention or table cell comes from the manifest", () => {
    const docs = docsOf(fixture("seed-1.yaml"));
    const nodes = docs.find((d) => (d.metadata as { name: string }).name === "nodes-us-west-2a") as Record<string, unknown>;
    setAt(nodes, "spec.cloudLabels", { "team|x](https://evil.example)<img src=x>": "@here", "`tick`": "v" });
    setAt(nodes, "metadata.labels", { "kops.k8s.io/cluster": NAME, "owner|`x`": "y" });
    const { imported: result } = convert(manifest(docs));
    const md = renderMarkdown((result as ImportedCluster).report, { name: NAME, specFile: "clusters/x.yaml", inputs: ["kops.yaml"], exitCode: 3, warnings: [] });
    const row = md.split("\n").find((l) => l.includes("spec.cloudLabels")) as string;
    expect(row).toContain("team\\|x\\]\\(https\\://evil\\.example\\)\\<img src=x\\>");
    expect(row).toContain("\\`tick\\`");
    expect(row.split(/(?<!\\)\|/)).toHaveLength(6);
    expect(row).not.toMatch(/\]\(https/);
    const labels = md.split("\n").find((l) => l.includes("metadata.labels.owner")) as string;
    expect(labels).toContain("`metadata.labels.owner\\|x`");
    expect(labels.split(/(?<!\\)\|/)).toHaveLength(5);
  });

  it("puts plain values in code spans and escapes the rest", () => {
    expect(markdown(say`kops ran ${"t3.large"} in ${"a|b"} and ${"x`y"}`)).toBe("kops ran `t3.large` in a\\|b and x\\`y");
    expect(escapeMarkdown("*a* [b](c) <d> #e @f\nnext")).toBe("\\*a\\* \\[b\\]\\(c\\) \\<d\\> \\#e \\@f next");
  });
});
