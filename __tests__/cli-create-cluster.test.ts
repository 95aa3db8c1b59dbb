/**
 * `kopsform create cluster`: kops's flags in, a spec file out; bad input refused with exit 1 (usage
 * errors 2), one line per problem, no stack trace, nothing written.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { parseCloudLabels } from "../spec/flags";
import { loadSpecs } from "../spec/load";
import { bash, kopsform, kopsformProcess } from "./helpers/cli";
import { tempDir } from "./helpers/cluster";

/** The seed's examples, verbatim but for `kops` -> `kopsform` and the config directory. */
const SEED_EXAMPLE_1 = `kopsform create cluster \\
    --node-count 3 \\
    --zones us-west-2a,us-west-2b,us-west-2c \\
    --master-zones us-west-2a,us-west-2b,us-west-2c \\
    --node-size t2.medium \\
    --master-size t2.medium \\
    --topology private \\
    --networking kopeio-vxlan \\
    hacluster.example.com`;

const SEED_EXAMPLE_2 = `kopsform create cluster \\
    --node-count 3 \\
    --zones us-west-2a,us-west-2b,us-west-2c \\
    --master-zones us-west-2a,us-west-2b,us-west-2c \\
    --dns-zone example.com \\
    --node-size t2.medium \\
    --master-size t2.medium \\
    --node-security-groups sg-12345678 \\
    --master-security-groups sg-12345678,i-abcd1234 \\
    --topology private \\
    --networking weave \\
    --cloud-labels "Team=Dev,Owner=John Doe" \\
    --image 293135079892/k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16 \\
    \${NAME}`;

const SEED_EXAMPLE_3 = `kopsform create cluster \\
     --master-count=3 \\
     --master-zones=$MASTER_ZONE \\
     --zones=$NODE_ZONES \\
     hacluster.example.com`;

function readSpec(dir: string, name: string): Record<string, unknown> {
  return YAML.parse(fs.readFileSync(path.join(dir, "clusters", `${name}.yaml`), "utf8")) as Record<string, unknown>;
}

describe("the seed's examples as create cluster commands", () => {
  it("accepts the first verbatim and writes a spec that loads back to the same cluster", () => {
    const dir = tempDir("seed1");
    const r = bash(SEED_EXAMPLE_1, dir);
    expect(r.stderr).not.toMatch(/Error|at .*\.js/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Wrote clusters\/hacluster.example.com.yaml/);
    expect(r.stdout).toMatch(/3 masters .* survives the loss of any one zone/);
    expect(readSpec(dir, "hacluster.example.com")).toMatchObject({
      name: "hacluster.example.com",
      nodeCount: 3,
      zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
      masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
      masterCount: 3,
      nodeSize: "t2.medium",
      masterSize: "t2.medium",
      topology: "private",
      networking: "kopeio-vxlan",
      // The record of the cluster's etcd members, as kops keeps etcdClusters.members.
      etcdMembers: ["a", "b", "c"],
    });
    expect(readSpec(dir, "hacluster.example.com")).not.toHaveProperty("retiredEtcdMembers");
    const [loaded] = loadSpecs(path.join(dir, "clusters"));
    expect(loaded.spec.masters.map((m) => m.name)).toEqual(["master-us-west-2a", "master-us-west-2b", "master-us-west-2c"]);
  });

  it("refuses the second as written, naming i-abcd1234 as an instance id, and writes nothing", () => {
    const dir = tempDir("seed2");
    const r = bash(SEED_EXAMPLE_2, dir, { NAME: "hacluster.example.com" });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^--master-security-groups: "i-abcd1234" is an EC2 instance id, not a security group; give security group ids/),
    ]);
    expect(fs.existsSync(path.join(dir, "clusters"))).toBe(false);
  });

  it("accepts the second with a real security group in place of i-abcd1234, labels and image included", () => {
    const dir = tempDir("seed2b");
    const r = bash(SEED_EXAMPLE_2.replace("i-abcd1234", "sg-abcd1234"), dir, { NAME: "hacluster.example.com" });
    expect(r.stderr).toBe("warning: --admin-access: " + r.stderr.split("warning: --admin-access: ")[1]);
    expect(r.code).toBe(0);
    expect(readSpec(dir, "hacluster.example.com")).toMatchObject({
      dnsZone: "example.com",
      nodeSecurityGroups: ["sg-12345678"],
      masterSecurityGroups: ["sg-12345678", "sg-abcd1234"],
      networking: "weave",
      cloudLabels: { Team: "Dev", Owner: "John Doe" },
      image: "293135079892/k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16",
    });
  });

  it("accepts the third (three masters in one zone of two) and warns which zone outage loses quorum", () => {
    const dir = tempDir("seed3");
    const r = bash(SEED_EXAMPLE_3, dir, { MASTER_ZONE: "us-east-1a", NODE_ZONES: "us-east-1a,us-east-1b" });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --master-zones: 3 of 3 masters run in us-east-1a: losing us-east-1a loses etcd quorum/);
    expect(readSpec(dir, "hacluster.example.com")).toMatchObject({
      masterCount: 3,
      masterZones: ["us-east-1a"],
      zones: ["us-east-1a", "us-east-1b"],
    });
  });
});

describe("flags", () => {
  it("takes the kops aliases --control-plane-zones and --control-plane-count", async () => {
    const dir = tempDir("alias");
    const r = await kopsform([
      "create", "cluster", "--zones", "eu-west-1a,eu-west-1b,eu-west-1c", "--control-plane-zones", "eu-west-1a,eu-west-1b,eu-west-1c",
      "--control-plane-count", "3", "--config-dir", dir, "a.example.com",
    ]);
    expect(r.code).toBe(0);
    expect(loadSpecs(dir)[0].spec.masterCount).toBe(3);
  });

  it("takes --bastion=true as kops does, and repeated list flags", async () => {
    const dir = tempDir("bool");
    const r = await kopsform([
      "create", "cluster", "--zones", "eu-west-1a", "--zones", "eu-west-1b", "--topology", "private",
      "--bastion=true", "--ssh-access", "203.0.113.0/24", "--config-dir", dir, "b.example.com",
    ]);
    expect(r.code).toBe(0);
    const { spec } = loadSpecs(dir)[0];
    expect(spec.bastion).toBe(true);
    expect(spec.zones).toEqual(["eu-west-1a", "eu-west-1b"]);
  });

  it("takes --flag=false for flags without a --no- form as their default, as kops does", async () => {
    const dir = tempDir("boolfalse");
    const r = await kopsform([
      "create", "cluster", "--zones", "eu-west-1a", "--allow-ssh-from-anywhere=false", "--yes=false",
      "--bastion=false", "--config-dir", dir, "d.example.com",
    ]);
    expect(r.stderr).not.toMatch(/unknown option/);
    expect(r.code).toBe(0);
    expect(loadSpecs(dir)[0].spec.bastion).toBe(false);
  });

  it("reads --ssh-public-key from a file and stores the key itself", async () => {
    const dir = tempDir("key");
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd1bW15a2V5Zm9ydGVzdHNvbmx5MTIzNDU2Nzg5MA test@example";
    fs.writeFileSync(path.join(dir, "id.pub"), `${key}\n`);
    const r = await kopsform([
      "create", "cluster", "--zones", "eu-west-1a", "--ssh-public-key", path.join(dir, "id.pub"),
      "--config-dir", path.join(dir, "clusters"), "c.example.com",
    ]);
    expect(r.code).toBe(0);
    expect(loadSpecs(path.join(dir, "clusters"))[0].spec.sshPublicKey).toBe(key);
  });

  it.each([
    ["Team=Dev,Owner=John Doe", { Team: "Dev", Owner: "John Doe" }],
    ['"Owner=Doe, John",Team=Dev', { Owner: "Doe, John", Team: "Dev" }],
    ['Owner="Doe, John",Team=Dev', { Owner: "Doe, John", Team: "Dev" }],
    ["Cost Center=R&D 42", { "Cost Center": "R&D 42" }],
  ])("parses --cloud-labels %s as kops does", (text, labels) => {
    expect(parseCloudLabels(text)).toEqual({ labels });
  });

  it.each([
    ['Owner="Doe, John', /unclosed double quote/],
    ["Team", /"Team" is not key=value/],
    ["Team=a,Team=b", /label "Team" is given twice/],
  ])("refuses --cloud-labels %s", (text, message) => {
    expect(parseCloudLabels(text)).toEqual({ error: expect.stringMatching(message) });
  });
});

describe("refusals", () => {
  it.each([
    [["--zones", "us-west-2a,us-west-2b", "--master-zones", "us-west-2a,us-west-2b"], /^--master-zones: 2 zones give 2 masters; etcd needs an odd number \(1, 3 or 5\)\. Add a zone or set --master-count 3\.$/],
    [["--zones", "us-west-2a", "--master-count", "two"], /^--master-count: "two" is not a whole number\.$/],
    [["--zones", "us-west-2a", "--node-size", "huge"], /^--node-size: "huge" is not an EC2 instance type; use a name like t3.medium/],
    [["--zones", "us-west-2a", "--cloud-labels", "aws:team=x"], /^--cloud-labels: tag key "aws:team" uses the aws: prefix/],
    [["--zones", "us-west-2a", "--ssh-public-key", "/nonexistent/id.pub"], /^--ssh-public-key: cannot read "\/nonexistent\/id.pub"/],
    [["--zones", "us-west-2a", "--network-cidr", "10.0.0.0/8"], /^--network-cidr: "10.0.0.0\/8" is a \/8; AWS VPCs take \/16 to \/28/],
    [["--zones", "us-west-2a,eu-west-1a"], /^--zones: eu-west-1a is not in us-west-2/],
    [["--master-zones", "us-west-2a"], /^--zones: is required/],
    [["--zones", "us-west-2a", "--no-encrypt-etcd-storage"], /^--encrypt-etcd-storage: false is refused/],
  ])("refuses %j with exit 1 and one clear line, writing nothing", async (args, message) => {
    const dir = tempDir("bad");
    const r = await kopsform(["create", "cluster", ...args, "--config-dir", dir, "bad.example.com"]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toEqual([expect.stringMatching(message)]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("reports several problems at once, one line each", async () => {
    const dir = tempDir("many");
    const r = await kopsform([
      "create", "cluster", "--zones", "us-west-2a,us-west-2b", "--master-zones", "us-west-2a,us-west-2b",
      "--node-size", "huge", "--master-security-groups", "i-abcd1234", "--config-dir", dir, "bad.example.com",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").map((l) => l.split(":")[0]).sort()).toEqual(
      ["--master-security-groups", "--master-zones", "--node-size"],
    );
  });

  it.each([
    [["--zones", "us-west-2a", "--master-zone", "us-west-2a", "x.example.com"], /unknown option '--master-zone'[\s\S]*Did you mean --master-zones\?/],
    [["--zones", "us-west-2a"], /missing cluster name/],
    [["--zones", "us-west-2a", "--state", "s3://bucket", "x.example.com"], /--state: kopsform keeps no kops state store/],
    [["--zones", "us-west-2a", "--cloud", "gce", "x.example.com"], /--cloud: "gce" is not supported/],
    [["--zones", "us-west-2a", "--master-size", "t3.large", "--control-plane-size", "t3.large", "x.example.com"], /--master-size and --control-plane-size are the same flag/],
  ])("treats %j as a usage error (exit 2)", async (args, message) => {
    const dir = tempDir("usage");
    const r = await kopsform(["create", "cluster", ...args, "--config-dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("refuses to overwrite an existing spec without --yes, and overwrites with it", async () => {
    const dir = tempDir("overwrite");
    const args = ["create", "cluster", "--zones", "us-west-2a", "--config-dir", dir, "x.example.com"];
    expect((await kopsform(args)).code).toBe(0);
    const before = fs.readFileSync(path.join(dir, "x.example.com.yaml"), "utf8");
    const again = await kopsform([...args.slice(0, -1), "--node-count", "5", "x.example.com"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/x.example.com.yaml already exists with another spec; pass --yes to overwrite it/);
    expect(fs.readFileSync(path.join(dir, "x.example.com.yaml"), "utf8")).toBe(before);
    // The same command again changes nothing and succeeds.
    const same = await kopsform(args);
    expect([same.code, same.stdout.split("\n")[0]]).toEqual([0, `${path.join(dir, "x.example.com.yaml")} already holds this spec; left as it is.`]);
    expect(fs.readFileSync(path.join(dir, "x.example.com.yaml"), "utf8")).toBe(before);
    expect((await kopsform([...args.slice(0, -1), "--node-count", "5", "--yes", "x.example.com"])).code).toBe(0);
    expect(loadSpecs(dir)[0].spec.nodeGroups[0].minSize).toBe(5);
  });

  it("never drops recorded etcd members when overwriting with --yes, and keeps the retired ones", async () => {
    const dir = tempDir("overwrite-etcd");
    const flags = ["create", "cluster", "--zones", "us-west-2a,us-west-2b,us-west-2c", "--config-dir", dir, "--yes"];
    expect((await kopsform([...flags, "--master-count", "3", "x.example.com"])).code).toBe(0);
    const three = fs.readFileSync(path.join(dir, "x.example.com.yaml"), "utf8");
    const fewer = await kopsform([...flags, "--master-count", "1", "x.example.com"]);
    expect(fewer.code).toBe(1);
    expect(fewer.stderr.trim()).toMatch(
      /^--master-zones: .*x\.example\.com\.yaml records etcd members b, c that these flags no longer give; create cluster --yes never removes masters\./,
    );
    expect(fs.readFileSync(path.join(dir, "x.example.com.yaml"), "utf8")).toBe(three);
    // A spec whose member c was retired by hand: overwriting keeps c retired (its volumes stay forgotten).
    fs.writeFileSync(
      path.join(dir, "x.example.com.yaml"),
      three.replace(/masterZones:[\s\S]*?masterCount: 3/, "masterZones:\n  - us-west-2a\nmasterCount: 1").replace(/etcdMembers:[\s\S]*$/, "etcdMembers: [a]\nretiredEtcdMembers: [b, c]\n"),
    );
    expect(loadSpecs(dir)[0].spec.retiredEtcdMembers).toEqual(["b", "c"]);
    expect((await kopsform([...flags, "--master-zones", "us-west-2a", "--node-count", "2", "x.example.com"])).code).toBe(0);
    expect(loadSpecs(dir)[0].spec).toMatchObject({ etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"], nodeGroups: [{ minSize: 2 }] });
  });

  it("prints no stack trace for user errors from the real command", () => {
    const dir = tempDir("proc");
    const r = kopsformProcess(["create", "cluster", "--zones", "us-west-2a", "--node-size", "huge", "x.example.com"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(kopsformProcess(["create", "cluster", "--bogus"], dir).code).toBe(2);
    expect(kopsformProcess(["--help"], dir).code).toBe(0);
    expect(kopsformProcess(["synth", "--help"], dir).stdout).toMatch(/--config-dir[\s\S]*--output[\s\S]*--hcl/);
  });
});
