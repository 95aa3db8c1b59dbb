/**
 * Validation of the cluster spec: every rule refuses bad input with a message that names the field,
 * the bad value and the fix, and every problem of a spec is reported in one pass.
 */
import { InvalidInputError } from "../spec/problems";
import { validateClusterSpec } from "../spec/validate";
import { SEED_1, SEED_2, SEED_3, validSpec, withEtcdRecord } from "./helpers/cluster";

/** The problems of a spec file as "field: message" lines (the file as written, etcd record and all). */
function fileProblems(fields: Record<string, unknown>): string[] {
  try {
    validateClusterSpec(fields, { kind: "file", path: "clusters/x.yaml" });
  } catch (e) {
    if (e instanceof InvalidInputError) {
      return e.problems.map((p) => `${p.field}: ${p.message}`);
    }
    throw e;
  }
  return [];
}

/** The problems of a spec as "field: message" lines, its etcd record written as create cluster writes it. */
function problemsOf(fields: Record<string, unknown>): string[] {
  try {
    validateClusterSpec(withEtcdRecord(fields), { kind: "file", path: "clusters/x.yaml" });
  } catch (e) {
    if (e instanceof InvalidInputError) {
      return e.problems.map((p) => `${p.field}: ${p.message}`);
    }
    throw e;
  }
  return [];
}

const base = { name: "hacluster.example.com", zones: ["us-west-2a", "us-west-2b", "us-west-2c"] };

describe("the seed's examples", () => {
  it("accepts the first and third examples", () => {
    expect(problemsOf(SEED_1)).toEqual([]);
    expect(problemsOf(SEED_3)).toEqual([]);
  });

  it("accepts the second with a real security group, and refuses i-abcd1234 naming it as an instance id", () => {
    expect(problemsOf(SEED_2)).toEqual([]);
    const problems = problemsOf({ ...SEED_2, masterSecurityGroups: ["sg-12345678", "i-abcd1234"] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^masterSecurityGroups\[1\]: "i-abcd1234" is an EC2 instance id, not a security group/);
  });
});

describe.each([
  // [what, fields, field, message pattern]
  ["an even number of master zones", { ...base, masterZones: ["us-west-2a", "us-west-2b"] }, "masterZones", /2 zones give 2 masters; etcd needs an odd number \(1, 3 or 5\)\. Add a zone or set --master-count 3/],
  ["an even master count", { ...base, masterCount: 4, masterZones: base.zones }, "masterCount", /4 masters .*odd number.*--master-count 3 or 5/],
  ["fewer masters than master zones", { ...base, masterCount: 1, masterZones: base.zones }, "masterCount", /1 masters cannot cover 3 master zones/],
  ["more than 7 masters", { ...base, masterCount: 9 }, "masterCount", /at most 7/],
  ["a master zone outside the zones", { ...base, masterZones: ["us-west-2d"] }, "masterZones", /us-west-2d is not among the cluster's zones.*add us-west-2d to --zones/],
  ["a master zone in another region", { ...base, masterZones: ["us-east-1a"] }, "zones", /us-east-1a is not in us-west-2/],
  ["zones of two regions", { ...base, zones: ["us-west-2a", "eu-west-1a"] }, "zones", /eu-west-1a is not in us-west-2, the region of us-west-2a/],
  ["a duplicate zone", { ...base, zones: ["us-west-2a", "us-west-2a"] }, "zones", /us-west-2a is listed twice/],
  ["a duplicate master zone", { ...base, masterZones: ["us-west-2a", "us-west-2a", "us-west-2b"] }, "masterZones", /us-west-2a is listed twice/],
  ["a zone that is not a zone", { ...base, zones: ["us-west-2"] }, "zones[0]", /"us-west-2" is not an availability zone name/],
  ["a malformed network CIDR", { ...base, networkCidr: "172.20.0.0/33" }, "networkCidr", /"172.20.0.0\/33" is not an IPv4 CIDR/],
  ["a network CIDR with host bits", { ...base, networkCidr: "172.20.1.0/16" }, "networkCidr", /host bits set/],
  ["a network too small for the subnets", { ...base, topology: "private", networkCidr: "10.0.0.0/24" }, "networkCidr", /too small for private topology.*\/27 subnet and a \/30 utility subnet.*Use a \/22 or larger/],
  ["an instance type that is not one", { ...base, nodeSize: "medium" }, "nodeSize", /"medium" is not an EC2 instance type/],
  ["a master size that is not one", { ...base, masterSize: "t2-medium" }, "masterSize", /"t2-medium" is not an EC2 instance type/],
  ["a security group id that is a VPC id", { ...base, nodeSecurityGroups: ["vpc-12345678"] }, "nodeSecurityGroups[0]", /is a VPC id, not a security group/],
  ["an AWS-reserved tag key", { ...base, cloudLabels: { "aws:owner": "x" } }, "cloudLabels.aws:owner", /aws: prefix, which AWS reserves/],
  ["a tag key kopsform sets", { ...base, cloudLabels: { KubernetesCluster: "x" } }, "cloudLabels.KubernetesCluster", /set by kopsform itself/],
  ["a cluster name that is not a DNS name", { ...base, name: "Bad_Name" }, "name", /"Bad_Name" is not a valid cluster name/],
  ["a DNS zone that does not hold the cluster", { ...base, dnsZone: "example.org" }, "dnsZone", /does not contain the cluster name hacluster.example.com/],
  ["a DNS zone that is not a DNS name", { ...base, dnsZone: "not a zone" }, "dnsZone", /is not a valid DNS zone/],
  ["an unknown topology", { ...base, topology: "hybrid" }, "topology", /"hybrid" is not one of: public, private/],
  ["an unknown networking", { ...base, networking: "contiv" }, "networking", /"contiv" is not a networking option kopsform installs; kopsform installs cilium, calico/],
  ["an image that is neither an AMI nor owner/name", { ...base, image: "debian" }, "image", /"debian" is not an image/],
  ["SSH from anywhere without the opt-in", { ...base, sshAccess: ["0.0.0.0/0"] }, "sshAccess", /opens SSH \(port 22\) to the whole internet.*allowSshFromAnywhere/],
  ["a malformed access CIDR", { ...base, adminAccess: ["10.0.0.1"] }, "adminAccess[0]", /"10.0.0.1" is not a CIDR/],
  ["a bastion in public topology", { ...base, bastion: true, sshAccess: ["203.0.113.0/24"] }, "bastion", /only applies to private topology/],
  ["a bastion nobody can reach", { ...base, topology: "private", bastion: true }, "bastion", /sshAccess, which is empty/],
  ["unencrypted etcd", { ...base, encryptEtcdStorage: false }, "encryptEtcdStorage", /always encrypted/],
  ["IOPS on gp2 etcd volumes", { ...base, etcdStorageType: "gp2", etcdVolumeIops: 3000 }, "etcdVolumeIops", /cannot be provisioned on gp2 volumes.*use gp3, io1 or io2/],
  ["gp3 etcd IOPS below the baseline", { ...base, etcdVolumeIops: 2000 }, "etcdVolumeIops", /2000 is outside what gp3 volumes take \(3000 to 16000 IOPS\)/],
  ["io1 etcd IOPS beyond 50 per GiB", { ...base, etcdStorageType: "io1", etcdVolumeIops: 3000 }, "etcdVolumeIops", /3000 is more than a 20 GiB io1 volume may have \(50 IOPS per GiB, so at most 1000\); raise etcdVolumeSize/],
  ["gp3 etcd IOPS beyond 500 per GiB", { ...base, etcdVolumeSize: 8, etcdVolumeIops: 5000 }, "etcdVolumeIops", /at most 4000/],
  ["a too small root volume", { ...base, masterVolumeSize: 4 }, "masterVolumeSize", /4 GiB is too small/],
  ["a misspelt field", { ...base, nodeCont: 3 }, "nodeCont", /unknown field.*Did you mean nodeCount\?/],
  ["a field of the wrong type", { ...base, nodeCount: "three" }, "nodeCount", /"three" is not a number/],
  ["a negative node count", { ...base, nodeCount: -1 }, "nodeCount", /-1 is too small/],
  ["a fractional master count", { ...base, masterCount: 1.5 }, "masterCount", /1.5 is not a whole number/],
  ["a missing zones field", { name: base.name }, "zones", /is required/],
  ["a subnet id without a VPC", { ...base, subnets: [{ zone: "us-west-2a", type: "public", id: "subnet-12345678" }] }, "subnets", /need the VPC they belong to; add --vpc/],
  ["a subnet id of the wrong length", { ...base, vpc: "vpc-12345678", networkCidr: "10.0.0.0/16", subnets: [{ zone: "us-west-2a", type: "public", id: "subnet-123456789" }] }, "subnets[0].id", /"subnet-123456789" is not a subnet id \(subnet- followed by 8 or 17 hex digits\)\.$/],
  ["a shared VPC without subnet ids", { ...base, vpc: "vpc-12345678", networkCidr: "10.0.0.0/16" }, "subnets", /every subnet must be a shared one; missing: public in us-west-2a/],
  ["a subnet type that the topology lacks", { ...base, subnets: [{ zone: "us-west-2a", type: "utility", cidr: "172.20.0.0/22" }] }, "subnets[0]", /type utility does not exist in public topology/],
  ["a subnet CIDR outside the network", { ...base, subnets: [{ zone: "us-west-2a", type: "public", cidr: "10.9.0.0/20" }] }, "subnets", /outside networkCidr/],
  ["overlapping subnets", { ...base, subnets: [{ zone: "us-west-2a", type: "public", cidr: "172.20.64.0/19" }] }, "subnets", /: public subnet 172.20.64.0\/19 of us-west-2b overlaps the public subnet 172.20.64.0\/19 of us-west-2a; give one of them a different cidr\.$/],
  ["SSH from anywhere spelt another way", { ...base, sshAccess: ["0::/0"] }, "sshAccess", /0::\/0 opens SSH \(port 22\) to the whole internet/],
  ["SSH from two halves of the internet", { ...base, sshAccess: ["0.0.0.0/1", "128.0.0.0/1"] }, "sshAccess", /0\.0\.0\.0\/1, 128\.0\.0\.0\/1 together open SSH \(port 22\) to the whole internet, as 0\.0\.0\.0\/0 would/],
  ["SSH from every public address, the private ones left out", { ...base, sshAccess: ["1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/3", "96.0.0.0/6", "100.0.0.0/10", "100.128.0.0/9", "101.0.0.0/8", "102.0.0.0/7", "104.0.0.0/5", "112.0.0.0/5", "120.0.0.0/6", "124.0.0.0/7", "126.0.0.0/8", "128.0.0.0/3", "160.0.0.0/5", "168.0.0.0/8", "169.0.0.0/9", "169.128.0.0/10", "169.192.0.0/11", "169.224.0.0/12", "169.240.0.0/13", "169.248.0.0/14", "169.252.0.0/15", "169.255.0.0/16", "170.0.0.0/7", "172.0.0.0/12", "172.32.0.0/11", "172.64.0.0/10", "172.128.0.0/9", "173.0.0.0/8", "174.0.0.0/7", "176.0.0.0/4", "192.0.1.0/24", "192.0.3.0/24", "192.0.4.0/22", "192.0.8.0/21", "192.0.16.0/20", "192.0.32.0/19", "192.0.64.0/18", "192.0.128.0/17", "192.1.0.0/16", "192.2.0.0/15", "192.4.0.0/14", "192.8.0.0/13", "192.16.0.0/12", "192.32.0.0/11", "192.64.0.0/10", "192.128.0.0/11", "192.160.0.0/13", "192.169.0.0/16", "192.170.0.0/15", "192.172.0.0/14", "192.176.0.0/12", "192.192.0.0/10", "193.0.0.0/8", "194.0.0.0/7", "196.0.0.0/7", "198.0.0.0/12", "198.16.0.0/15", "198.20.0.0/14", "198.24.0.0/13", "198.32.0.0/11", "198.64.0.0/11", "198.96.0.0/12", "198.112.0.0/13", "198.120.0.0/14", "198.124.0.0/15", "198.126.0.0/16", "198.127.0.0/16", "198.128.0.0/9", "199.0.0.0/8", "200.0.0.0/7", "202.0.0.0/8", "203.0.0.0/18", "203.0.64.0/19", "203.0.96.0/20", "203.0.112.0/24", "203.0.114.0/23", "203.0.116.0/22", "203.0.120.0/21", "203.0.128.0/17", "203.1.0.0/16", "203.2.0.0/15", "203.4.0.0/14", "203.8.0.0/13", "203.16.0.0/12", "203.32.0.0/11", "203.64.0.0/10", "203.128.0.0/9", "204.0.0.0/6", "208.0.0.0/4", "198.51.0.0/18", "198.51.64.0/19", "198.51.96.0/22", "198.51.101.0/24", "198.51.102.0/23", "198.51.104.0/21", "198.51.112.0/20", "198.51.128.0/17", "198.52.0.0/14", "198.56.0.0/13", "198.48.0.0/15", "198.50.0.0/16"] }, "sshAccess", /together open SSH \(port 22\) to the whole internet/],
  ["SSH from the whole global IPv6 space in two halves", { ...base, sshAccess: ["2000::/4", "3000::/4"] }, "sshAccess", /together open SSH/],
  ["an IPv6 access CIDR with host bits", { ...base, adminAccess: ["2001:db8::1/64"] }, "adminAccess[0]", /"2001:db8::1\/64" has host bits set/],
  ["a malformed IPv6 access CIDR", { ...base, sshAccess: [":::/64"] }, "sshAccess[0]", /":::\/64" is not a CIDR/],
  ["an access CIDR listed twice", { ...base, adminAccess: ["203.0.113.0/24", "203.0.113.0/24"] }, "adminAccess", /lists 203.0.113.0\/24 twice; list each once/],
  ["an empty adminAccess", { ...base, adminAccess: [] }, "adminAccess", /is empty; list who may reach the API, or remove the field/],
  ["a cluster name starting with a digit", { ...base, name: "1k8s.example.com" }, "name", /starts with a digit; start the cluster name with a letter/],
  ["a cluster name too long for AWS's tags", { ...base, name: `${"a".repeat(60)}.${"b".repeat(30)}.com` }, "name", /is 95 characters long; use at most 80/],
  ["a node group name starting with a digit", { ...base, nodeGroups: [{ name: "2gpu", minSize: 0, maxSize: 1 }] }, "nodeGroups[0].name", /"2gpu" is not a node group name.*starting with a letter/],
  ["a node label key Kubernetes refuses", { ...base, nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 1, labels: { "Bad Key": "x" } }] }, "nodeGroups[0].labels.Bad Key", /"Bad Key" is not a Kubernetes label key/],
  ["two taints of one key and effect", { ...base, nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 1, taints: ["a=b:NoSchedule", "a=c:NoSchedule"] }] }, "nodeGroups[0].taints[1]", /repeats the key and effect a:NoSchedule/],
  ["a flow-log retention CloudWatch does not offer", { ...base, flowLogRetentionDays: 100 }, "flowLogRetentionDays", /100 days is not a retention CloudWatch Logs offers; use one of 1, 3, 5/],
  ["dns without a zone name to look up", { ...base, dns: "private" }, "dns", /there is no dnsZone, so it would have no effect\. Remove --dns, or give --dns-zone as a zone name/],
  ["a misspelt node group field", { ...base, nodeGroups: [{ name: "gpu", minsize: 0, maxSize: 1 }] }, "nodeGroups[0].minsize", /unknown field.*Did you mean minSize\?/],
  ["a node group in a foreign zone", { ...base, nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 2, zones: ["us-west-2z"] }] }, "nodeGroups[0].zones", /us-west-2z not among the cluster's zones/],
  ["a node group named like ours", { ...base, nodeGroups: [{ name: "nodes", minSize: 0, maxSize: 2 }] }, "nodeGroups[0].name", /kopsform makes itself/],
  ["a node group with min above max", { ...base, nodeGroups: [{ name: "gpu", minSize: 3, maxSize: 2 }] }, "nodeGroups[0].minSize", /3 is larger than maxSize 2/],
  ["a cloud backend with both workspace forms", { ...base, backend: { type: "cloud", organization: "acme", workspace: "a", workspaceTags: ["b"] } }, "backend", /exactly one of workspace or workspaceTags/],
  ["an absolute local state path", { ...base, backend: { type: "local", path: "/var/state.tfstate" } }, "backend.path", /is not a state file inside the project: give a relative path/],
  ["a local state path that leaves the project", { ...base, backend: { type: "local", path: "state/../../outside.tfstate" } }, "backend.path", /without \.\./],
  ["a cloud label AWS's IAM and CloudWatch Logs refuse", { ...base, cloudLabels: { Owner: "Doe, John" } }, "cloudLabels.Owner", /has ",", which IAM roles and CloudWatch Logs .* refuse/],
  ["a cloud label with a dollar sign", { ...base, cloudLabels: { Cost: "$5" } }, "cloudLabels.Cost", /has "\$"/],
  ["a cloud label with an emoji", { ...base, cloudLabels: { Mood: "🚀" } }, "cloudLabels.Mood", /has "🚀"/],
  ["a line break in a value", { ...base, etcdKmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/x\n" }, "etcdKmsKeyId", /control character \(U\+000A, a line break\)/],
  ["cdktf's token marker in a value", { ...base, cloudLabels: { Team: "${TfToken[TOKEN.1]}" } }, "cloudLabels.Team", /cdktf's marker for a reference/],
  ["a KMS key that is not an ARN", { ...base, etcdKmsKeyId: "my-key" }, "etcdKmsKeyId", /is not a KMS key ARN/],
  ["an access-log bucket that is not a bucket name", { ...base, apiAccessLogsBucket: "My_Bucket" }, "apiAccessLogsBucket", /is not an S3 bucket name/],
  ["an image name AWS cannot hold", { ...base, image: "123456789012/ubuntu-*" }, "image", /is not an AMI name.*no wildcards/],
  ["a CIDR with whitespace", { ...base, sshAccess: [" 203.0.113.0/24"] }, "sshAccess[0]", /is not a CIDR/],
  ["an S3 state key with a leading slash", { ...base, backend: { type: "s3", bucket: "state-bucket", key: "/state.tfstate" } }, "backend.key", /without a leading or trailing slash/],
  ["an unknown backend", { ...base, backend: { type: "gcs" } }, "backend.type", /"gcs" is not one of: local, s3, cloud/],
  ["flow logs on a shared VPC", { ...base, vpc: "vpc-12345678", networkCidr: "172.20.0.0/16", flowLogs: true, subnets: base.zones.map((zone) => ({ zone, type: "public", id: "subnet-12345678" })) }, "flowLogs", /does not manage the shared VPC/],
])("refuses %s", (_what, fields, field, pattern) => {
  it(`names ${field} and says how to fix it`, () => {
    const problems = problemsOf(fields as Record<string, unknown>);
    const line = problems.find((p) => p.startsWith(`${field}: `));
    expect({ problems, line }).toEqual({ problems, line: expect.stringMatching(pattern) });
  });
});

describe("one pass", () => {
  it("reports every problem of a spec together, structural and cross-field alike", () => {
    const problems = problemsOf({
      ...base,
      masterZones: ["us-west-2a", "us-west-2b"],
      nodeSize: "big",
      masterSecurityGroups: ["i-abcd1234"],
      cloudLabels: { "aws:x": "y" },
      colour: "blue",
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(
      ["cloudLabels.aws", "colour", "masterSecurityGroups[0]", "masterZones", "nodeSize"].sort(),
    );
  });

  it("labels problems with kops flags when the input came from flags", () => {
    try {
      validateClusterSpec({ ...base, masterZones: ["us-west-2a", "us-west-2b"] }, { kind: "flags" });
      throw new Error("expected a problem");
    } catch (e) {
      expect((e as Error).message).toMatch(/^--master-zones: 2 zones give 2 masters/);
    }
  });
});

describe("defaults", () => {
  it("follows kops: public topology, 172.20.0.0/16, one master in the first zone, one node per zone", () => {
    const { spec } = validSpec(base);
    expect(spec).toMatchObject({
      region: "us-west-2",
      topology: "public",
      networkCidr: "172.20.0.0/16",
      masterCount: 1,
      masterZones: ["us-west-2a"],
      networking: "cilium",
      etcd: { storageType: "gp3", volumeSize: 20 },
      masterVolumeSize: 64,
      apiLoadBalancerType: "internal",
      dns: "public",
      sshAccess: [],
      bastion: false,
      apiLoadBalancerDeletionProtection: true,
      flowLogs: { enabled: true, retentionDays: 365 },
      backend: { type: "local", path: "terraform.hacluster.example.com.tfstate" },
    });
    expect(spec.nodeGroups[0]).toMatchObject({ name: "nodes", minSize: 3, maxSize: 3, volumeSize: 128, size: "t3.medium" });
  });

  it("spreads masters over the first zones when only a count is given, as kops does", () => {
    expect(validSpec({ ...base, masterCount: 3 }).spec.masterZones).toEqual(base.zones);
  });

  it("keeps the API internal, open to the network only, when adminAccess is unset, and says so", () => {
    const { spec, warnings } = validSpec(base);
    expect(spec).toMatchObject({ adminAccess: ["172.20.0.0/16"], apiLoadBalancerType: "internal" });
    expect(warnings.find((w) => w.field === "adminAccess")?.message).toMatch(/internal.*add --admin-access/);
  });

  it("makes the API internet-facing once adminAccess names who may reach it, as kops", () => {
    const { spec, warnings } = validSpec({ ...base, adminAccess: ["203.0.113.0/24"] });
    expect(spec).toMatchObject({ adminAccess: ["203.0.113.0/24"], apiLoadBalancerType: "public" });
    expect(warnings.map((w) => w.field)).not.toContain("adminAccess");
  });

  it("warns that an internet-facing API without adminAccess would admit nobody from outside", () => {
    const { warnings } = validSpec({ ...base, apiLoadBalancerType: "public" });
    expect(warnings.find((w) => w.field === "adminAccess")?.message).toMatch(/nobody outside could reach the API/);
  });

  it("maps kops's networking aliases to one name", () => {
    expect(validSpec({ ...base, networking: "kopeio" }).spec.networking).toBe("kopeio-vxlan");
    expect(validSpec({ ...base, networking: "amazonvpc" }).spec.networking).toBe("amazon-vpc-routed-eni");
  });

  it("reads a dnsZone as an id or a name", () => {
    expect(validSpec({ ...base, dnsZone: "Z0123456789ABC" }).spec.dnsZone).toEqual({ id: "Z0123456789ABC" });
    expect(validSpec({ ...base, dnsZone: "example.com" }).spec.dnsZone).toEqual({ name: "example.com" });
  });

  it("resolves images: AMI ids as is, owner/name for lookup, none for the default", () => {
    expect(validSpec({ ...base, image: "ami-0123456789abcdef0" }).spec.image).toEqual({ kind: "ami", id: "ami-0123456789abcdef0" });
    expect(validSpec(SEED_2).spec.image).toEqual({
      kind: "lookup",
      owner: "293135079892",
      name: "k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16",
    });
    expect(validSpec(base).spec.image).toEqual({ kind: "default" });
  });

  it("accepts large SSH ranges that leave most of the internet out, and two halves with the opt-in", () => {
    expect(problemsOf({ ...base, sshAccess: ["0.0.0.0/1"] })).toEqual([]);
    expect(problemsOf({ ...base, sshAccess: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] })).toEqual([]);
    expect(problemsOf({ ...base, sshAccess: ["0.0.0.0/1", "128.0.0.0/1"], allowSshFromAnywhere: true })).toEqual([]);
  });

  it("accepts SSH from anywhere only with the named opt-in", () => {
    expect(validSpec({ ...base, sshAccess: ["0.0.0.0/0"], allowSshFromAnywhere: true }).spec.sshAccess).toEqual(["0.0.0.0/0"]);
  });
});

describe("warnings", () => {
  it("warns that the seed's third example loses quorum with its one master zone", () => {
    const { warnings } = validSpec(SEED_3);
    const quorum = warnings.filter((w) => w.field === "masterZones");
    expect(quorum).toHaveLength(1);
    expect(quorum[0].message).toMatch(/3 of 3 masters run in us-east-1a: losing us-east-1a loses etcd quorum \(0 members left, 2 needed\)/);
  });

  it("does not warn about quorum when masters are spread over zones", () => {
    expect(validSpec(SEED_1).warnings.filter((w) => w.field === "masterZones")).toEqual([]);
  });
});

describe("what Kubernetes needs of the spec", () => {
  it.each([
    ["a minor older than kubeadm's v1beta4", { ...base, kubernetesVersion: "1.30.9" }, "kubernetesVersion", /1\.30\.9 is outside the versions .* \(1\.31 to 1\.36/],
    ["a minor newer than kopsform knows", { ...base, kubernetesVersion: "1.37.0" }, "kubernetesVersion", /1\.37\.0 is outside the versions/],
    ["another major", { ...base, kubernetesVersion: "2.0.0" }, "kubernetesVersion", /2\.0\.0 is outside the versions/],
    ["a pod network overlapping the VPC", { ...base, podCidr: "172.16.0.0/12" }, "podCidr", /172\.16\.0\.0\/12 \(the pods' network\) overlaps 172\.20\.0\.0\/16 \(the network, networkCidr\)/],
    ["a service network overlapping the pods'", { ...base, serviceCidr: "100.96.0.0/13" }, "serviceCidr", /overlaps 100\.96\.0\.0\/11 \(the pods' network, podCidr\)/],
    ["a service network too large", { ...base, serviceCidr: "100.64.0.0/11" }, "serviceCidr", /is a \/11; use a \/12 to \/24/],
    ["a pod network too small for a /24 per node", { ...base, podCidr: "100.96.0.0/24" }, "podCidr", /is a \/24; use a \/8 to \/20/],
    ["a pod network with host bits", { ...base, podCidr: "100.96.1.0/11" }, "podCidr", /host bits set/],
    ["a package repository with a query", { ...base, kubernetesPackageRepository: "https://mirror.example.com/k8s?x=1" }, "kubernetesPackageRepository", /not a package repository kopsform accepts/],
    ["a package repository with a space", { ...base, kubernetesPackageRepository: "https://mirror.example.com/a b" }, "kubernetesPackageRepository", /not a package repository kopsform accepts/],
  ])("refuses %s, naming the field", (_what, fields, field, message) => {
    const problems = problemsOf(fields);
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(`${field}: `)).toBe(true);
    expect(problems[0]).toMatch(message);
  });

  it("keeps kops's networks by default, and takes a mirror of pkgs.k8s.io and other networks", () => {
    expect(validSpec(base).spec.kubernetes).toEqual({
      podCidr: "100.96.0.0/11",
      serviceCidr: "100.64.0.0/13",
      packageRepository: "https://pkgs.k8s.io/core:/stable:",
    });
    const custom = validSpec({ ...base, podCidr: "10.128.0.0/12", serviceCidr: "10.96.0.0/16", kubernetesPackageRepository: "https://mirror.example.com:8443/pkgs.k8s.io/core:/stable:" });
    expect(custom.spec.kubernetes).toEqual({
      podCidr: "10.128.0.0/12",
      serviceCidr: "10.96.0.0/16",
      packageRepository: "https://mirror.example.com:8443/pkgs.k8s.io/core:/stable:",
    });
  });

  it("records any deployed version as it is, even one outside what kopsform installs", () => {
    const problems = problemsOf({ ...base, kubernetesVersion: "1.32.2", deployedKubernetesVersion: "1.31.6" });
    expect(problems).toEqual([]);
  });
});

describe("the etcd member record (etcdMembers, retiredEtcdMembers)", () => {
  const three = { ...base, masterZones: base.zones };

  it("refuses a spec file without etcdMembers, giving the exact line to add", () => {
    expect(fileProblems(SEED_1)).toEqual([
      expect.stringMatching(/^etcdMembers: is missing\. .*Add this line, the members masterZones\/masterCount give: "etcdMembers: \[a, b, c\]"\./),
    ]);
    expect(fileProblems(SEED_3)).toEqual([expect.stringMatching(/"etcdMembers: \[a, a-2, a-3\]"/)]);
  });

  it("records the layout's members for create cluster's flags, in the layout's order", () => {
    const { spec } = validateClusterSpec({ ...base, masterCount: 5, masterZones: base.zones }, { kind: "flags" });
    expect(spec.etcdMembers).toEqual(["a", "b", "c", "a-2", "b-2"]);
    expect(spec.retiredEtcdMembers).toEqual([]);
  });

  it("accepts a record that lists the layout's members in any order", () => {
    const { spec } = validSpec({ ...three, etcdMembers: ["c", "a", "b"] });
    expect(spec.etcdMembers).toEqual(["a", "b", "c"]);
  });

  it.each([
    ["a growth not yet recorded", { ...three, etcdMembers: ["a"] }, [
      'etcdMembers: masterZones/masterCount add members b, c (master-us-west-2b, master-us-west-2c), which etcdMembers does not record yet; record them: write "etcdMembers: [a, b, c]".',
    ]],
    ["a removal not retired", { ...base, masterZones: ["us-west-2a"], etcdMembers: ["a", "b", "c"] }, [
      expect.stringMatching(
        /^etcdMembers: masterZones\/masterCount no longer give members b, c \(master-us-west-2b, master-us-west-2c\), which etcdMembers records\. .*\(1\) back up etcd; \(2\) .*etcdctl member remove.*\(3\) retire it in the spec: write "etcdMembers: \[a\]" and "retiredEtcdMembers: \[b, c\]"\. Terraform then forgets its volumes/,
      ),
    ]],
    ["a master moved to another zone", { ...base, zones: [...base.zones, "us-west-2d"], masterZones: ["us-west-2a", "us-west-2b", "us-west-2d"], etcdMembers: ["a", "b", "c"] }, [
      expect.stringMatching(/no longer give member c \(master-us-west-2c\).*write "etcdMembers: \[a, b, d\]" and "retiredEtcdMembers: \[c\]"/),
    ]],
    ["a second removal, with a member retired before", { ...base, masterZones: ["us-west-2a"], etcdMembers: ["a", "b", "c"], retiredEtcdMembers: ["d"] }, [
      expect.stringMatching(/"retiredEtcdMembers: \[d, b, c\]"/),
    ]],
    ["a retired member given again by the layout", { ...three, etcdMembers: ["a", "c"], retiredEtcdMembers: ["b"] }, [
      expect.stringMatching(
        /^retiredEtcdMembers: b is retired, yet masterZones\/masterCount give it again \(master-us-west-2b\)\. .*delete the retired volumes in AWS .*then move b from retiredEtcdMembers to etcdMembers\.$/,
      ),
    ]],
    ["a member both recorded and retired", { ...three, etcdMembers: ["a", "b", "c"], retiredEtcdMembers: ["b"] }, [
      "retiredEtcdMembers: b is also in etcdMembers; a member is either in the cluster or retired. Remove it from one list.",
      expect.stringMatching(/^retiredEtcdMembers: b is retired, yet/),
    ]],
    ["member names that are not", { ...three, etcdMembers: ["a", "B", "c-1"], retiredEtcdMembers: ["zz"] }, [
      'etcdMembers[1]: "B" is not an etcd member name: a zone letter, with -2, -3 for further masters in one zone (a, b, a-2).',
      expect.stringMatching(/^etcdMembers\[2\]: "c-1" is not an etcd member name/),
      expect.stringMatching(/^retiredEtcdMembers\[0\]: "zz" is not an etcd member name/),
    ]],
    ["a member listed twice", { ...three, etcdMembers: ["a", "b", "c", "a"] }, ["etcdMembers: lists a twice; list each once."]],
    ["an empty record", { ...three, etcdMembers: [] }, ["etcdMembers: needs at least 1 entry."]],
  ])("refuses %s, naming the lines to write", (_what, fields, expected) => {
    expect(fileProblems(fields as Record<string, unknown>)).toEqual(expected);
  });

  it("accepts a retirement and keeps it in the spec", () => {
    const { spec } = validSpec({ ...base, masterZones: ["us-west-2a"], etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"] });
    expect([spec.etcdMembers, spec.retiredEtcdMembers]).toEqual([["a"], ["b", "c"]]);
  });

  it("does not compare the record with a layout that is itself refused", () => {
    expect(fileProblems({ ...base, masterZones: ["us-west-2a", "us-west-2b"], etcdMembers: ["a"] })).toEqual([
      expect.stringMatching(/^masterZones: 2 zones give 2 masters/),
    ]);
  });
});

describe("node labels the kubelet registers", () => {
  it.each([["kops.k8s.io/instancegroup"], ["node-role.kubernetes.io/worker"], ["kubernetes.io/role"], ["k8s.io/x"]])("refuses %s, which the kubelet would refuse at start", (key) => {
    const problems = problemsOf({ ...base, nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 1, labels: { [key]: "x" } }] });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^nodeGroups\\[0\\]\\.labels\\.${key.replace(/[./]/g, "\\$&")}: .*the kubelet refuses to register`))]);
  });

  it.each([["node.kubernetes.io/exclude-from-external-load-balancers"], ["kubelet.kubernetes.io/x"], ["topology.kubernetes.io/zone"], ["example.com/role"], ["team"]])("accepts %s", (key) => {
    expect(problemsOf({ ...base, nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 1, labels: { [key]: "x" } }] })).toEqual([]);
  });
});
