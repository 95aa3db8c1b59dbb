/**
 * Kubernetes on the masters and nodes, in the cluster simulation (__tests__/sim/cluster.ts): the boot
 * scripts run for real (downloads checked by sha256, the package key by its fingerprint, the shared
 * CAs through the fake AWS that enforces the synthesized IAM, real etcd, real openssl); kubeadm,
 * kubectl and apt are fakes that keep the cluster's API state (__tests__/sim/bin/kubeadm). What is
 * proven here is the order and the once-only logic around kubeadm, the configurations it is given
 * (checked against kubeadm's schemas), the PKI it finds, and how nodes join; that kubeadm's phases
 * then bring up a working control plane needs a run on AWS (README: Proving it on AWS).
 *
 *   1. three masters and a node boot at once: every master runs its own phases after etcd is
 *      healthy and the PKI is in place; the cluster-wide steps run once for the cluster; the node
 *      waits for the token and joins with it; kube-apiserver's etcd credentials work on real etcd;
 *   2. the master that ran the cluster-wide steps is lost: its replacement rebuilds its control
 *      plane, never runs the cluster-wide steps again, and deletes the dead master's Node;
 *   3. the node reboots: it does not join again;
 *   4. the join token is renewed by the leader of etcd main only.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { validateKubeadmDocuments } from "./helpers/kubeadm-schema";
import { SIM_API_LB_NAME, SimCluster, SimInstance } from "./sim/cluster";
import { scenarioSequence } from "./sim/scenarios";

const NAME = "k8s.example.com";
const SPEC = {
  name: NAME,
  zones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  masterZones: ["us-west-2a", "us-west-2b", "us-west-2c"],
  topology: "private",
  kubernetesVersion: "1.33.5",
};
// cilium (the default networking) replaces kube-proxy, so kubeadm installs none.
const CLUSTER_WIDE = ["upload-config all", "bootstrap-token", "addon coredns"];
const PER_MASTER = ["certs all", "kubeconfig all", "control-plane all", "kubelet-start", "mark-control-plane", "kubelet-finalize all"];

jest.setTimeout(900_000);

let sim: SimCluster;
const measured: Record<string, number> = {};

const scenario = scenarioSequence();

const param = (name: string) => sim.aws.parameters.get(`/kopsform/${NAME}/${name}`);
const k8sPki = (instance: SimInstance, file: string) => path.join(instance.root, "etc", "kubernetes", "pki", file);
const read = (file: string) => fs.readFileSync(file, "utf8");
const pem = (text: string, kind: string) => new RegExp(`-----BEGIN ${kind}-----[\\s\\S]+?-----END ${kind}-----`).exec(text)?.[0];
const phasesOf = (instance: SimInstance) =>
  sim.api.phases.filter((p) => p.startsWith(`${instance.fake.id} `)).map((p) => p.slice(instance.fake.id.length + 1));
const masters = () => [...sim.instances.values()].filter((i) => ["a", "b", "c"].includes(i.member));

function expectBooted(instances: readonly SimInstance[]): void {
  for (const i of instances) {
    expect({ member: i.member, result: sim.bootResult(i), log: sim.bootResult(i) === 0 ? "" : sim.bootLog(i).slice(-3000) }).toEqual({
      member: i.member,
      result: 0,
      log: "",
    });
  }
}

beforeAll(async () => {
  sim = await SimCluster.create({ spec: SPEC });
});

afterAll(async () => {
  for (const [what, value] of Object.entries(measured)) {
    console.log(`cluster simulation: ${what}: ${value}`);
  }
  await sim?.stop(!!process.env.KOPSFORM_SIM_KEEP);
});

describe("Kubernetes on the masters and nodes", () => {
  scenario("1. three masters and a node booting at once: each master's phases after etcd and the PKI, the cluster-wide steps once, the node joins with the stored token", async () => {
    const started = Date.now();
    const [booted, node] = await Promise.all([Promise.all(["a", "b", "c"].map((m) => sim.launch(m))), sim.launchNode("nodes", "us-west-2a", "node-1")]);
    measured["first boot of three masters and a node, to the node joined (s)"] = Math.round((Date.now() - started) / 1000);
    expectBooted([...booted, node]);
    expect(sim.aws.calls.filter((c) => c.denied)).toEqual([]);

    // The cluster-wide steps: once, all by the master that owns them (k8s/init-owner), recorded as done.
    const owner = /^member=([a-z0-9-]+)$/.exec(param("k8s/init-owner")?.value.trim() ?? "")?.[1] as string;
    expect(["a", "b", "c"]).toContain(owner);
    const ownerId = (sim.instances.get(owner) as SimInstance).fake.id;
    for (const step of CLUSTER_WIDE) {
      expect({ step, by: sim.api.phases.filter((p) => p.endsWith(` ${step}`)) }).toEqual({ step, by: [`${ownerId} ${step}`] });
    }
    expect(sim.api.phases.filter((p) => p.endsWith(" addon kube-proxy"))).toEqual([]);
    expect(sim.bootLog(sim.instances.get(owner) as SimInstance)).toContain("not installing kube-proxy: the pod network replaces it");
    expect(param("k8s/initialized")?.version).toBe(1);
    expect(param("k8s/initialized")?.value.trim()).toMatch(new RegExp(`^created_at=\\S+Z by=${owner}$`));

    for (const m of booted) {
      // Its own phases, in kubeadm's order; the cluster-wide ones only on the owner, after them.
      expect(phasesOf(m)).toEqual(m.member === owner ? [...PER_MASTER, ...CLUSTER_WIDE] : PER_MASTER);
      // Only after etcd (both clusters) and the PKI: the boot log says so in this order.
      const log = sim.bootLog(m);
      const at = (text: string) => log.indexOf(text);
      expect(at(`etcd-main: member ${m.member} is healthy`)).toBeGreaterThan(-1);
      expect(at(`etcd-events: member ${m.member} is healthy`)).toBeGreaterThan(at(`etcd-main: member ${m.member} is healthy`));
      expect(at("Kubernetes PKI in place")).toBeGreaterThan(at(`etcd-events: member ${m.member} is healthy`));
      expect(at("kubeadm init phase certs all")).toBeGreaterThan(at("Kubernetes PKI in place"));
      expect(at("kubeadm init phase certs all")).toBeGreaterThan(at("containerd 2.3.4 with runc 1.4.3 is running"));
      expect(at("kubeadm init phase certs all")).toBeGreaterThan(at("installed kubelet, kubeadm and kubectl 1.33.5-1.1"));
      // Packages of the spec's version, held; containerd's configuration with systemd cgroups.
      for (const pkg of ["kubelet", "kubeadm", "kubectl"]) {
        expect(read(path.join(m.root, "var", "lib", "fake-dpkg", pkg)).trim()).toBe("1.33.5-1.1");
        expect(fs.existsSync(path.join(m.root, "var", "lib", "fake-dpkg", `${pkg}.hold`))).toBe(true);
      }
      expect(read(path.join(m.root, "etc", "containerd", "config.toml"))).toMatch(/^version = 3$[\s\S]*SystemdCgroup = true/m);
      expect(read(path.join(m.root, "etc", "apt", "sources.list.d", "kubernetes.list"))).toBe(
        `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${sim.aws.endpoint}/downloads/kubernetes/v1.33/deb/ /\n`,
      );
    }

    // One Kubernetes CA, front-proxy CA and service-account key for every master, from the store.
    const caBundle = param("pki/kubernetes-ca");
    expect(caBundle?.type).toBe("SecureString");
    expect(param("pki/kubernetes")?.type).toBe("SecureString");
    for (const m of booted) {
      expect(read(k8sPki(m, "ca.crt")).trim()).toBe(pem(caBundle?.value as string, "CERTIFICATE"));
      expect(read(k8sPki(m, "sa.key"))).toBe(read(k8sPki(booted[0], "sa.key")));
      expect(read(k8sPki(m, "front-proxy-ca.crt"))).toBe(read(k8sPki(booted[0], "front-proxy-ca.crt")));
      for (const key of ["ca.key", "sa.key", "front-proxy-ca.key", "apiserver-etcd-client.key"]) {
        expect({ key, mode: (fs.statSync(k8sPki(m, key)).mode & 0o777).toString(8) }).toEqual({ key, mode: "600" });
      }
      // kube-apiserver's etcd credentials, on this master's real etcd (main and events).
      for (const port of [4001, 4002]) {
        const r = await sim.run(m, [
          "env",
          "ETCDCTL_API=3",
          "etcdctl",
          `--endpoints=https://127.0.0.1:${port}`,
          `--cacert=${k8sPki(m, "etcd/ca.crt")}`,
          `--cert=${k8sPki(m, "apiserver-etcd-client.crt")}`,
          `--key=${k8sPki(m, "apiserver-etcd-client.key")}`,
          "endpoint",
          "health",
        ]);
        expect({ port, code: r.code, said: r.stdout + r.stderr }).toEqual({ port, code: 0, said: expect.stringContaining("is healthy") });
      }
    }

    // The configuration each master gave kubeadm is valid for kubeadm 1.33 and says what we mean.
    for (const m of booted) {
      const text = read(path.join(m.root, "var", "lib", "fake-kubeadm", "validated-kubeadm.yaml"));
      expect(validateKubeadmDocuments(text, { kubernetesVersion: "1.33.5" })).toEqual([]);
      const [init, cluster, kubelet] = YAML.parseAllDocuments(text).map((d) => d.toJS());
      expect(init.nodeRegistration.name).toBe(m.fake.id);
      expect(init.localAPIEndpoint).toEqual({ advertiseAddress: m.fake.ip, bindPort: 443 });
      expect(init.nodeRegistration.kubeletExtraArgs).toEqual([
        { name: "cloud-provider", value: "external" },
        { name: "provider-id", value: `aws:///${m.fake.zone}/${m.fake.id}` },
        { name: "node-ip", value: m.fake.ip },
        { name: "node-labels", value: `kopsform.io/etcd-member=${m.member}` },
      ]);
      expect(init.bootstrapTokens).toBeUndefined(); // no secret in the file kept on disk
      expect(cluster.controlPlaneEndpoint).toBe(`${SIM_API_LB_NAME}:443`);
      expect(cluster.kubernetesVersion).toBe("v1.33.5");
      expect(cluster.networking).toEqual({ podSubnet: "100.96.0.0/11", serviceSubnet: "100.64.0.0/13", dnsDomain: "cluster.local" });
      expect(cluster.etcd.external.endpoints).toEqual(["https://127.0.0.1:4001"]);
      expect(cluster.apiServer.extraArgs).toContainEqual({ name: "etcd-servers-overrides", value: "/events#https://127.0.0.1:4002" });
      expect(cluster.apiServer.certSANs).toEqual([SIM_API_LB_NAME, m.fake.ip, "127.0.0.1", "localhost"]);
      expect(cluster.featureGates).toEqual({ ControlPlaneKubeletLocalMode: true });
      expect(cluster.proxy).toEqual({ disabled: true });
      expect(kubelet.cgroupDriver).toBe("systemd");
      expect(sim.api.nodes[m.fake.id]).toBe(`kopsform.io/etcd-member=${m.member}`);
    }
    // The configuration the owner gave the bootstrap-token phase carried the stored token, and
    // kubeadm made no other: the API knows exactly the token nodes find in the store.
    const token = param("join/token");
    expect(token?.type).toBe("SecureString");
    expect(token?.keyId).toBe(`alias/kopsform/${NAME.replace(/\./g, "-")}`);
    expect(sim.api.tokens).toEqual([token?.value]);
    // The token is in no boot log, and the boot logs are root's only.
    for (const m of booted) {
      expect(sim.bootLog(m)).not.toContain(token?.value as string);
      expect((fs.statSync(path.join(m.root, "var", "log", "kopsform", "boot.log")).mode & 0o777).toString(8)).toBe("600");
    }
    expect(param("join/ca-cert-hash")?.value).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The node: waited for the token, joined with it, as its instance, with the group's labels.
    expect(phasesOf(node)).toEqual(["join"]);
    const join = read(path.join(node.root, "var", "lib", "fake-kubeadm", "join.yaml"));
    expect(validateKubeadmDocuments(join, { kubernetesVersion: "1.33.5" })).toEqual([]);
    const joinConfig = YAML.parse(join);
    expect(joinConfig.discovery.bootstrapToken).toEqual({ apiServerEndpoint: `${SIM_API_LB_NAME}:443`, token: token?.value, caCertHashes: [param("join/ca-cert-hash")?.value] });
    expect(joinConfig.nodeRegistration.name).toBe(node.fake.id);
    expect(sim.api.nodes[node.fake.id]).toBe("");
    // The token reached kubeadm in a file readable by root only, and did not stay on the node.
    expect(sim.bootLog(node)).not.toContain(token?.value as string);
    expect(fs.existsSync(path.join(node.root, "etc", "kubernetes", "kubelet.conf"))).toBe(true);
  });

  scenario("2. the master that ran the cluster-wide steps is replaced: its control plane is rebuilt, the cluster-wide steps are not run again, the dead master's Node goes", async () => {
    const owner = /^member=([a-z0-9-]+)$/.exec(param("k8s/init-owner")?.value.trim() ?? "")?.[1] as string;
    const dead = sim.instances.get(owner) as SimInstance;
    const phasesBefore = sim.api.phases.length;
    await sim.kill(owner);
    const started = Date.now();
    const replacement = await sim.launch(owner);
    measured["replacement of the owner master, to its control plane ready (s)"] = Math.round((Date.now() - started) / 1000);
    expectBooted([replacement]);
    expect(phasesOf(replacement)).toEqual(PER_MASTER);
    expect(sim.api.phases.slice(phasesBefore)).toContain(`kubectl delete node/${dead.fake.id}`);
    for (const step of CLUSTER_WIDE) {
      expect({ step, runs: sim.api.phases.filter((p) => p.endsWith(` ${step}`)).length }).toEqual({ step, runs: 1 });
    }
    expect(sim.bootLog(replacement)).toContain("the cluster-wide steps were done");
    expect(param("k8s/initialized")?.version).toBe(1);
    expect(sim.api.nodes[dead.fake.id]).toBeUndefined();
    expect(sim.api.nodes[replacement.fake.id]).toBe(`kopsform.io/etcd-member=${owner}`);
    expect(Object.keys(sim.api.nodes).sort()).toEqual([...masters().map((m) => m.fake.id), (sim.instances.get("node-1") as SimInstance).fake.id].sort());
    expect(sim.aws.calls.filter((c) => c.denied)).toEqual([]);
  });

  scenario("3. a node that reboots starts its kubelet and does not join again", async () => {
    const node = await sim.reboot("node-1");
    expectBooted([node]);
    expect(phasesOf(node)).toEqual(["join"]);
    expect(sim.bootLog(node)).toContain("this node joined before; starting the kubelet");
  });

  scenario("4. the join token is renewed by the leader of etcd main only, into the store and the API", async () => {
    const before = param("join/token");
    const logsBefore = masters().map((m) => sim.bootLog(m).length);
    const results = await Promise.all(masters().map((m) => sim.run(m, ["systemctl", "start", "kopsform-join-token.service"])));
    const journal = (m: SimInstance) => path.join(m.root, "var", "log", "fake-journal", "kopsform-join-token.service.log");
    expect(results.map((r, i) => ({ code: r.code, journal: r.code === 0 ? "" : fs.existsSync(journal(masters()[i])) ? read(journal(masters()[i])) : r.stderr }))).toEqual(
      masters().map(() => ({ code: 0, journal: "" })),
    );
    const after = param("join/token");
    expect(after?.version).toBe((before?.version as number) + 1);
    expect(after?.value).not.toBe(before?.value);
    expect(sim.api.tokens).toEqual([before?.value, after?.value]);
    const said = masters().map((m, i) => sim.bootLog(m).slice(logsBefore[i]));
    expect(said.filter((l) => l.includes("stored a bootstrap token for nodes"))).toHaveLength(1);
    expect(said.filter((l) => l.includes("this master does not lead etcd main"))).toHaveLength(2);
    expect(sim.aws.calls.filter((c) => c.denied)).toEqual([]);
  });
});
