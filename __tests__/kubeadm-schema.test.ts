/**
 * The kubeadm configuration schemas (written from the Kubernetes API reference) and their helper:
 * they accept the configuration a kopsform master and node will use, and refuse the mistakes that
 * kubeadm would refuse or, worse, silently drop.
 */
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { pruneNewer, validateKubeadmDocuments } from "./helpers/kubeadm-schema";

const CA_HASH = `sha256:${"3f".repeat(32)}`;

/** What a master of hacluster.example.com hands to `kubeadm init phase ...` (Kubernetes 1.33). */
const MASTER = `
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 172.20.32.17
  bindPort: 443
nodeRegistration:
  name: i-0a1b2c3d4e5f60718
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: IfNotPresent
  taints:
    - key: node-role.kubernetes.io/control-plane
      effect: NoSchedule
  kubeletExtraArgs:
    - name: cloud-provider
      value: external
    - name: node-ip
      value: 172.20.32.17
    - name: node-labels
      value: kops.k8s.io/instancegroup=master-eu-west-1a,node.kubernetes.io/exclude-from-external-load-balancers=
bootstrapTokens:
  - token: abcdef.0123456789abcdef
    description: kopsform node join token
    ttl: 24h0m0s
    usages: [signing, authentication]
    groups: ["system:bootstrappers:kubeadm:default-node-token"]
skipPhases:
  - addon/kube-proxy
timeouts:
  controlPlaneComponentHealthCheck: 4m0s
  kubeletHealthCheck: 4m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: hacluster.example.com
kubernetesVersion: v1.33.5
controlPlaneEndpoint: api.internal.hacluster.example.com:443
certificatesDir: /etc/kubernetes/pki
imageRepository: registry.k8s.io
encryptionAlgorithm: ECDSA-P256
featureGates:
  ControlPlaneKubeletLocalMode: true
networking:
  serviceSubnet: 100.64.0.0/13
  podSubnet: 100.96.0.0/11
  dnsDomain: cluster.local
etcd:
  external:
    endpoints:
      - https://127.0.0.1:4001
    caFile: /etc/kubernetes/pki/etcd/ca.crt
    certFile: /etc/kubernetes/pki/apiserver-etcd-client.crt
    keyFile: /etc/kubernetes/pki/apiserver-etcd-client.key
apiServer:
  certSANs:
    - api.hacluster.example.com
    - api.internal.hacluster.example.com
    - hacluster-api-0123456789.elb.eu-west-1.amazonaws.com
    - 127.0.0.1
  extraArgs:
    - name: etcd-servers-overrides
      value: "/events#https://127.0.0.1:4002"
    - name: endpoint-reconciler-type
      value: lease
    - name: anonymous-auth
      value: "false"
  extraVolumes:
    - name: etcd-client-pki
      hostPath: /etc/kubernetes/pki/etcd
      mountPath: /etc/kubernetes/pki/etcd
      readOnly: true
      pathType: DirectoryOrCreate
controllerManager:
  extraArgs:
    - name: cloud-provider
      value: external
    - name: cluster-name
      value: hacluster.example.com
scheduler: {}
dns:
  disabled: false
proxy:
  disabled: true
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
clusterDNS:
  - 100.64.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
providerID: aws:///eu-west-1a/i-0a1b2c3d4e5f60718
rotateCertificates: true
serverTLSBootstrap: false
readOnlyPort: 0
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
    cacheTTL: 2m0s
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 5m0s
    cacheUnauthorizedTTL: 30s
protectKernelDefaults: true
shutdownGracePeriod: 30s
shutdownGracePeriodCriticalPods: 10s
evictionHard:
  memory.available: 100Mi
  nodefs.available: 10%
registerWithTaints:
  - key: node-role.kubernetes.io/control-plane
    effect: NoSchedule
logging:
  format: text
  flushFrequency: 5s
  verbosity: 2
`;

/** What a node hands to `kubeadm join --config` (its own name, the masters' token and CA hash). */
const NODE = `
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
caCertPath: /etc/kubernetes/pki/ca.crt
discovery:
  bootstrapToken:
    apiServerEndpoint: api.internal.hacluster.example.com:443
    token: abcdef.0123456789abcdef
    caCertHashes:
      - ${CA_HASH}
  tlsBootstrapToken: abcdef.0123456789abcdef
nodeRegistration:
  name: ip-172-20-64-5.eu-west-1.compute.internal
  criSocket: unix:///run/containerd/containerd.sock
  taints: []
  kubeletExtraArgs:
    - name: cloud-provider
      value: external
    - name: provider-id
      value: aws:///eu-west-1b/i-0b1c2d3e4f5a60718
    - name: node-labels
      value: kops.k8s.io/instancegroup=nodes-eu-west-1b
    - name: register-with-taints
      value: dedicated=gpu:NoSchedule
patches:
  directory: /etc/kopsform/kubeadm-patches
timeouts:
  discovery: 5m0s
  tlsBootstrap: 5m0s
`;

/** Parses a document of MASTER or NODE, lets a test change it, and serialises the whole file again. */
function edit(text: string, kind: string, change: (doc: Record<string, any>) => void): string {
  return text
    .split(/^---$/m)
    .map((part) => {
      const doc = parseDocument(part).toJS() as Record<string, any>;
      if (doc.kind === kind) {
        change(doc);
      }
      return JSON.stringify(doc);
    })
    .join("\n---\n");
}

function problemsOf(text: string, kubernetesVersion?: string): string[] {
  return validateKubeadmDocuments(text, { kubernetesVersion });
}

describe("kubeadm schemas accept the configuration kopsform writes", () => {
  it("accepts a master's init configuration: external etcd with the events override, certSANs, ECDSA-P256, external cloud provider, EC2 node name", () => {
    expect(problemsOf(MASTER)).toEqual([]);
    expect(problemsOf(MASTER, "v1.33.5")).toEqual([]);
    expect(problemsOf(MASTER, "1.31")).toEqual([]);
  });

  it("accepts a node's join configuration with token discovery pinned to the CA hash", () => {
    expect(problemsOf(NODE)).toEqual([]);
    expect(problemsOf(NODE, "1.36")).toEqual([]);
  });

  it("accepts the documents in JSON form and an empty trailing document", () => {
    expect(problemsOf(edit(MASTER, "none", () => undefined) + "\n---\n")).toEqual([]);
  });
});

describe("kubeadm schemas refuse what kubeadm refuses or drops", () => {
  it("refuses extraArgs as a map (the v1beta3 shape)", () => {
    const text = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.apiServer.extraArgs = { "etcd-servers-overrides": "/events#https://127.0.0.1:4002" };
    });
    expect(problemsOf(text)).toContainEqual(
      "document 2 (ClusterConfiguration): apiServer.extraArgs: must be array",
    );
  });

  it("refuses kubeletExtraArgs as a map, on init and on join", () => {
    const init = edit(MASTER, "InitConfiguration", (doc) => {
      doc.nodeRegistration.kubeletExtraArgs = { "cloud-provider": "external" };
    });
    expect(problemsOf(init)).toContainEqual(
      "document 1 (InitConfiguration): nodeRegistration.kubeletExtraArgs: must be array",
    );
    const join = edit(NODE, "JoinConfiguration", (doc) => {
      doc.nodeRegistration.kubeletExtraArgs = { "cloud-provider": "external" };
    });
    expect(problemsOf(join)).toContainEqual(
      "document 1 (JoinConfiguration): nodeRegistration.kubeletExtraArgs: must be array",
    );
  });

  it("refuses unknown fields at every level, including a wrong casing", () => {
    const text = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.controlPlaneEndPoint = doc.controlPlaneEndpoint;
      doc.etcd.external.caCert = "/etc/kubernetes/pki/etcd/ca.crt";
      doc.apiServer.extraArgs[0].val = "x";
      doc.networking.podCIDR = "100.96.0.0/11";
    });
    const problems = problemsOf(text);
    expect(problems).toContainEqual('document 2 (ClusterConfiguration): (document): unknown field "controlPlaneEndPoint"');
    expect(problems).toContainEqual('document 2 (ClusterConfiguration): etcd.external: unknown field "caCert"');
    expect(problems).toContainEqual('document 2 (ClusterConfiguration): apiServer.extraArgs[0]: unknown field "val"');
    expect(problems).toContainEqual('document 2 (ClusterConfiguration): networking: unknown field "podCIDR"');
    const kubelet = edit(MASTER, "KubeletConfiguration", (doc) => {
      doc.cgroupsDriver = "systemd";
      doc.authentication.x509.clientCaFile = "/etc/kubernetes/pki/ca.crt";
      doc.registerWithTaints[0].effects = "NoSchedule";
    });
    const kubeletProblems = problemsOf(kubelet);
    expect(kubeletProblems).toContainEqual('document 3 (KubeletConfiguration): (document): unknown field "cgroupsDriver"');
    expect(kubeletProblems).toContainEqual(
      'document 3 (KubeletConfiguration): authentication.x509: unknown field "clientCaFile"',
    );
    expect(kubeletProblems).toContainEqual(
      'document 3 (KubeletConfiguration): registerWithTaints[0]: unknown field "effects"',
    );
  });

  it("refuses fields that only v1beta3 has", () => {
    const text = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.apiServer.timeoutForControlPlane = "4m0s";
    });
    expect(problemsOf(text)).toContainEqual(
      'document 2 (ClusterConfiguration): apiServer: unknown field "timeoutForControlPlane"',
    );
  });

  it("refuses a wrong apiVersion, an unknown kind, a repeated kind and a file without documents", () => {
    const v1beta3 = edit(MASTER, "InitConfiguration", (doc) => {
      doc.apiVersion = "kubeadm.k8s.io/v1beta3";
    });
    expect(problemsOf(v1beta3)[0]).toMatch(
      /^document 1 \(InitConfiguration\): no schema for apiVersion kubeadm\.k8s\.io\/v1beta3 kind InitConfiguration/,
    );
    expect(problemsOf(MASTER.replace("kind: InitConfiguration", "kind: InitConfig"))[0]).toMatch(
      /^document 1 \(InitConfig\): no schema for apiVersion kubeadm\.k8s\.io\/v1beta4 kind InitConfig/,
    );
    expect(problemsOf(`${NODE}\n---\n${NODE}`)).toContainEqual(
      "document 2 (JoinConfiguration): kind JoinConfiguration appears twice (also document 1); kubeadm refuses that",
    );
    expect(problemsOf("kind: ClusterConfiguration\n")).toEqual(["document 1: apiVersion and kind are required strings"]);
    expect(problemsOf("---\n")).toEqual(["no configuration document found"]);
    expect(problemsOf("kind: [unclosed\n")[0]).toMatch(/^document 1: YAML error: /);
  });

  it("refuses values outside the API's fixed sets", () => {
    const text = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.encryptionAlgorithm = "ECDSA";
    });
    expect(problemsOf(text)).toContainEqual(
      'document 2 (ClusterConfiguration): encryptionAlgorithm: must be one of ["RSA-2048","RSA-3072","RSA-4096","ECDSA-P256"]',
    );
    const taint = edit(MASTER, "InitConfiguration", (doc) => {
      doc.nodeRegistration.taints[0].effect = "NoScheduled";
      doc.nodeRegistration.imagePullPolicy = "always";
    });
    const problems = problemsOf(taint);
    expect(problems).toContainEqual(
      'document 1 (InitConfiguration): nodeRegistration.taints[0].effect: must be one of ["NoSchedule","PreferNoSchedule","NoExecute"]',
    );
    expect(problems).toContainEqual(
      'document 1 (InitConfiguration): nodeRegistration.imagePullPolicy: must be one of ["","Always","IfNotPresent","Never"]',
    );
    const kubelet = edit(MASTER, "KubeletConfiguration", (doc) => {
      doc.cgroupDriver = "Systemd";
      doc.authorization.mode = "RBAC";
    });
    expect(problemsOf(kubelet).sort()).toEqual([
      'document 3 (KubeletConfiguration): authorization.mode: must be one of ["AlwaysAllow","Webhook"]',
      'document 3 (KubeletConfiguration): cgroupDriver: must be one of ["cgroupfs","systemd"]',
    ]);
  });

  it("refuses argument values that would not decode as strings, including YAML 1.1 booleans", () => {
    const text = MASTER.replace('value: "false"', "value: false").replace("value: external\n    - name: cluster-name", "value: on\n    - name: cluster-name");
    const problems = problemsOf(text);
    expect(problems).toContainEqual("document 2 (ClusterConfiguration): apiServer.extraArgs[2].value: must be string");
    expect(problems).toContainEqual("document 2 (ClusterConfiguration): controllerManager.extraArgs[0].value: must be string");
    expect(problemsOf(MASTER.replace("bindPort: 443", 'bindPort: "443"'))).toContainEqual(
      "document 1 (InitConfiguration): localAPIEndpoint.bindPort: must be integer",
    );
  });

  it("refuses node names, addresses and sockets kubeadm refuses", () => {
    const text = edit(MASTER, "InitConfiguration", (doc) => {
      doc.nodeRegistration.name = "IP-172-20-32-17.eu-west-1.compute.internal";
      doc.nodeRegistration.criSocket = "/run/containerd/containerd.sock";
      doc.localAPIEndpoint.advertiseAddress = "ip-172-20-32-17";
    });
    const problems = problemsOf(text);
    expect(problems).toContainEqual(expect.stringMatching(/^document 1 \(InitConfiguration\): nodeRegistration\.name: must match pattern/));
    expect(problems).toContainEqual(expect.stringMatching(/^document 1 \(InitConfiguration\): nodeRegistration\.criSocket: must match pattern/));
    expect(problems).toContainEqual(expect.stringMatching(/^document 1 \(InitConfiguration\): localAPIEndpoint\.advertiseAddress: must match a schema in anyOf/));
  });

  it("refuses an external etcd kubeadm would refuse", () => {
    const keyless = edit(MASTER, "ClusterConfiguration", (doc) => {
      delete doc.etcd.external.keyFile;
    });
    expect(problemsOf(keyless)).toContainEqual(
      "document 2 (ClusterConfiguration): etcd.external: must have keyFile when certFile is set",
    );
    const caless = edit(MASTER, "ClusterConfiguration", (doc) => {
      delete doc.etcd.external.caFile;
    });
    expect(problemsOf(caless)).toEqual([
      "document 2 (ClusterConfiguration): etcd.external: must have caFile when certFile is set",
      "document 2 (ClusterConfiguration): etcd.external: must have caFile when keyFile is set",
    ]);
    const plain = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.etcd.external.endpoints = ["http://127.0.0.1:4001"];
    });
    expect(problemsOf(plain)).toContainEqual(
      'document 2 (ClusterConfiguration): etcd.external.endpoints[0]: must match pattern "^https://"',
    );
    const both = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.etcd.local = { dataDir: "/var/lib/etcd" };
    });
    expect(problemsOf(both)).toContainEqual("document 2 (ClusterConfiguration): etcd: must NOT be valid");
    const none = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.etcd.external.endpoints = [];
    });
    expect(problemsOf(none)).toContainEqual(
      "document 2 (ClusterConfiguration): etcd.external.endpoints: must NOT have fewer than 1 items",
    );
  });

  it("refuses join discovery without a CA pin, without an endpoint port, or with two methods", () => {
    const unpinned = edit(NODE, "JoinConfiguration", (doc) => {
      delete doc.discovery.bootstrapToken.caCertHashes;
    });
    expect(problemsOf(unpinned)).toContainEqual(
      "document 1 (JoinConfiguration): discovery.bootstrapToken: must have required property 'caCertHashes'",
    );
    const skipped = edit(NODE, "JoinConfiguration", (doc) => {
      delete doc.discovery.bootstrapToken.caCertHashes;
      doc.discovery.bootstrapToken.unsafeSkipCAVerification = true;
    });
    expect(problemsOf(skipped)).toEqual([]);
    const portless = edit(NODE, "JoinConfiguration", (doc) => {
      doc.discovery.bootstrapToken.apiServerEndpoint = "api.internal.hacluster.example.com";
      doc.discovery.bootstrapToken.caCertHashes = ["3f".repeat(32)];
    });
    const problems = problemsOf(portless);
    expect(problems).toContainEqual(expect.stringMatching(/discovery\.bootstrapToken\.apiServerEndpoint: must match pattern/));
    expect(problems).toContainEqual(expect.stringMatching(/discovery\.bootstrapToken\.caCertHashes\[0\]: must match pattern/));
    const twoWays = edit(NODE, "JoinConfiguration", (doc) => {
      doc.discovery.file = { kubeConfigPath: "/etc/kubernetes/discovery.conf" };
    });
    expect(problemsOf(twoWays)).toContainEqual("document 1 (JoinConfiguration): discovery: must match exactly one schema in oneOf");
    const noDiscovery = edit(NODE, "JoinConfiguration", (doc) => {
      delete doc.discovery;
    });
    expect(problemsOf(noDiscovery)).toEqual(["document 1 (JoinConfiguration): (document): must have required property 'discovery'"]);
  });

  it("refuses malformed tokens and token rules kubeadm enforces", () => {
    const text = edit(MASTER, "InitConfiguration", (doc) => {
      doc.bootstrapTokens[0].token = "ABCDEF.0123456789abcdef";
      doc.bootstrapTokens[0].expires = "2030-01-01T00:00:00Z";
      doc.bootstrapTokens[0].usages = ["signing"];
    });
    const problems = problemsOf(text);
    expect(problems).toContainEqual(expect.stringMatching(/bootstrapTokens\[0\]\.token: must match pattern/));
    expect(problems).toContainEqual("document 1 (InitConfiguration): bootstrapTokens[0]: must NOT be valid");
    expect(problems).toContainEqual(
      "document 1 (InitConfiguration): bootstrapTokens[0].usages: must contain at least 1 valid item(s)",
    );
  });
});

describe("kubeadm schemas follow the Kubernetes version", () => {
  it("refuses ECDSA-P384 before 1.34 and accepts it from 1.34", () => {
    const text = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.encryptionAlgorithm = "ECDSA-P384";
    });
    expect(problemsOf(text, "1.33")).toContainEqual(
      'document 2 (ClusterConfiguration): encryptionAlgorithm: must be one of ["RSA-2048","RSA-3072","RSA-4096","ECDSA-P256"]',
    );
    expect(problemsOf(text, "1.34")).toEqual([]);
    expect(problemsOf(text)).toEqual([]);
  });

  it("refuses etcd.external.httpEndpoints before 1.35 and kubelet fields before their release", () => {
    const text = edit(MASTER, "ClusterConfiguration", (doc) => {
      doc.etcd.external.httpEndpoints = ["https://127.0.0.1:4001"];
    });
    expect(problemsOf(text, "1.34")).toContainEqual(
      'document 2 (ClusterConfiguration): etcd.external: unknown field "httpEndpoints"',
    );
    expect(problemsOf(text, "1.35")).toEqual([]);
    const kubelet = edit(MASTER, "KubeletConfiguration", (doc) => {
      doc.singleProcessOOMKill = false;
    });
    expect(problemsOf(kubelet, "1.31")).toContainEqual(
      'document 3 (KubeletConfiguration): (document): unknown field "singleProcessOOMKill"',
    );
    expect(problemsOf(kubelet, "1.32")).toEqual([]);
  });

  it("refuses a Kubernetes version without v1beta4, and a version it cannot read", () => {
    expect(problemsOf(MASTER, "1.30.4")).toEqual([
      "Kubernetes 1.30 has no kubeadm.k8s.io/v1beta4 (kubeadm serves it from 1.31): use 1.31 or later",
    ]);
    expect(problemsOf(MASTER, "latest")).toEqual([
      'kubernetesVersion "latest" is not a version like 1.33 or v1.33.5',
    ]);
  });

  it("drops exactly the marked properties and branches", () => {
    const schema = {
      type: "object",
      properties: { old: { type: "string" }, fresh: { type: "string", "x-kopsform-since": "1.35" } },
      anyOf: [{ const: "a" }, { const: "b", "x-kopsform-since": "1.34" }],
    };
    expect(pruneNewer(schema, 34)).toEqual({
      type: "object",
      properties: { old: { type: "string" } },
      anyOf: [{ const: "a" }, { const: "b", "x-kopsform-since": "1.34" }],
    });
    expect(pruneNewer(schema, 33)).toEqual({
      type: "object",
      properties: { old: { type: "string" } },
      anyOf: [{ const: "a" }],
    });
  });
});

describe("the schema files themselves", () => {
  const dir = path.join(__dirname, "fixtures", "kubeadm");
  const files = fs.readdirSync(dir).filter((name) => name.endsWith(".schema.json"));

  /** Every subschema that describes an object with named fields, with its JSON pointer. */
  function objectSchemas(node: unknown, pointer: string, out: Array<[string, Record<string, unknown>]>): void {
    if (Array.isArray(node)) {
      node.forEach((item, i) => objectSchemas(item, `${pointer}/${i}`, out));
      return;
    }
    if (typeof node !== "object" || node === null) {
      return;
    }
    const record = node as Record<string, unknown>;
    const isClosedCandidate = record.type === "object" && record.properties !== undefined;
    if (isClosedCandidate) {
      out.push([pointer, record]);
    }
    for (const [key, value] of Object.entries(record)) {
      objectSchemas(value, `${pointer}/${key}`, out);
    }
  }

  it("closes every object that lists its fields", () => {
    expect(files.sort()).toEqual([
      "cluster-configuration.schema.json",
      "defs.schema.json",
      "init-configuration.schema.json",
      "join-configuration.schema.json",
      "kubelet-configuration.schema.json",
    ]);
    const open: string[] = [];
    let counted = 0;
    for (const file of files) {
      const found: Array<[string, Record<string, unknown>]> = [];
      objectSchemas(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")), file, found);
      counted += found.length;
      for (const [pointer, schema] of found) {
        if (schema.additionalProperties !== false) {
          open.push(pointer);
        }
      }
    }
    expect(open).toEqual([]);
    expect(counted).toBeGreaterThan(40);
  });

  it("lists the KubeletConfiguration fields a kubeadm cluster on AWS sets", () => {
    const kubelet = JSON.parse(fs.readFileSync(path.join(dir, "kubelet-configuration.schema.json"), "utf8"));
    const fields = Object.keys(kubelet.properties);
    for (const name of [
      "cgroupDriver",
      "clusterDNS",
      "clusterDomain",
      "authentication",
      "authorization",
      "rotateCertificates",
      "serverTLSBootstrap",
      "providerID",
      "containerRuntimeEndpoint",
      "registerWithTaints",
      "staticPodPath",
    ]) {
      expect(fields).toContain(name);
    }
    // 125 fields in k8s.io/kubelet v0.36.0, plus apiVersion and kind.
    expect(fields).toHaveLength(127);
  });
});
