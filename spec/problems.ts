/**
 * Problems found in a cluster spec or on the command line, and how they are shown to a user: one line
 * per problem that names the field (or the kops flag it came from), the bad value and the fix.
 */

/** One thing wrong with the input. `field` is a spec path such as `masterZones` or `cloudLabels.Team`. */
export interface Problem {
  readonly field: string;
  readonly message: string;
}

/** Something allowed but risky, reported without failing (for example several masters in one zone). */
export type Warning = Problem;

/** Where input came from: a spec file (fields are named as in YAML) or `create cluster` flags. */
export type InputOrigin = { readonly kind: "file"; readonly path: string } | { readonly kind: "flags" };

/** The spec field each kops flag fills; the reverse of this names flags in messages. */
export const FLAG_FOR_FIELD: Readonly<Record<string, string>> = {
  name: "NAME",
  zones: "--zones",
  masterZones: "--master-zones",
  masterCount: "--master-count",
  nodeCount: "--node-count",
  nodeSize: "--node-size",
  masterSize: "--master-size",
  topology: "--topology",
  networking: "--networking",
  dnsZone: "--dns-zone",
  dns: "--dns",
  nodeSecurityGroups: "--node-security-groups",
  masterSecurityGroups: "--master-security-groups",
  cloudLabels: "--cloud-labels",
  image: "--image",
  networkCidr: "--network-cidr",
  sshPublicKey: "--ssh-public-key",
  sshAccess: "--ssh-access",
  allowSshFromAnywhere: "--allow-ssh-from-anywhere",
  adminAccess: "--admin-access",
  apiLoadBalancerType: "--api-loadbalancer-type",
  bastion: "--bastion",
  kubernetesVersion: "--kubernetes-version",
  masterVolumeSize: "--master-volume-size",
  nodeVolumeSize: "--node-volume-size",
  etcdStorageType: "--etcd-storage-type",
  encryptEtcdStorage: "--encrypt-etcd-storage",
  vpc: "--vpc",
  subnets: "--subnets / --utility-subnets",
};

/**
 * An error in what the user gave us (exit code 1): its message is one line per problem, printed as
 * is, never with a stack trace.
 */
export class UserError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join("\n"));
    this.name = "UserError";
  }
}

/** Thrown when a spec is invalid; carries every problem found, not only the first. */
export class InvalidInputError extends UserError {
  constructor(
    readonly problems: readonly Problem[],
    readonly origin: InputOrigin,
  ) {
    super(formatProblems(problems, origin));
    this.name = "InvalidInputError";
  }
}

/** The label a user recognises for a field: its kops flag for flag input, its YAML path for files. */
export function fieldLabel(field: string, origin: InputOrigin): string {
  if (origin.kind === "file") {
    return field;
  }
  const top = field.split(/[.[]/)[0];
  return FLAG_FOR_FIELD[top] ?? field;
}

/** Renders problems as lines: `clusters/a.yaml: masterZones: ...` or `--master-zones: ...`. */
export function formatProblems(problems: readonly Problem[], origin: InputOrigin): string[] {
  const prefix = origin.kind === "file" ? `${origin.path}: ` : "";
  return problems.map((p) => printable(`${prefix}${fieldLabel(p.field, origin)}: ${p.message}`));
}

/**
 * `text` with its control characters written as `\uXXXX`: a message is one line, and what a spec or a
 * plan holds never reaches a terminal as a line break or an escape sequence.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu, (ch) => `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, "0")}`);
}

/** Quotes a value for a message the way a shell user would type it back. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return value.map((v) => String(v)).join(",");
  }
  return JSON.stringify(value) ?? String(value);
}

/** The known word closest to `word` (Levenshtein distance at most 3 and less than half its length). */
export function nearest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.min(3, Math.ceil(word.length / 2)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
