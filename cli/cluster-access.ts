/**
 * Reaching a running cluster with the user's AWS credentials: the Kubernetes CA from the run-time
 * store (docs/runtime.md), the API's address (`api.NAME` or `api.internal.NAME` with a DNS zone, else
 * the API load balancers' DNS names), and an admin credential minted from the CA, in memory or in a
 * kubeconfig.
 */
import * as os from "os";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetParameterCommand } from "@aws-sdk/client-ssm";
import { LB_NAME_MAX, apiLoadBalancerId, limitedName } from "../modules/names";
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

/**
 * The AWS name of an API load balancer, as modules/api-endpoint.ts names it: the internal one (every
 * cluster has it), or the internet-facing one (with admin access).
 * @default "internal"
 */
export function apiLoadBalancerName(clusterName: string, scheme: "internal" | "public" = "internal"): string {
  return limitedName(apiLoadBalancerId(clusterName, scheme), LB_NAME_MAX);
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
 * The API's address. For people (`internal` false): `https://api.NAME` with a DNS zone, else the DNS
 * name of the internet-facing load balancer when the spec has one, of the internal one otherwise.
 * From inside the cluster's network (`internal`): `https://api.internal.NAME` with a DNS zone, else
 * the internal load balancer's DNS name. Load balancers are looked up by their deterministic names.
 */
export async function apiAddress(spec: ClusterSpec, aws: AwsClients, internal: boolean): Promise<ApiAddress> {
  const scheme = internal || spec.apiLoadBalancerType === "internal" ? "internal" : "public";
  const internalNote = `the API load balancer is internal: it answers from inside the VPC (VPN, peering, or a tunnel through the bastion).`;
  const notes = scheme === "internal" ? [internalNote] : [];
  if (spec.dnsZone !== undefined) {
    // api.NAME and api.internal.NAME are aliases of these very load balancers, and the names the API
    // server's certificate carries.
    return { server: `https://${internal ? "api.internal" : "api"}.${spec.name}`, notes };
  }
  const lbName = apiLoadBalancerName(spec.name, scheme);
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
  if (scheme === "internal" && lb.Scheme !== "internal") {
    throw new UserError([
      `${internal ? "--internal: " : ""}the API load balancer ${lbName} of ${spec.name} is internet-facing: the cluster was ` +
        "applied before kopsform gave every cluster an internal API load balancer; apply the current configuration first.",
    ]);
  }
  return { server: `https://${lb.DNSName}`, notes };
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
