/**
 * Checks of single values, shared by the spec schema and the command line. Each returns undefined
 * when the value is fine, or a message that names the value and says how to fix it.
 */
import { hasNoHostBits, isCanonical, isCidr, parseIpv4Cidr } from "./cidr";
import { SUPPORTED_KUBERNETES, SUPPORTED_KUBERNETES_MINORS } from "./defaults";

/** `us-west-2a` -> region `us-west-2`, zone letter `a`. Local and Wavelength zones are not supported. */
const ZONE = /^((?:[a-z]{2})(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)([a-z])$/;

/** The region a zone belongs to, or undefined when the zone name is not an AWS availability zone. */
export function regionOf(zone: string): string | undefined {
  return ZONE.exec(zone)?.[1];
}

export function checkZone(zone: string): string | undefined {
  if (!regionOf(zone)) {
    return `${JSON.stringify(zone)} is not an availability zone name; use names like us-west-2a (region plus zone letter).`;
  }
  return undefined;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The longest cluster name: Kubernetes's and the cluster autoscaler's tag keys
 * (`kubernetes.io/cluster/NAME`, `k8s.io/cluster-autoscaler/NAME`) and launch template names
 * (`master-ZONE-N.masters.NAME`) must fit AWS's 128 characters.
 */
export const MAX_CLUSTER_NAME_LENGTH = 80;

/**
 * A cluster name: a DNS name (checkDnsName) that starts with a letter, since it also makes the
 * Terraform names of the cluster's resources (`aws_vpc.hacluster-example-com`), and is short enough
 * for the tags and names derived from it.
 */
export function checkClusterName(name: string): string | undefined {
  const dns = checkDnsName(name, "cluster name");
  if (dns) {
    return dns;
  }
  if (!/^[a-z]/.test(name)) {
    return `${JSON.stringify(name)} starts with a digit; start the cluster name with a letter (it also names Terraform resources).`;
  }
  if (name.length > MAX_CLUSTER_NAME_LENGTH) {
    return (
      `${JSON.stringify(name)} is ${name.length} characters long; use at most ${MAX_CLUSTER_NAME_LENGTH}, ` +
      "so that the AWS tags and names made from it fit in 128 characters."
    );
  }
  return undefined;
}

/** A fully qualified DNS name such as `hacluster.example.com` (lower case, at least two labels). */
export function checkDnsName(name: string, what: string): string | undefined {
  const labels = name.split(".");
  if (name.length > 253 || labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l))) {
    return (
      `${JSON.stringify(name)} is not a valid ${what}: use a lower-case DNS name with at least two labels, ` +
      `each 1-63 letters, digits or hyphens (for example hacluster.example.com).`
    );
  }
  return undefined;
}

/**
 * Instance types look like `<family><generation>[attributes].<size>`: t3.medium, m5d.2xlarge,
 * m7i-flex.large, u-6tb1.metal.
 */
const INSTANCE_TYPE =
  /^[a-z]+-?[0-9]+[a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[0-9]+xlarge|metal|metal-[0-9]+xl)$/;

export function checkInstanceType(value: string): string | undefined {
  if (!INSTANCE_TYPE.test(value)) {
    return `${JSON.stringify(value)} is not an EC2 instance type; use a name like t3.medium or m5.large.`;
  }
  return undefined;
}

/**
 * True for Graviton (arm64) families: a `g` after the generation digit, as in t4g, m6gd, c7gn, and
 * the first-generation a1.
 */
export function isArmInstanceType(value: string): boolean {
  return /^([a-z]+[0-9]+[a-z]*g[a-z]*|a1)\./.test(value);
}

const AWS_ID_KINDS: Readonly<Record<string, string>> = {
  i: "an EC2 instance id",
  vpc: "a VPC id",
  subnet: "a subnet id",
  ami: "an AMI id",
  vol: "an EBS volume id",
  eni: "a network interface id",
  igw: "an internet gateway id",
  rtb: "a route table id",
};

const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;

export function checkSecurityGroupId(value: string): string | undefined {
  if (SECURITY_GROUP_ID.test(value)) {
    return undefined;
  }
  const kind = AWS_ID_KINDS[value.split("-")[0]];
  const what = kind ? `is ${kind}, not a security group` : "is not a security group id";
  return `${JSON.stringify(value)} ${what}; give security group ids (sg- followed by 8 or 17 hex digits).`;
}

/** Checks an id of a given AWS kind (`vpc`, `subnet`). */
export function checkAwsId(value: string, prefix: "vpc" | "subnet"): string | undefined {
  if (new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`).test(value)) {
    return undefined;
  }
  const kind = AWS_ID_KINDS[value.split("-")[0]];
  const expected = AWS_ID_KINDS[prefix];
  return kind && kind !== expected
    ? `${JSON.stringify(value)} is ${kind}, not ${expected}.`
    : `${JSON.stringify(value)} is not ${expected} (${prefix}- followed by 8 or 17 hex digits).`;
}

/** A network CIDR for the VPC: IPv4, no host bits, between /16 and /28 (AWS's limits). */
export function checkNetworkCidr(value: string): string | undefined {
  const block = parseIpv4Cidr(value);
  if (!block) {
    return `${JSON.stringify(value)} is not an IPv4 CIDR; use a block like 172.20.0.0/16.`;
  }
  if (!isCanonical(block)) {
    return `${JSON.stringify(value)} has host bits set; use the network address of the block.`;
  }
  if (block.prefix < 16 || block.prefix > 28) {
    return `${JSON.stringify(value)} is a /${block.prefix}; AWS VPCs take /16 to /28 (kops's default is 172.20.0.0/16).`;
  }
  return undefined;
}

/** A subnet CIDR given by the user: IPv4, no host bits, /16 to /28. */
export function checkSubnetCidr(value: string): string | undefined {
  const block = parseIpv4Cidr(value);
  if (!block || !isCanonical(block) || block.prefix < 16 || block.prefix > 28) {
    return `${JSON.stringify(value)} is not a usable subnet CIDR; use an IPv4 network address from /16 to /28.`;
  }
  return undefined;
}

/** A CIDR in an access list (IPv4 or IPv6). */
export function checkAccessCidr(value: string): string | undefined {
  if (!isCidr(value)) {
    return `${JSON.stringify(value)} is not a CIDR; use a block like 203.0.113.0/24 or 2001:db8::/32 (a single address is /32 or /128).`;
  }
  if (!hasNoHostBits(value)) {
    return `${JSON.stringify(value)} has host bits set; use the network address of the block.`;
  }
  return undefined;
}

const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;
const IMAGE_OWNER = /^([0-9]{12}|amazon|aws-marketplace|self)$/;
/** The characters and length AWS allows in an AMI name (RegisterImage). */
const AMI_NAME = /^[A-Za-z0-9()[\] ./'@_-]{3,128}$/;

/** `ami-…`, or `owner/name` where owner is an account id (12 digits), amazon, aws-marketplace or self. */
export function checkImage(value: string): string | undefined {
  if (AMI_ID.test(value)) {
    return undefined;
  }
  const slash = value.indexOf("/");
  if (slash > 0 && IMAGE_OWNER.test(value.slice(0, slash)) && value.length > slash + 1) {
    const name = value.slice(slash + 1);
    return AMI_NAME.test(name)
      ? undefined
      : `${JSON.stringify(value)}: ${JSON.stringify(name)} is not an AMI name: AWS names images with 3-128 letters, ` +
          "digits and ( ) [ ] space . / - ' @ _ only, and kopsform looks the name up exactly (no wildcards).";
  }
  return (
    `${JSON.stringify(value)} is not an image: use an AMI id (ami-0123456789abcdef0) or owner/name, ` +
    `where owner is a 12-digit account id, amazon, aws-marketplace or self ` +
    `(for example 293135079892/k8s-1.4-debian-jessie-amd64-hvm-ebs-2016-11-16).`
  );
}

/**
 * An etcd release kopsform can run: 3.5 or 3.6 (what Kubernetes 1.3x supports), as MAJOR.MINOR.PATCH.
 */
export function checkEtcdVersion(value: string): string | undefined {
  if (!/^3\.[56]\.\d+$/.test(value)) {
    return `${JSON.stringify(value)} is not an etcd release kopsform runs; use a 3.5 or 3.6 release such as 3.5.33 (and give its etcdSha256).`;
  }
  return undefined;
}

/** A download location: http(s), host and path of plain characters (it ends up in boot scripts' data). */
export function checkDownloadUrl(value: string): string | undefined {
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%/-]*)?$/.test(value)) {
    return (
      `${JSON.stringify(value)} is not a download location kopsform accepts: use http(s)://HOST[:PORT]/PATH with ` +
      "letters, digits and . _ ~ % / - (no query string); the archives are checked by sha256 either way."
    );
  }
  return undefined;
}

/** A Kubernetes version's form only (a record of what runs: deployedKubernetesVersion). */
export function checkKubernetesVersionFormat(value: string): string | undefined {
  if (!/^v?\d+\.\d+\.\d+$/.test(value)) {
    return `${JSON.stringify(value)} is not a Kubernetes version; use major.minor.patch, for example 1.33.5.`;
  }
  return undefined;
}

/** A Kubernetes version the instances can install: the form, and a minor their boot supports. */
export function checkKubernetesVersion(value: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)\.\d+$/.exec(value);
  if (!m) {
    return checkKubernetesVersionFormat(value);
  }
  const { oldest, newest } = SUPPORTED_KUBERNETES_MINORS;
  if (m[1] !== "1" || Number(m[2]) < oldest || Number(m[2]) > newest) {
    return (
      `${value} is outside the versions kopsform's masters and nodes install (1.${oldest} to 1.${newest}: ` +
      `kubeadm's v1beta4 configuration and pkgs.k8s.io's repositories); use one of them, for example 1.33.5.`
    );
  }
  return undefined;
}

/**
 * A Kubernetes version kopsform can run: its minor inside {@link SUPPORTED_KUBERNETES}, the range every
 * pinned add-on supports (spec/pins.ts; a test keeps the two consistent). Checked on the version to
 * run, not on the record of what runs (`deployedKubernetesVersion`).
 */
export function checkSupportedKubernetes(value: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)\.\d+$/.exec(value);
  if (!m) {
    return checkKubernetesVersionFormat(value);
  }
  const [major, min] = [Number(m[1]), Number(m[2])];
  const [lo, hi] = [SUPPORTED_KUBERNETES.min, SUPPORTED_KUBERNETES.max].map((v) => v.split(".").map(Number));
  const below = major < lo[0] || (major === lo[0] && min < lo[1]);
  const above = major > hi[0] || (major === hi[0] && min > hi[1]);
  if (below || above) {
    return (
      `${value.replace(/^v/, "")} is Kubernetes ${major}.${min}; kopsform runs ${SUPPORTED_KUBERNETES.min} to ${SUPPORTED_KUBERNETES.max}, ` +
      "the versions every pinned add-on (network, cloud controller, storage driver) supports."
    );
  }
  return undefined;
}

/** An apt repository base (pkgs.k8s.io's has colons in its path: `https://pkgs.k8s.io/core:/stable:`). */
export function checkPackageRepository(value: string): string | undefined {
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%/:-]*)?$/.test(value)) {
    return (
      `${JSON.stringify(value)} is not a package repository kopsform accepts: use http(s)://HOST[:PORT]/PATH with ` +
      "letters, digits and . _ ~ % / : - (no query string), the base under which vMINOR/deb/ is, as https://pkgs.k8s.io/core:/stable:."
    );
  }
  return undefined;
}

/**
 * A mirror for the add-ons' artifacts (`addonsMirror`): an http or https URL without credentials,
 * query or fragment. The boot step fetches `MIRROR/HOST/PATH` for each upstream `https://HOST/PATH`,
 * and checks every artifact's sha256 whatever the mirror serves, so plain http is accepted.
 */
export function checkMirrorUrl(value: string): string | undefined {
  const fix = "give a URL such as https://mirror.example.com/kopsform (http or https, no user, query or fragment).";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${JSON.stringify(value)} is not a URL; ${fix}`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return `${JSON.stringify(value)} uses ${url.protocol.replace(/:$/, "")}; ${fix}`;
  }
  if (url.username || url.password || value.includes("@")) {
    return `${JSON.stringify(value)} carries credentials, which would land in the instances' user data; ${fix}`;
  }
  if (url.search || url.hash || value.includes("?") || value.includes("#")) {
    return `${JSON.stringify(value)} has a query or fragment; ${fix}`;
  }
  // The URL reaches the masters as a plain word of cluster.env (modules/user-data.ts).
  if (!/^[A-Za-z0-9._:/%-]+$/.test(value)) {
    return `${JSON.stringify(value)} has characters other than letters, digits and . _ : / % -; ${fix}`;
  }
  return undefined;
}

/**
 * A cluster-internal IPv4 network (pods or services): canonical, from `/minPrefix` to `/maxPrefix`.
 * Overlaps with the VPC and each other are checked in validate.ts.
 */
export function checkClusterNetwork(value: string, minPrefix: number, maxPrefix: number, example: string): string | undefined {
  const block = parseIpv4Cidr(value);
  if (!block) {
    return `${JSON.stringify(value)} is not an IPv4 CIDR; use a block like ${example}.`;
  }
  if (!isCanonical(block)) {
    return `${JSON.stringify(value)} has host bits set; use the network address of the block.`;
  }
  if (block.prefix < minPrefix || block.prefix > maxPrefix) {
    return `${JSON.stringify(value)} is a /${block.prefix}; use a /${minPrefix} to /${maxPrefix} (kops's default is ${example}).`;
  }
  return undefined;
}

const SSH_KEY = /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( .*)?$/;

export function checkSshPublicKey(value: string): string | undefined {
  if (!SSH_KEY.test(value.trim())) {
    return (
      "is not an OpenSSH public key (ssh-rsa, ssh-ed25519 or ecdsa-sha2-nistp*, then base64); " +
      "give the path of a .pub file, not the private key."
    );
  }
  return undefined;
}

/** The tag keys kopsform itself sets; a cloud label with one of these would silently replace ours. */
export const RESERVED_TAG_KEYS = ["KubernetesCluster", "Name"];
/**
 * Tag prefixes kopsform and its add-ons read. `ebs.csi.aws.com/` marks the volumes the EBS CSI driver
 * may manage, and `aws-node-termination-handler/` the instances the termination handler drains: a
 * cloud label with one of these on every resource would hand the etcd volumes to the driver, or the
 * masters to the handler.
 */
const RESERVED_TAG_PREFIXES = [
  "kubernetes.io/cluster/",
  "k8s.io/role/",
  "k8s.io/etcd/",
  "kops.k8s.io/",
  "ebs.csi.aws.com/",
  "aws-node-termination-handler/",
];

/**
 * The characters every AWS service that carries the cluster's tags accepts: IAM roles and CloudWatch
 * Logs log groups (and load balancers, KMS keys, S3 buckets) take only Unicode letters, digits, spaces
 * and `_ . : / = + - @` in tag keys and values, where EC2 takes any character. A cloud label goes on
 * every resource, so it must pass the strictest of them.
 */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** The characters of `text` that {@link TAG_TEXT} refuses, each once, for messages. */
function refusedTagCharacters(text: string): string {
  return [...new Set([...text].filter((ch) => !TAG_TEXT.test(ch)))].map((ch) => JSON.stringify(ch)).join(" ");
}

/** A cloud label (AWS tag): key 1-128 characters, value up to 256, no `aws:` prefix, none of ours. */
export function checkTag(key: string, value: string): string | undefined {
  if (key.length === 0 || key.length > 128) {
    return `tag key ${JSON.stringify(key)} must be 1 to 128 characters long.`;
  }
  if (key.toLowerCase().startsWith("aws:")) {
    return `tag key ${JSON.stringify(key)} uses the aws: prefix, which AWS reserves for itself; choose another key.`;
  }
  if (RESERVED_TAG_KEYS.includes(key) || RESERVED_TAG_PREFIXES.some((p) => key.startsWith(p))) {
    return `tag key ${JSON.stringify(key)} is set by kopsform itself (cluster and role tags); choose another key.`;
  }
  if (value.length > 256) {
    return `the value of tag ${JSON.stringify(key)} is ${value.length} characters long; AWS allows 256.`;
  }
  for (const [what, text] of [
    ["key", key],
    ["value", value],
  ] as const) {
    if (!TAG_TEXT.test(text)) {
      return (
        `the tag ${what} ${JSON.stringify(text)} has ${refusedTagCharacters(text)}, which IAM roles and CloudWatch Logs ` +
        "(both tagged with the cloud labels) refuse: use letters, digits, spaces and _ . : / = + - @ only " +
        '(for example Owner="John Doe" instead of Owner="Doe, John").'
      );
    }
  }
  return undefined;
}

/** A label name, and a non-empty label value: 1-63 of A-Z a-z 0-9 . _ -, alphanumeric at both ends. */
const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** A label key's prefix: a lower-case DNS subdomain (up to 253 characters, checked apart). */
const LABEL_PREFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const TAINT = /^([^=:]+)(=([^=:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/;

/** A Kubernetes label key: `name` or `prefix/name`, as kubelet's --node-labels takes it. */
export function checkLabelKey(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const ok = LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)));
  return ok
    ? undefined
    : `${JSON.stringify(key)} is not a Kubernetes label key: use [prefix/]name, a lower-case DNS prefix and a name of ` +
        "1-63 letters, digits and . _ - that starts and ends with a letter or digit (for example nvidia.com/gpu).";
}

/** The kubernetes.io labels the kubelet may set itself (its --node-labels accepts these only). */
const KUBELET_OWN_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/arch",
  "kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
]);

/**
 * A node group's label as the kubelet registers it (--node-labels): besides being a label, a key under
 * kubernetes.io or k8s.io (or their subdomains) is refused by the kubelet, which then does not start,
 * unless it is one of its own or under kubelet.kubernetes.io/ or node.kubernetes.io/ (the
 * NodeRestriction rules). Such labels are for controllers to set, not nodes.
 */
export function checkNodeLabelKey(key: string): string | undefined {
  const label = checkLabelKey(key);
  if (label) {
    return label;
  }
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? "" : key.slice(0, slash);
  const restricted = ["kubernetes.io", "k8s.io"].some((d) => prefix === d || prefix.endsWith(`.${d}`));
  const allowed =
    KUBELET_OWN_LABELS.has(key) || ["kubelet.kubernetes.io", "node.kubernetes.io"].some((d) => prefix === d || prefix.endsWith(`.${d}`));
  if (restricted && !allowed) {
    return (
      `${JSON.stringify(key)} is under ${prefix}, which the kubelet refuses to register (it would not start, and the node ` +
      "would never join); use your own prefix (for example example.com/role), or node.kubernetes.io/ or kubelet.kubernetes.io/."
    );
  }
  return undefined;
}

/** A Kubernetes label value: empty, or 1-63 letters, digits and . _ -, alphanumeric at both ends. */
export function checkLabelValue(value: string): string | undefined {
  return value === "" || LABEL_NAME.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a Kubernetes label value: use up to 63 letters, digits and . _ - that start ` +
        "and end with a letter or digit, or nothing.";
}

/** A taint as kubelet's --register-with-taints takes it: `key[=value]:Effect`. */
export function checkTaint(taint: string): string | undefined {
  const m = TAINT.exec(taint);
  if (!m || checkLabelKey(m[1]) || checkLabelValue(m[3] ?? "")) {
    return (
      `${JSON.stringify(taint)} is not a taint: use key=value:Effect or key:Effect, with a label key and value and ` +
      "Effect NoSchedule, PreferNoSchedule or NoExecute (for example dedicated=gpu:NoSchedule)."
    );
  }
  return undefined;
}

/** `dedicated=gpu:NoSchedule` -> `dedicated:NoSchedule`: Kubernetes allows one taint per key and effect. */
export function taintKeyAndEffect(taint: string): string {
  const m = TAINT.exec(taint);
  return m ? `${m[1]}:${m[4]}` : taint;
}

/** A KMS key's ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`) or an alias's (`...:alias/NAME`). */
const KMS_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+:\d{12}:(key\/[A-Za-z0-9-]{1,128}|alias\/[A-Za-z0-9/_-]{1,250})$/;

/** A KMS key named by ARN, as EBS volumes (etcdKmsKeyId) and CloudWatch Logs (flowLogKmsKeyArn) take it. */
export function checkKmsKeyArn(value: string): string | undefined {
  return KMS_ARN.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a KMS key ARN; give arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (or an alias ARN).`;
}

/** A KMS key as the S3 backend takes it: a key id, an alias, or their ARNs. */
export function checkKmsKeyReference(value: string): string | undefined {
  return KMS_ARN.test(value) || /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|alias\/[A-Za-z0-9/_-]{1,250})$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a KMS key: give its id, alias/NAME, or its ARN.`;
}

/** An S3 bucket name, by S3's naming rules for general purpose buckets. */
export function checkBucketName(value: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) || value.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(value)) {
    return (
      `${JSON.stringify(value)} is not an S3 bucket name: use 3-63 lower-case letters, digits, dots and hyphens, ` +
      "starting and ending with a letter or digit."
    );
  }
  return undefined;
}

/**
 * The S3 key of a state file: S3's "safe" key characters (letters, digits and ! - _ . * ' ( ) /),
 * at most 1024 characters, no empty path segment. S3 takes more, but other characters need special
 * handling in tools and URLs, and a state key is named once.
 */
export function checkStateKey(value: string): string | undefined {
  if (!/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/.test(value) || value.length > 1024) {
    return (
      `${JSON.stringify(value)} is not a state key kopsform accepts: use letters, digits and ! - _ . * ' ( ) ` +
      "separated by single slashes, without a leading or trailing slash (for example kopsform/NAME/terraform.tfstate)."
    );
  }
  return undefined;
}

/**
 * A local state file, relative to the project directory and inside it: plain path segments (letters,
 * digits, `.`, `_`, `-`), none of them `..` or `.`, so that a spec cannot point Terraform's state
 * outside the project.
 */
export function checkStatePath(value: string): string | undefined {
  const segments = value.split("/");
  if (!segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s)) || segments.some((s) => s === ".." || s === ".")) {
    return (
      `${JSON.stringify(value)} is not a state file inside the project: give a relative path of plain names ` +
      "(letters, digits, . _ -), without .. or a leading /, such as state/terraform.tfstate."
    );
  }
  return undefined;
}

/** A DynamoDB table name (the S3 backend's older locking). */
export function checkDynamodbTable(value: string): string | undefined {
  return /^[A-Za-z0-9_.-]{3,255}$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a DynamoDB table name: use 3-255 letters, digits and _ . - only.`;
}

/** An HCP Terraform organization name. */
export function checkHcpOrganization(value: string): string | undefined {
  return /^[A-Za-z0-9_-]{1,64}$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not an HCP Terraform organization name: use letters, digits, - and _ only.`;
}

/** An HCP Terraform workspace tag. */
export function checkHcpTag(value: string): string | undefined {
  return /^[A-Za-z0-9]([A-Za-z0-9:_-]{0,253}[A-Za-z0-9])?$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not an HCP Terraform workspace tag: use letters, digits, : - and _, starting and ending with a letter or digit.`;
}

/** An HCP Terraform project name. */
export function checkHcpProject(value: string): string | undefined {
  return /^[A-Za-z0-9_-][A-Za-z0-9 _-]{1,38}[A-Za-z0-9_-]$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not an HCP Terraform project name: use 3-40 letters, digits, inner spaces, - and _.`;
}

/** The host name of HCP Terraform or a Terraform Enterprise installation (`app.terraform.io`). */
export function checkHostname(value: string): string | undefined {
  return /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+(:\d{1,5})?$/.test(value)
    ? undefined
    : `${JSON.stringify(value)} is not a host name: give the name alone, such as app.terraform.io (no https://, no path).`;
}

/** A character no AWS name, id or tag takes: C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** cdktf's token markers (see stacks/literals.ts): text that cdktf would read as a reference. */
const TOKEN_MARKER_TEXT = /[$#&]\{TfToken\[/;

/**
 * The problems of every string of a spec as written (values and map keys, at any depth) that no
 * field may hold: control characters (AWS accepts none in a name, id or tag, and a line break in a
 * value is how text escapes a heredoc or a log line), and cdktf's token markers. Applied to the raw
 * input before the schema, so that a field added later is covered without a word. `sshPublicKey`
 * may end with a line break (it is trimmed, as a .pub file ends with one).
 */
export function checkStrings(raw: unknown): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const visit = (value: unknown, path: (string | number)[]) => {
    if (typeof value === "string") {
      const text = path.length === 1 && path[0] === "sshPublicKey" ? value.trim() : value;
      const control = CONTROL_CHARACTER.exec(text);
      if (control) {
        const code = `U+${(control[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
        problems.push({
          path,
          message: `holds a control character (${code}${control[0] === "\n" ? ", a line break" : ""}); no AWS name, id or tag accepts one: remove it.`,
        });
      } else if (TOKEN_MARKER_TEXT.test(text)) {
        problems.push({
          path,
          message: "holds ${TfToken[, cdktf's marker for a reference, which synthesis could not tell from a real one: remove it.",
        });
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        visit(key, [...path, key]);
        visit(item, [...path, key]);
      }
    }
  };
  visit(raw, []);
  // A bad key and its value both report at the key's path; say it once.
  return problems.filter((p, i) => problems.findIndex((q) => q.path.join(".") === p.path.join(".")) === i);
}
