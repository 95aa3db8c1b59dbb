/**
 * Reaching a running cluster with the user's AWS credentials: the Kubernetes CA from the run-time
 * store (docs/runtime.md), the API's address (`api.NAME` with a DNS zone, else the API load
 * balancer's DNS name), and an admin credential minted from the CA, in memory or in a kubeconfig.
 */
import * as os from "os";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { LB_NAME_MAX, clusterSlug, limitedName } from "../modules/names";
import { UserError } from "../spec/problems";
import { ClusterSpec } from "../spec/types";
import { AwsClients, awsCall, isAwsError } from "./aws";
import { KubeApi, KubeEndpoint } from "./kube-api";
import { readKubeconfigContext } from "./kubeconfig";
import { ClientCredential, ClusterCa, issueClientCertificate, parseCaBundle } from "./pki";

/** The run-time store's path of the Kubernetes CA of cluster `name` (docs/runtime.md). */
export function kubernetesCaParameter(name: string): string {
  return `/kopsform/${name}/pki/kubernetes-ca`;
}

/** The AWS name of the API load balancer, as modules/api-endpoint.ts names it. */
export function apiLoadBalancerName(clusterName: string): string {
  return limitedName(`api-${clusterSlug(clusterName)}`, LB_NAME_MAX);
}

/** Reads and checks the cluster's Kubernetes CA (certificate and key) from SSM, decrypted. */
export async function readKubernetesCa(spec: ClusterSpec, aws: AwsClients): Promise<ClusterCa> {
  const name = kubernetesCaParameter(spec.name);
  let value: string | undefined;
  try {
    const out = await awsCall(`reading ${name}`, () => aws.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true })));
    value = out.Parameter?.Value;
  } catch (e) {
    if (isAwsError(e, "ParameterNotFound")) {
      throw new UserError([
        `${name}: not found in ${spec.region}. The first master writes the cluster's CA when it boots: ` +
          `apply the cluster and wait for the masters (kopsform validate cluster ${spec.name} --wait 15m).`,
      ]);
    }
    throw e;
  }
  if (!value) {
    throw new UserError([`${name}: the parameter is empty; a master writes it at first boot (docs/runtime.md).`]);
  }
  return parseCaBundle(value, name);
}

/** Where the API is, and what the user should know about reaching it. */
export interface ApiAddress {
  readonly server: string;
  /** Said to the user: for example that the load balancer is internal. */
  readonly notes: readonly string[];
}

/**
 * The API's address: `https://api.NAME` when the spec has a DNS zone, else the API load balancer's DNS
 * name (looked up by its deterministic name). `internal`: the address from inside the cluster's
 * network, which only an internal load balancer gives (kopsform makes no `api.internal.NAME` record);
 * with an internet-facing one it is refused.
 */
export async function apiAddress(spec: ClusterSpec, aws: AwsClients, internal: boolean): Promise<ApiAddress> {
  const needLookup = internal || spec.dnsZone === undefined;
  if (!needLookup) {
    const notes =
      spec.apiLoadBalancerType === "internal"
        ? [`the API load balancer is internal: api.${spec.name} answers from inside the VPC (VPN, peering, or a tunnel through the bastion).`]
        : [];
    return { server: `https://api.${spec.name}`, notes };
  }
  const lbName = apiLoadBalancerName(spec.name);
  let lb: { DNSName?: string; Scheme?: string } | undefined;
  try {
    const out = await awsCall(`looking up load balancer ${lbName}`, () =>
      aws.elbv2.send(new DescribeLoadBalancersCommand({ Names: [lbName] })),
    );
    lb = out.LoadBalancers?.[0];
  } catch (e) {
    if (!isAwsError(e, "LoadBalancerNotFoundException")) {
      throw e;
    }
  }
  if (!lb?.DNSName) {
    throw new UserError([
      `${spec.name}: the API load balancer ${lbName} does not exist in ${spec.region}; apply the cluster first (or check the region).`,
    ]);
  }
  if (internal && lb.Scheme !== "internal") {
    throw new UserError([
      `--internal: the API load balancer of ${spec.name} is internet-facing, and kopsform makes no internal API ` +
        `name (kops's api.internal.NAME); leave out --internal, or set apiLoadBalancerType: internal in the spec.`,
    ]);
  }
  const internalNote = `the API load balancer is internal: it answers from inside the VPC (VPN, peering, or a tunnel through the bastion).`;
  if (spec.dnsZone !== undefined) {
    // api.NAME is an alias of this very load balancer, and the name the API server's certificate carries.
    return { server: `https://api.${spec.name}`, notes: [internalNote] };
  }
  return { server: `https://${lb.DNSName}`, notes: lb.Scheme === "internal" ? [internalNote] : [] };
}

/** `kubecfg-<local user>` (kops's name for an exported admin), or `kubecfg-admin` without one. */
export function adminUserName(): string {
  let user = "";
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? "";
  }
  user = user.trim();
  return `kubecfg-${user === "" ? "admin" : user}`;
}

/** The group of an admin: Kubernetes' superuser group, as kops's `--admin`. */
export const ADMIN_GROUP = "system:masters";

/** A short-lived admin client certificate signed by the cluster's CA. */
export function mintAdminCredential(ca: ClusterCa, ttlMs: number): Promise<ClientCredential> {
  return issueClientCertificate(ca, { commonName: adminUserName(), organizations: [ADMIN_GROUP], ttlMs });
}

/** How the commands that talk to the API reach it. */
export interface AccessOptions {
  /** Use context NAME of this kubeconfig instead of minting a credential. */
  readonly kubeconfig?: string;
  /** The API's address, when it is not reached by its usual name (a tunnel). */
  readonly server?: string;
  /** The name the API server's certificate must carry, with `server`. */
  readonly tlsServerName?: string;
}

/** How long a credential minted in memory for one command lives: a rolling update can take hours. */
export const IN_MEMORY_CREDENTIAL_TTL_MS = 12 * 3_600_000;

/**
 * The cluster's Kubernetes API for the day-2 commands. With `--kubeconfig`, its context NAME (what
 * `export kubecfg` writes); else an admin certificate minted in memory the same way, never written.
 */
export async function connectToCluster(spec: ClusterSpec, aws: AwsClients, options: AccessOptions): Promise<KubeApi> {
  let endpoint: KubeEndpoint;
  if (options.kubeconfig) {
    const context = readKubeconfigContext(options.kubeconfig, spec.name);
    if (!context.caPem) {
      throw new UserError([`${options.kubeconfig}: cluster ${spec.name} has no certificate-authority-data; run kopsform export kubecfg ${spec.name} --admin.`]);
    }
    endpoint = {
      server: options.server ?? context.server,
      caPem: context.caPem,
      tlsServerName: options.tlsServerName ?? context.tlsServerName,
      clientCertificatePem: context.clientCertificatePem,
      clientKeyPem: context.clientKeyPem,
      token: context.token,
    };
  } else {
    const ca = await readKubernetesCa(spec, aws);
    const server = options.server ?? (await apiAddress(spec, aws, false)).server;
    const credential = await mintAdminCredential(ca, IN_MEMORY_CREDENTIAL_TTL_MS);
    endpoint = {
      server,
      caPem: ca.certificatePem,
      tlsServerName: options.tlsServerName,
      clientCertificatePem: credential.certificatePem,
      clientKeyPem: credential.privateKeyPem,
    };
  }
  return new KubeApi(endpoint);
}
