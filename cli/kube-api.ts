/**
 * A small client for the Kubernetes API over Node's https: the few calls the day-2 commands make
 * (Nodes, Pods, evictions, readyz/livez), with TLS verified against the cluster's CA and a client
 * certificate. Kept small on purpose: @kubernetes/client-node brings a generated client for every API
 * group and some fifteen dependencies (node-fetch, ws, openid-client, ...) for a dozen requests.
 */
import * as https from "https";
import { URL } from "url";

/** How to reach and authenticate to an API server. */
export interface KubeEndpoint {
  /** `https://api.example.com` (a port is optional). */
  readonly server: string;
  /** PEM of the CA the API server's certificate must chain to. */
  readonly caPem: string;
  /** The name the server's certificate must carry. @default the server URL's host */
  readonly tlsServerName?: string;
  readonly clientCertificatePem?: string;
  readonly clientKeyPem?: string;
  /** A bearer token, instead of a client certificate. */
  readonly token?: string;
}

/** An answer of the API server. */
export interface KubeResponse {
  readonly status: number;
  readonly text: string;
}

/** The API server could not be reached at all (refused, reset, timed out, TLS failure). */
export class KubeUnreachableError extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
  ) {
    super(`the Kubernetes API at ${server} does not answer (${reason})`);
    this.name = "KubeUnreachableError";
  }
}

/** An unexpected answer of the API server. */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${summarizeStatus(body)}`);
    this.name = "KubeApiError";
  }
}

function summarizeStatus(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: string };
    return status.message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

/** @default 15 s per request: an API server that takes longer is not healthy. */
export const KUBE_REQUEST_TIMEOUT_MS = 15_000;

/** Kubernetes objects, as far as kopsform reads them. */
export interface KubeObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  readonly deletionTimestamp?: string;
}

export interface KubeCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface KubeNode {
  readonly metadata: KubeObjectMeta;
  readonly spec?: { readonly providerID?: string; readonly unschedulable?: boolean };
  readonly status?: { readonly conditions?: readonly KubeCondition[]; readonly nodeInfo?: { readonly kubeletVersion?: string } };
}

export interface KubePod {
  readonly metadata: KubeObjectMeta;
  readonly spec?: { readonly nodeName?: string; readonly volumes?: readonly { readonly name: string; readonly emptyDir?: unknown }[] };
  readonly status?: { readonly phase?: string; readonly conditions?: readonly KubeCondition[] };
}

/** One check of `/readyz?verbose` or `/livez?verbose`. */
export interface HealthCheck {
  readonly name: string;
  readonly ok: boolean;
}

/** The parsed answer of `/readyz?verbose` or `/livez?verbose`. */
export interface HealthReport {
  readonly ok: boolean;
  readonly status: number;
  readonly checks: readonly HealthCheck[];
}

/** The Kubernetes API of one cluster. */
export class KubeApi {
  private readonly url: URL;
  private readonly agent: https.Agent;

  constructor(
    readonly endpoint: KubeEndpoint,
    private readonly timeoutMs = KUBE_REQUEST_TIMEOUT_MS,
  ) {
    this.url = new URL(endpoint.server);
    this.agent = new https.Agent({
      ca: endpoint.caPem,
      cert: endpoint.clientCertificatePem,
      key: endpoint.clientKeyPem,
      servername: endpoint.tlsServerName,
      keepAlive: true,
      maxSockets: 4,
    });
  }

  /** Closes idle connections (call when done, so that the process can exit). */
  close(): void {
    this.agent.destroy();
  }

  /** One request; resolves with any HTTP status, rejects with {@link KubeUnreachableError} on no answer. */
  request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          protocol: "https:",
          hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
          port: this.url.port || 443,
          path: `${this.url.pathname.replace(/\/$/, "")}${path}`,
          method,
          agent: this.agent,
          servername: this.endpoint.tlsServerName,
          headers: {
            Accept: "application/json",
            "User-Agent": "kopsform",
            ...(this.endpoint.token ? { Authorization: `Bearer ${this.endpoint.token}` } : {}),
            ...(payload !== undefined ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) } : {}),
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", (e) => reject(new KubeUnreachableError(this.endpoint.server, e.message)));
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on("error", (e: NodeJS.ErrnoException) => reject(new KubeUnreachableError(this.endpoint.server, e.code ?? e.message)));
      req.end(payload);
    });
  }

  /** A request that must succeed (2xx); returns the parsed JSON. */
  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.request(method, path, body, contentType);
    if (res.status < 200 || res.status >= 300) {
      throw new KubeApiError(method, path, res.status, res.text);
    }
    return JSON.parse(res.text) as T;
  }

  async listNodes(): Promise<KubeNode[]> {
    return (await this.json<{ items: KubeNode[] }>("GET", "/api/v1/nodes")).items;
  }

  /** Pods of all namespaces (or one), narrowed by field and label selectors. */
  async listPods(options: { namespace?: string; fieldSelector?: string; labelSelector?: string } = {}): Promise<KubePod[]> {
    const query = new URLSearchParams();
    if (options.fieldSelector) {
      query.set("fieldSelector", options.fieldSelector);
    }
    if (options.labelSelector) {
      query.set("labelSelector", options.labelSelector);
    }
    const base = options.namespace ? `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods` : "/api/v1/pods";
    const qs = query.toString();
    return (await this.json<{ items: KubePod[] }>("GET", qs ? `${base}?${qs}` : base)).items;
  }

  /** The pod, or undefined once it is gone. */
  async getPod(namespace: string, name: string): Promise<KubePod | undefined> {
    const res = await this.request("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
    if (res.status === 404) {
      return undefined;
    }
    if (res.status !== 200) {
      throw new KubeApiError("GET", `pod ${namespace}/${name}`, res.status, res.text);
    }
    return JSON.parse(res.text) as KubePod;
  }

  /** Marks a Node unschedulable (kubectl cordon). */
  async cordon(node: string): Promise<void> {
    await this.json("PATCH", `/api/v1/nodes/${encodeURIComponent(node)}`, { spec: { unschedulable: true } }, "application/merge-patch+json");
  }

  /** Deletes a Node object; a Node already gone is fine. */
  async deleteNode(node: string): Promise<void> {
    const res = await this.request("DELETE", `/api/v1/nodes/${encodeURIComponent(node)}`);
    if (res.status !== 404 && (res.status < 200 || res.status >= 300)) {
      throw new KubeApiError("DELETE", `node ${node}`, res.status, res.text);
    }
  }

  /**
   * Asks to evict a pod through the Eviction API, which honours PodDisruptionBudgets: `evicted`
   * (accepted), `gone` (no such pod any more) or `refused` (HTTP 429: a budget allows no disruption now).
   */
  async evict(namespace: string, name: string): Promise<{ readonly outcome: "evicted" | "gone" | "refused"; readonly message: string }> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`;
    const res = await this.request("POST", path, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name, namespace },
    });
    if (res.status >= 200 && res.status < 300) {
      return { outcome: "evicted", message: "" };
    }
    if (res.status === 404) {
      return { outcome: "gone", message: "" };
    }
    if (res.status === 429) {
      return { outcome: "refused", message: summarizeStatus(res.text) };
    }
    throw new KubeApiError("POST", `eviction of ${namespace}/${name}`, res.status, res.text);
  }

  /** `/readyz?verbose`: every readiness check of the API server that answered, etcd's included. */
  readyz(): Promise<HealthReport> {
    return this.health("/readyz?verbose");
  }

  /** `/livez?verbose`. */
  livez(): Promise<HealthReport> {
    return this.health("/livez?verbose");
  }

  private async health(path: string): Promise<HealthReport> {
    const res = await this.request("GET", path);
    return { ok: res.status === 200, status: res.status, checks: parseHealthChecks(res.text) };
  }
}

/** Parses the `[+]etcd ok` / `[-]etcd failed: reason withheld` lines of a verbose health answer. */
export function parseHealthChecks(text: string): HealthCheck[] {
  return [...text.matchAll(/^\[([+-])\]([^\s]+)\s+(ok|failed|excluded)/gm)]
    .filter((m) => m[3] !== "excluded")
    .map((m) => ({ name: m[2], ok: m[1] === "+" && m[3] === "ok" }));
}

/** True when a condition of this type is `True`. */
export function hasCondition(obj: { readonly status?: { readonly conditions?: readonly KubeCondition[] } }, type: string): boolean {
  return (obj.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");
}

/** The EC2 instance id of a Node (`spec.providerID` = `aws:///us-west-2a/i-0123...`). */
export function instanceIdOf(node: KubeNode): string | undefined {
  const m = /\/(i-[0-9a-f]+)$/.exec(node.spec?.providerID ?? "");
  return m?.[1];
}
