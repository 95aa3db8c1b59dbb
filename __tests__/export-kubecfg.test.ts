/**
 * `kopsform export kubecfg NAME --admin`: the CA read through the AWS SDK (answered by
 * aws-sdk-client-mock), a client certificate that real openssl verifies against the CA with the
 * requested subject and expiry, and a merge that keeps every other entry of the user's kubeconfig.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DescribeLoadBalancersCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import YAML from "yaml";
import { apiLoadBalancerName } from "../cli/cluster-access";
import { kopsform } from "./helpers/cli";
import { OpensslCa, makeCa, openssl } from "./helpers/openssl-pki";
import { SEED_1_SPEC, writeSpecs } from "./helpers/specs";

const NAME = "hacluster.example.com";
const ssm = mockClient(SSMClient);
const elb = mockClient(ElasticLoadBalancingV2Client);

let work: string;
let ca: OpensslCa;
let configDir: string;
const lbDns = "api-hacluster-example-com-0123456789.elb.us-west-2.amazonaws.com";

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-kubecfg-"));
  ca = makeCa(path.join(work, "ca"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

beforeEach(() => {
  ssm.reset();
  elb.reset();
  configDir = writeSpecs([SEED_1_SPEC], fs.mkdtempSync(path.join(work, "specs-")));
  ssm.on(GetParameterCommand, { Name: `/kopsform/${NAME}/pki/kubernetes-ca`, WithDecryption: true }).resolves({
    Parameter: { Name: `/kopsform/${NAME}/pki/kubernetes-ca`, Type: "SecureString", Value: ca.bundle },
  });
  elb.on(DescribeLoadBalancersCommand, { Names: [apiLoadBalancerName(NAME)] }).resolves({
    LoadBalancers: [{ LoadBalancerName: apiLoadBalancerName(NAME), DNSName: lbDns, Scheme: "internal" }],
  });
});

/** The kubeconfig file's cluster, user and context named `name`. */
function entries(file: string, name = NAME) {
  const config = YAML.parse(fs.readFileSync(file, "utf8"));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const find = (key: string) => (config[key] as { name: string; [k: string]: any }[]).filter((e) => e.name === name);
  return { config, clusters: find("clusters"), users: find("users"), contexts: find("contexts") };
}

/** Writes the client certificate, key and CA of a kubeconfig entry to files for openssl. */
function extract(file: string, dir: string) {
  const { clusters, users } = entries(file);
  fs.mkdirSync(dir, { recursive: true });
  const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
  const out = {
    ca: path.join(dir, "ca.pem"),
    cert: path.join(dir, "client.pem"),
    key: path.join(dir, "client.key"),
  };
  fs.writeFileSync(out.ca, b64(clusters[0].cluster["certificate-authority-data"]));
  fs.writeFileSync(out.cert, b64(users[0].user["client-certificate-data"]));
  fs.writeFileSync(out.key, b64(users[0].user["client-key-data"]));
  return out;
}

describe("the client certificate, checked with openssl", () => {
  it("verifies against the cluster CA as a TLS client, with subject O=system:masters, CN=kubecfg-<user>, and the --ttl expiry", async () => {
    const kubeconfig = path.join(work, "ttl", "config");
    const before = Date.now();
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--ttl", "2h", "--kubeconfig", kubeconfig, "--config-dir", configDir]);
    expect(r.stderr).toContain("note: the API load balancer is internal");
    expect(r.code).toBe(0);
    const files = extract(kubeconfig, path.join(work, "ttl", "x"));

    // The CA in the kubeconfig is the cluster's, and the certificate chains to it for client auth.
    expect(openssl(["x509", "-in", files.ca, "-noout", "-fingerprint", "-sha256"])).toBe(
      openssl(["x509", "-in", ca.certFile, "-noout", "-fingerprint", "-sha256"]),
    );
    expect(openssl(["verify", "-CAfile", ca.certFile, "-purpose", "sslclient", files.cert]).trim()).toBe(`${files.cert}: OK`);

    const user = os.userInfo().username;
    const subject = openssl(["x509", "-in", files.cert, "-noout", "-subject", "-nameopt", "RFC2253"]).trim();
    expect(subject).toBe(`subject=CN=kubecfg-${user},O=system:masters`);

    // Expiry: now + 2h (to the second the command ran in).
    const end = openssl(["x509", "-in", files.cert, "-noout", "-enddate"]).trim().replace("notAfter=", "");
    const notAfter = Date.parse(end);
    expect(notAfter).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 2 * 3600_000);
    expect(notAfter).toBeLessThanOrEqual(Date.now() + 2 * 3600_000);
    expect(openssl(["x509", "-in", files.cert, "-noout", "-checkend", String(2 * 3600 - 60)])).toMatch(/will not expire/);

    // The key in the kubeconfig is the certificate's own, an EC P-256 key.
    const pubFromKey = openssl(["pkey", "-in", files.key, "-pubout"]);
    const pubFromCert = openssl(["x509", "-in", files.cert, "-noout", "-pubkey"]);
    expect(pubFromKey).toBe(pubFromCert);
    expect(openssl(["pkey", "-in", files.key, "-noout", "-text"])).toMatch(/prime256v1|P-256/);
    expect(openssl(["x509", "-in", files.cert, "-noout", "-ext", "basicConstraints"])).toMatch(/CA:FALSE/);
  });

  it("defaults to kops's 18 hours", async () => {
    const kubeconfig = path.join(work, "default-ttl", "config");
    expect((await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", kubeconfig, "--config-dir", configDir])).code).toBe(0);
    const files = extract(kubeconfig, path.join(work, "default-ttl", "x"));
    const notAfter = Date.parse(openssl(["x509", "-in", files.cert, "-noout", "-enddate"]).trim().replace("notAfter=", ""));
    expect(Math.abs(notAfter - (Date.now() + 18 * 3600_000))).toBeLessThan(60_000);
  });

  it("refuses a --ttl that would outlast the CA, and one that is not a duration", async () => {
    const shortCa = makeCa(path.join(work, "short-ca"), "short-ca", 1);
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: shortCa.bundle } });
    const kubeconfig = path.join(work, "long", "config");
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--ttl", "48h", "--kubeconfig", kubeconfig, "--config-dir", configDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^--ttl: .* would outlast the cluster CA .*choose a shorter --ttl\.$/);
    expect(fs.existsSync(kubeconfig)).toBe(false);
    const bad = await kopsform(["export", "kubecfg", NAME, "--admin", "--ttl", "18 hours", "--kubeconfig", kubeconfig, "--config-dir", configDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--ttl: "18 hours" is not a duration/);
  });
});

describe("merging into the user's kubeconfig", () => {
  const existing = {
    apiVersion: "v1",
    kind: "Config",
    preferences: { colors: true },
    clusters: [
      { name: "prod", cluster: { server: "https://prod.example.com", "certificate-authority-data": "UFJPRA==" } },
      { name: NAME, cluster: { server: "https://stale.example.com" } },
    ],
    users: [{ name: "prod-admin", user: { token: "secret-token" } }],
    contexts: [
      { name: "prod", context: { cluster: "prod", user: "prod-admin", namespace: "web" } },
      { name: "minikube", context: { cluster: "minikube", user: "minikube" } },
    ],
    "current-context": "prod",
  };

  it("adds cluster, user and context NAME, sets current-context, keeps every other entry, mode 0600, no temporary file left", async () => {
    const dir = fs.mkdtempSync(path.join(work, "merge-"));
    const kubeconfig = path.join(dir, "config");
    fs.writeFileSync(kubeconfig, YAML.stringify(existing), { mode: 0o644 });
    expect((await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", kubeconfig, "--config-dir", configDir])).code).toBe(0);
    // Twice: the second run replaces its own entries instead of adding more.
    expect((await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", kubeconfig, "--config-dir", configDir])).code).toBe(0);

    const { config, clusters, users, contexts } = entries(kubeconfig);
    expect(config["current-context"]).toBe(NAME);
    expect(config.preferences).toEqual({ colors: true });
    expect(clusters).toHaveLength(1);
    expect(users).toHaveLength(1);
    expect(contexts).toEqual([{ name: NAME, context: { cluster: NAME, user: NAME } }]);
    expect(clusters[0].cluster.server).toBe(`https://${lbDns}`);
    expect(config.clusters.find((c: { name: string }) => c.name === "prod")).toEqual(existing.clusters[0]);
    expect(config.users.find((u: { name: string }) => u.name === "prod-admin")).toEqual(existing.users[0]);
    expect(config.contexts.filter((c: { name: string }) => c.name !== NAME)).toEqual(existing.contexts);
    expect(fs.statSync(kubeconfig).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(["config"]);
  });

  it("writes the first file of $KUBECONFIG, through a symbolic link to its target", async () => {
    const dir = fs.mkdtempSync(path.join(work, "env-"));
    const first = path.join(dir, "first");
    const second = path.join(dir, "second");
    const target = path.join(dir, "real-config");
    fs.writeFileSync(target, YAML.stringify(existing));
    fs.symlinkSync(target, first);
    fs.writeFileSync(second, YAML.stringify(existing));
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [first, second].join(path.delimiter);
    try {
      expect((await kopsform(["export", "kubecfg", NAME, "--admin", "--config-dir", configDir])).code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
    expect(fs.lstatSync(first).isSymbolicLink()).toBe(true);
    expect(entries(target).contexts).toHaveLength(1);
    expect(entries(second).contexts).toHaveLength(0);
  });

  it("leaves a kubeconfig that is not YAML as it was, and says so", async () => {
    const kubeconfig = path.join(work, "broken-config");
    fs.writeFileSync(kubeconfig, "clusters: [unclosed\n");
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", kubeconfig, "--config-dir", configDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken-config: is not valid YAML/);
    expect(fs.readFileSync(kubeconfig, "utf8")).toBe("clusters: [unclosed\n");
  });
});

describe("the API's address", () => {
  it("is https://api.NAME with a DNS zone, without looking up the load balancer", async () => {
    const dir = writeSpecs([{ ...SEED_1_SPEC, dnsZone: "example.com", adminAccess: ["203.0.113.0/24"] }], fs.mkdtempSync(path.join(work, "dns-")));
    const kubeconfig = path.join(dir, "config");
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", kubeconfig, "--config-dir", dir]);
    expect(r.code).toBe(0);
    expect(entries(kubeconfig).clusters[0].cluster.server).toBe(`https://api.${NAME}`);
    expect(elb.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(0);
    expect(r.stderr).toBe("");
  });

  it("--internal: the internal load balancer's name; refused, with the reason, when that load balancer is internet-facing", async () => {
    const kubeconfig = path.join(work, "internal", "config");
    const ok = await kopsform(["export", "kubecfg", NAME, "--admin", "--internal", "--kubeconfig", kubeconfig, "--config-dir", configDir]);
    expect(ok.code).toBe(0);
    expect(entries(kubeconfig).clusters[0].cluster.server).toBe(`https://${lbDns}`);

    // A cluster applied before every cluster had an internal load balancer: api-NAME is internet-facing.
    elb.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ DNSName: lbDns, Scheme: "internet-facing" }] });
    const refused = await kopsform(["export", "kubecfg", NAME, "--admin", "--internal", "--kubeconfig", path.join(work, "x"), "--config-dir", configDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^--internal: the API load balancer api-hacluster-example-com of hacluster.example.com is internet-facing: the cluster was applied before/);
    expect(fs.existsSync(path.join(work, "x"))).toBe(false);
  });

  it("uses the internet-facing load balancer for people when the spec has admin access, and the internal one with --internal", async () => {
    const dir = writeSpecs([{ ...SEED_1_SPEC, adminAccess: ["203.0.113.0/24"] }], fs.mkdtempSync(path.join(work, "public-")));
    const publicDns = "api-public-hacluster-example-com-0123456789.elb.us-west-2.amazonaws.com";
    elb.on(DescribeLoadBalancersCommand, { Names: [apiLoadBalancerName(NAME, "public")] }).resolves({
      LoadBalancers: [{ LoadBalancerName: apiLoadBalancerName(NAME, "public"), DNSName: publicDns, Scheme: "internet-facing" }],
    });
    const outward = path.join(dir, "outward");
    expect((await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", outward, "--config-dir", dir])).code).toBe(0);
    expect(entries(outward).clusters[0].cluster.server).toBe(`https://${publicDns}`);
    const inward = path.join(dir, "inward");
    expect((await kopsform(["export", "kubecfg", NAME, "--admin", "--internal", "--kubeconfig", inward, "--config-dir", dir])).code).toBe(0);
    expect(entries(inward).clusters[0].cluster.server).toBe(`https://${lbDns}`);
  });

  it("--internal with a DNS zone: https://api.internal.NAME, without looking up the load balancer", async () => {
    const dir = writeSpecs([{ ...SEED_1_SPEC, dnsZone: "example.com", adminAccess: ["203.0.113.0/24"] }], fs.mkdtempSync(path.join(work, "dns-internal-")));
    const kubeconfig = path.join(dir, "config");
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--internal", "--kubeconfig", kubeconfig, "--config-dir", dir]);
    expect(r.code).toBe(0);
    expect(entries(kubeconfig).clusters[0].cluster.server).toBe(`https://api.internal.${NAME}`);
    expect(elb.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(0);
  });

  it("says so when the load balancer does not exist", async () => {
    const err = Object.assign(new Error("One or more load balancers not found"), { name: "LoadBalancerNotFoundException" });
    elb.on(DescribeLoadBalancersCommand).rejects(err);
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", path.join(work, "nolb"), "--config-dir", configDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the API load balancer api-hacluster-example-com does not exist in us-west-2; apply the cluster first/);
  });
});

describe("refusals", () => {
  it("needs --admin (exit 2)", async () => {
    const r = await kopsform(["export", "kubecfg", NAME, "--config-dir", configDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pass --admin/);
  });

  it("says what to do when the CA is not in SSM yet, or no credentials are found", async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error("not found"), { name: "ParameterNotFound" }));
    const missing = await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", path.join(work, "nf"), "--config-dir", configDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^\/kopsform\/hacluster.example.com\/pki\/kubernetes-ca: not found in us-west-2\. The first master writes/);

    ssm.on(GetParameterCommand).rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    const nocreds = await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", path.join(work, "nc"), "--config-dir", configDir]);
    expect(nocreds.code).toBe(1);
    expect(nocreds.stderr).toMatch(/no AWS credentials found/);
  });

  it("refuses a CA bundle whose key is not the certificate's", async () => {
    const other = makeCa(path.join(work, "other-ca"), "other");
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: `${ca.certPem}${other.keyPem}` } });
    const r = await kopsform(["export", "kubecfg", NAME, "--admin", "--kubeconfig", path.join(work, "mismatch"), "--config-dir", configDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kubernetes-ca: its private key does not belong to its certificate/);
  });

  it("names the specs it has when NAME has none", async () => {
    const r = await kopsform(["export", "kubecfg", "other.example.com", "--admin", "--config-dir", configDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no spec for other.example.com in .* \(it has hacluster.example.com\)/);
  });
});
