/**
 * `kopsform export kubecfg NAME --admin`: a kubeconfig with a short-lived admin client certificate
 * signed by the cluster's Kubernetes CA, merged into the user's kubeconfig as kops does (cluster, user
 * and context named NAME, current-context set, every other entry kept).
 */
import { AwsClients } from "./aws";
import { adminUserName, apiAddress, mintAdminCredential, readKubernetesCa } from "./cluster-access";
import { loadClusterSpec } from "./cluster-spec";
import { formatDuration } from "./duration";
import { Io, UsageError } from "./io";
import { kubeconfigPath, mergeKubeconfig, parseKubeconfig, readKubeconfigText, writeKubeconfig } from "./kubeconfig";

/** Options of `export kubecfg`. */
export interface ExportKubecfgOptions {
  readonly name: string;
  /** Required: kopsform exports admin credentials only (as kops's `--admin`). */
  readonly admin: boolean;
  /** Lifetime of the client certificate. @default 18h, as kops */
  readonly ttlMs: number;
  /** Use the address from inside the cluster's network: api.internal.NAME, or the internal load balancer's name. */
  readonly internal: boolean;
  /** @default $KUBECONFIG's first file, else ~/.kube/config */
  readonly kubeconfig?: string;
  readonly configDir: string;
}

/** @default 18h: the lifetime of kops's `--admin` credentials. */
export const DEFAULT_ADMIN_TTL = "18h";

/** Writes the kubeconfig; throws a UserError (exit 1) or {@link UsageError} (exit 2). */
export async function exportKubecfg(o: ExportKubecfgOptions, io: Io, aws?: AwsClients): Promise<void> {
  if (!o.admin) {
    throw new UsageError(
      "export kubecfg: pass --admin. kopsform exports admin credentials only (a client certificate in " +
        "system:masters, valid for --ttl); there is no other authenticator to point a kubeconfig at.",
    );
  }
  const { spec } = loadClusterSpec(o.configDir, o.name);
  const clients = aws ?? new AwsClients(spec.region);
  const file = kubeconfigPath(o.kubeconfig);
  // Read first: a broken kubeconfig is reported before anything is issued.
  const existing = readKubeconfigText(file);
  parseKubeconfig(existing, file);
  const [ca, address] = await Promise.all([readKubernetesCa(spec, clients), apiAddress(spec, clients, o.internal)]);
  const credential = await mintAdminCredential(ca, o.ttlMs);
  const text = mergeKubeconfig(
    existing,
    {
      name: spec.name,
      server: address.server,
      caPem: ca.certificatePem,
      clientCertificatePem: credential.certificatePem,
      clientKeyPem: credential.privateKeyPem,
    },
    file,
  );
  writeKubeconfig(file, text);
  io.out(`Admin credentials for ${spec.name} written to ${file} (context ${spec.name}, now current).`);
  io.out(`  server ${address.server}`);
  io.out(`  user   ${adminUserName()} (group system:masters), valid ${formatDuration(o.ttlMs)}, until ${credential.notAfter.toISOString()}`);
  address.notes.forEach((note) => io.err(`note: ${note}`));
}
