/**
 * What the synthesized configuration tells the instances for Kubernetes: where the API is
 * (config/api-endpoint, which masters put in their certificates and nodes join at), and, in every
 * launch template's cluster.env, the pinned runtime, the package repository and the networks.
 */
import { CONTAINERD_SHA256, CONTAINERD_VERSION, KUBERNETES_PACKAGE_KEY_FINGERPRINT, RUNC_SHA256, RUNC_VERSION } from "../spec/defaults";
import { SEED_1, resources, synthJson } from "./helpers/cluster";
import { parsePolicy } from "./helpers/json-expression";
import { decodeUserData } from "./helpers/user-data";

const apiEndpoint = (json: ReturnType<typeof synthJson>) =>
  Object.values(resources(json, "aws_ssm_parameter")).find((p) => String(p.name).endsWith("/config/api-endpoint"));

describe("the API's endpoint for the instances", () => {
  it("is the load balancer's DNS name without a DNS zone, a String parameter Terraform owns", () => {
    const json = synthJson(SEED_1);
    const parameter = apiEndpoint(json);
    expect(parameter?.name).toBe("/kopsform/hacluster.example.com/config/api-endpoint");
    expect(parameter?.type).toBe("String");
    expect(parameter?.value).toMatch(/^\$\{aws_lb\.[a-z0-9-]+\.dns_name\}$/);
  });

  it("is api.NAME (the record's name) with a DNS zone", () => {
    const json = synthJson({ ...SEED_1, dnsZone: "Z0123456789ABCDEFGHIJ" });
    expect(apiEndpoint(json)?.value).toMatch(/^\$\{aws_route53_record\.[a-z0-9-]+\.fqdn\}$/);
  });

  it("exists before any master or node launches", () => {
    const json = synthJson(SEED_1);
    const name = Object.entries(resources(json, "aws_ssm_parameter")).find(([, p]) => String(p.name).endsWith("/config/api-endpoint"))?.[0];
    for (const [group, body] of Object.entries(resources(json, "aws_autoscaling_group"))) {
      expect({ group, dependsOn: body.depends_on }).toEqual({ group, dependsOn: expect.arrayContaining([`aws_ssm_parameter.${name}`]) });
    }
  });
});

describe("cluster.env of masters and nodes", () => {
  it("pins containerd, runc and the package key, and carries the spec's repository and networks", () => {
    const json = synthJson({ ...SEED_1, podCidr: "10.128.0.0/12", serviceCidr: "10.96.0.0/16", kubernetesPackageRepository: "https://mirror.example.com/core:/stable:" });
    const envs = Object.values(resources(json, "aws_launch_template")).map((t) => decodeUserData(t.user_data).env);
    expect(envs.filter((e) => e.ROLE === "master")).toHaveLength(3);
    expect(envs.filter((e) => e.ROLE === "node")).toHaveLength(1);
    for (const env of envs) {
      expect(env).toMatchObject({
        CONTAINERD_VERSION,
        CONTAINERD_SHA256_AMD64: CONTAINERD_SHA256.amd64,
        CONTAINERD_SHA256_ARM64: CONTAINERD_SHA256.arm64,
        RUNC_VERSION,
        RUNC_SHA256_AMD64: RUNC_SHA256.amd64,
        RUNC_SHA256_ARM64: RUNC_SHA256.arm64,
        KUBERNETES_PACKAGE_REPOSITORY: "https://mirror.example.com/core:/stable:",
        KUBERNETES_PACKAGE_KEY_FINGERPRINT,
      });
      if (env.ROLE === "master") {
        expect(env).toMatchObject({ POD_CIDR: "10.128.0.0/12", SERVICE_CIDR: "10.96.0.0/16", KUBE_PROXY: "true" });
      } else {
        expect(env.POD_CIDR).toBeUndefined();
        expect(env.JOIN_WAIT_ATTEMPTS).toBe("120");
      }
    }
  });

  it("pins exactly the releases kubespray's checksum table lists for them", () => {
    // Literal values, so that a changed pin is a reviewed change of this test too.
    expect([CONTAINERD_VERSION, CONTAINERD_SHA256]).toEqual([
      "2.3.4",
      { amd64: "9d68969855fbf676cdb8ed758e420fb048d61f984f61de3e53eddfebe484d168", arm64: "a985fbb7e18fc0362d31a055338f5d7b0e087a3e27f14c70d1c5965399a29f95" },
    ]);
    expect([RUNC_VERSION, RUNC_SHA256]).toEqual([
      "1.4.3",
      { amd64: "f6ae8efc0fa40079e1475e97cbe9d1bd3f106a28d6af78a11d9f1bd565515e60", arm64: "633301e2e32f8a5ad54031aab4901eb00308bec677dd15faa2751e8f9dab5ca4" },
    ]);
    expect(KUBERNETES_PACKAGE_KEY_FINGERPRINT).toBe("DE15B14486CD377B9E876E1A234654DA9A296436");
  });
});

describe("what nodes may read of the run-time store", () => {
  it("is config/ and join/ only: never a CA (pki/), etcd's markers or the cluster-wide record", () => {
    const json = synthJson(SEED_1);
    const policy = Object.values(resources(json, "aws_iam_role_policy")).find((p) => /aws_iam_role\.nodes-/.test(String(p.role)));
    const statements = parsePolicy(String(policy?.policy)).Statement;
    const ssm = statements.filter((s) => s.Action.some((a) => a.startsWith("ssm:")));
    expect(ssm.flatMap((s) => s.Action)).toEqual(["ssm:GetParameter"]);
    expect(ssm.flatMap((s) => s.Resource).map((r) => r.replace(/^arn:aws:ssm:[^:]+:\*:parameter/, ""))).toEqual([
      "/kopsform/hacluster.example.com/config/*",
      "/kopsform/hacluster.example.com/join/*",
    ]);
    const kms = statements.filter((s) => s.Action.some((a) => a.startsWith("kms:")));
    expect(kms.map((s) => [s.Action, s.Condition])).toEqual([[["kms:Decrypt"], { StringEquals: { "kms:ViaService": "ssm.us-west-2.amazonaws.com" } }]]);
  });
});
