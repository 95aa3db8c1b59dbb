/**
 * The pull request summary: from plans the real Terraform CLI makes offline (fresh, and against an
 * as-if-applied state for replacements and deletes), and from hand-built plans for the size limit.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  GITHUB_COMMENT_LIMIT,
  changedAttributes,
  countChanges,
  dangerousChanges,
  normalizePlan,
  removalFindsNothing,
  renderPlanSummary,
  stackNameOf,
} from "../cli/plan-summary";
import { destroyFromState, usesCloudBlock } from "../cli/plan";
import { summarizeFiles } from "../cli/summarize";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { UserError } from "../spec/problems";
import { TestStackBody, appliedTestNetwork, testNetwork, writeTestStack } from "./helpers/applied-state";
import { planOffline } from "./helpers/terraform";

const CLUSTER = "summary.example.com";

/** The test network of this file's cluster (see testNetwork). */
function network(options: Parameters<typeof testNetwork>[1] = {}): TestStackBody {
  return testNetwork(CLUSTER, options);
}

/** Collects what a command prints. */
function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

describe("the summary of real plans", () => {
  let root: string;
  let stackDir: string;
  let fresh: PlanJson;

  beforeAll(() => {
    // The cluster as if its fresh plan had been applied; each test below plans against it.
    ({ root, stackDir, fresh } = appliedTestNetwork(CLUSTER));
  });

  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("of a fresh plan names the stack and says how many resources will be added", () => {
    const text = renderPlanSummary([{ stack: CLUSTER, plan: fresh }]);
    expect(text.startsWith(`<!-- kopsform-plan: ${CLUSTER} -->\n`)).toBe(true);
    expect(text).toContain(`\`${CLUSTER}\``);
    expect(text).toContain("5 to add, 0 to change, 0 to destroy, 0 to replace.");
    expect(text).not.toContain("[!CAUTION]");
    expect(text).toContain("- `aws_vpc.main`: create");
    expect(text).toContain("- `aws_ebs_volume.a-etcd-main`: create");
  });

  it("of a VPC cidr change against an as-if-applied cluster puts the VPC replacement in the danger section, above the details", () => {
    writeTestStack(root, CLUSTER, network({ cidr: "10.0.0.0/16" }));
    try {
      const { plan, result } = planOffline(stackDir, { refresh: false });
      expect(result.status).toBe(2);
      // VPC, subnet (new vpc_id), group (new vpc_id), rule (new cidr and group): all replaced, nothing else.
      expect(countChanges(plan!)).toEqual({ add: 0, change: 0, destroy: 0, replace: 4 });
      expect(dangerousChanges(plan!).map((d) => d.address)).toEqual(["aws_subnet.us-west-2a", "aws_vpc.main"]);

      const text = renderPlanSummary([{ stack: "fallback", plan: plan! }]);
      expect(text).toContain("0 to add, 0 to change, 0 to destroy, 4 to replace.");
      const vpcLine = text.split("\n").find((line) => line.includes("`aws_vpc.main`") && line.includes("(VPC)"));
      expect(vpcLine).toBe(
        "- **replace** `aws_vpc.main` (VPC): `replace_because_cannot_update`; forced by `cidr_block`",
      );
      const danger = text.indexOf("[!CAUTION]");
      const details = text.indexOf("<details>");
      expect(danger).toBeGreaterThan(text.indexOf("4 to replace"));
      expect(details).toBeGreaterThan(text.indexOf(vpcLine!));
      expect(text.slice(details)).toContain("- `aws_security_group.masters`: replace");
      expect(text.slice(danger, details)).not.toContain("aws_security_group.masters");
    } finally {
      writeTestStack(root, CLUSTER, network());
    }
  });

  it("flags the destroy of an etcd volume whose block was removed", () => {
    // Terraform plans it even with prevent_destroy: the protection went with the block.
    writeTestStack(root, CLUSTER, network({ volume: false }));
    try {
      const { plan, result } = planOffline(stackDir, { refresh: false });
      expect(result.status).toBe(2);
      expect(countChanges(plan!)).toEqual({ add: 0, change: 0, destroy: 1, replace: 0 });
      expect(renderPlanSummary([{ stack: "fallback", plan: plan! }])).toContain(
        "- **destroy** `aws_ebs_volume.a-etcd-main` (etcd volume): `delete_because_no_resource_config`\n",
      );
    } finally {
      writeTestStack(root, CLUSTER, network());
    }
  });

  it("is what summarizeFiles prints for the plan's JSON file", () => {
    const file = path.join(root, "fresh.json");
    fs.writeFileSync(file, JSON.stringify(fresh));
    const { out, err, io } = captureIo();
    expect(summarizeFiles([file], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join("\n")).toBe(renderPlanSummary([{ stack: CLUSTER, plan: normalizePlan(fresh) }]).trimEnd());
  });

  it("names the attributes of an update: a tag-only change to an etcd volume reads as such", () => {
    const body = network();
    const volumes = body.resource.aws_ebs_volume as Record<string, Record<string, unknown>>;
    volumes["a-etcd-main"].tags = { Team: "Dev" };
    writeTestStack(root, CLUSTER, body);
    try {
      const { plan, result } = planOffline(stackDir, { refresh: false });
      expect(result.status).toBe(2);
      expect(countChanges(plan!)).toEqual({ add: 0, change: 1, destroy: 0, replace: 0 });
      const text = renderPlanSummary([{ stack: CLUSTER, plan: normalizePlan(plan!) }]);
      expect(text).toContain('- `aws_ebs_volume.a-etcd-main`: update, tags only: `tags["Team"]` and `tags_all["Team"]`\n');
    } finally {
      writeTestStack(root, CLUSTER, network());
    }
  });
});

/** A hand-built resource change. */
function change(
  address: string,
  actions: string[],
  extra: Partial<ResourceChange> & { replace_paths?: unknown } = {},
): ResourceChange {
  const [type, name] = address.split(".");
  const { replace_paths, ...rest } = extra;
  return {
    address,
    mode: "managed",
    type,
    name,
    change: { actions, before: null, after: null, ...(replace_paths ? { replace_paths } : {}) },
    ...rest,
  } as ResourceChange;
}

function planOf(changes: ResourceChange[], clusterName?: string): PlanJson {
  return {
    format_version: "1.2",
    resource_changes: changes,
    planned_values: clusterName ? { outputs: { cluster_name: { value: clusterName } } } : {},
  };
}

describe("countChanges", () => {
  it("counts a replacement once, either way round, and ignores no-ops and data source reads", () => {
    const plan = planOf([
      change("aws_vpc.a", ["create"]),
      change("aws_vpc.b", ["update"]),
      change("aws_vpc.c", ["delete"]),
      change("aws_vpc.d", ["delete", "create"]),
      change("aws_vpc.e", ["create", "delete"]),
      change("aws_vpc.f", ["no-op"]),
      { ...change("aws_ami.g", ["read"]), mode: "data" },
    ]);
    expect(countChanges(plan)).toEqual({ add: 1, change: 1, destroy: 1, replace: 2 });
  });

  it('renders "No changes." when only no-ops and reads are planned', () => {
    const plan = planOf(
      [change("aws_vpc.f", ["no-op"]), { ...change("aws_ami.g", ["read"]), mode: "data" }],
      "quiet.example.com",
    );
    const text = renderPlanSummary([{ stack: "x", plan }]);
    expect(text).toContain("No changes.");
    expect(text).not.toContain("to add");
    expect(text).not.toContain("<details>");
  });
});

describe("dangerousChanges", () => {
  it("flags destroys and replacements of what holds state or availability, with reason and forcing attributes", () => {
    const plan = planOf([
      change("aws_ebs_volume.a-etcd-main-x", ["delete", "create"], {
        action_reason: "replace_because_cannot_update",
        replace_paths: [["availability_zone"], ["tags", "k8s.io/role/master"]],
      }),
      change("aws_autoscaling_group.master-us-west-2a", ["delete"], {
        action_reason: "delete_because_no_resource_config",
      }),
      change("aws_launch_template.master-us-west-2b", ["create", "delete"]),
      change("aws_autoscaling_group.nodes", ["delete"]),
      change("aws_nat_gateway.a", ["delete"]),
      change("aws_lb.api", ["delete", "create"]),
      change("aws_iam_role.masters", ["delete"]),
      change("aws_vpc.main", ["update"]),
      change("aws_security_group.masters", ["delete"]),
    ]);
    expect(dangerousChanges(plan)).toEqual([
      {
        address: "aws_ebs_volume.a-etcd-main-x",
        type: "aws_ebs_volume",
        action: "replace",
        what: "etcd volume",
        reason: "replace_because_cannot_update",
        forcedBy: ["availability_zone", 'tags["k8s.io/role/master"]'],
      },
      {
        address: "aws_autoscaling_group.master-us-west-2a",
        type: "aws_autoscaling_group",
        action: "destroy",
        what: "master auto-scaling group",
        reason: "delete_because_no_resource_config",
        forcedBy: [],
      },
      {
        address: "aws_launch_template.master-us-west-2b",
        type: "aws_launch_template",
        action: "replace",
        what: "master launch template",
        reason: undefined,
        forcedBy: [],
      },
      { address: "aws_nat_gateway.a", type: "aws_nat_gateway", action: "destroy", what: "NAT gateway", reason: undefined, forcedBy: [] },
      { address: "aws_lb.api", type: "aws_lb", action: "replace", what: "API load balancer; its DNS name changes, and deletion protection fails the apply unless allowApiLoadBalancerDeletion is true", reason: undefined, forcedBy: [] },
      { address: "aws_iam_role.masters", type: "aws_iam_role", action: "destroy", what: "IAM role", reason: undefined, forcedBy: [] },
    ]);
  });

  it("knows a master's ASG by its AWS name too", () => {
    const asg = change("aws_autoscaling_group.a", ["delete"]);
    const plan = planOf([
      { ...asg, change: { ...asg.change, before: { name: "master-us-west-2a.masters.x.example.com" } } },
    ]);
    expect(dangerousChanges(plan).map((d) => d.what)).toEqual(["master auto-scaling group"]);
  });
});

describe("stackNameOf", () => {
  it("takes the cluster_name output, else the fallback", () => {
    expect(stackNameOf(planOf([], "a.example.com"), "file")).toBe("a.example.com");
    expect(stackNameOf(planOf([]), "file")).toBe("file");
  });
});

describe("the comment size limit", () => {
  /** A plan with `count` plain changes after a handful of dangerous ones. */
  function hugePlan(cluster: string, count: number): PlanJson {
    const dangerous = [
      change("aws_ebs_volume.a-etcd-main", ["delete"], { action_reason: "delete_because_no_resource_config" }),
      change("aws_ebs_volume.a-etcd-events", ["delete"], { action_reason: "delete_because_no_resource_config" }),
      change("aws_vpc.main", ["delete", "create"], {
        action_reason: "replace_because_cannot_update",
        replace_paths: [["cidr_block"]],
      }),
    ];
    const plain = Array.from({ length: count }, (_, i) =>
      change(`aws_security_group_rule.node-to-master-tcp-${String(i).padStart(5, "0")}-with-a-long-descriptive-name`, [
        "create",
      ]),
    );
    return planOf([...plain.slice(0, count / 2), ...dangerous, ...plain.slice(count / 2)], cluster);
  }

  it("cuts only the list of all changes, saying how many entries it left out", () => {
    const text = renderPlanSummary([{ stack: "x", plan: hugePlan("big.example.com", 5000) }]);
    expect(text.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(text.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 500);
    expect(text).toContain("5000 to add, 0 to change, 2 to destroy, 1 to replace.");
    expect(text).toContain(
      "- **destroy** `aws_ebs_volume.a-etcd-main` (etcd volume): `delete_because_no_resource_config`",
    );
    expect(text).toContain("- **destroy** `aws_ebs_volume.a-etcd-events` (etcd volume)");
    expect(text).toContain(
      "- **replace** `aws_vpc.main` (VPC): `replace_because_cannot_update`; forced by `cidr_block`",
    );
    const shown = text.split("\n").filter((line) => /^- `.*`: (create|destroy|replace)$/.test(line)).length;
    const omitted = Number(/\.\.\. (\d+) more changes left out/.exec(text)?.[1]);
    expect(shown).toBeGreaterThan(100);
    expect(shown + omitted).toBe(5003);
    expect(text.trimEnd().endsWith("</details>")).toBe(true);
  });

  it("holds for several stacks together, keeping every stack's counts and dangers", () => {
    const text = renderPlanSummary([
      { stack: "a.example.com", plan: hugePlan("a.example.com", 3000) },
      { stack: "b.example.com", plan: hugePlan("b.example.com", 3000) },
    ]);
    expect(text.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    for (const cluster of ["a.example.com", "b.example.com"]) {
      const section = text.slice(text.indexOf(`<!-- kopsform-plan: ${cluster} -->`));
      expect(section).toContain("3000 to add, 0 to change, 2 to destroy, 1 to replace.");
      expect(section).toContain("- **replace** `aws_vpc.main` (VPC)");
    }
  });
});

describe("summarizeFiles", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-summarize-test-"));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a file that is not a plan's JSON, naming it and the fix, and prints nothing", () => {
    const state = path.join(dir, "terraform.tfstate.json");
    fs.writeFileSync(state, JSON.stringify({ format_version: "1.0", terraform_version: "1.11.4", values: {} }));
    const binary = path.join(dir, "plan.tfplan");
    fs.writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00]));
    const { out, io } = captureIo();
    let error: unknown;
    try {
      summarizeFiles([state, binary, path.join(dir, "missing.json")], io);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    const lines = (error as UserError).lines;
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(`^${state.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*not a Terraform plan.*terraform show -json`),
    );
    expect(lines[1]).toMatch(/plan\.tfplan: not JSON.*terraform show -json/);
    expect(lines[2]).toMatch(/missing\.json: cannot read the file \(ENOENT\)/);
    expect(out).toEqual([]);
  });

  it("names a plan without cluster_name after its file", () => {
    const file = path.join(dir, "prod.json");
    fs.writeFileSync(file, JSON.stringify(planOf([change("aws_vpc.main", ["create"])])));
    const { out, io } = captureIo();
    summarizeFiles([file], io);
    expect(out.join("\n")).toMatch(/^<!-- kopsform-plan: prod -->\n/);
  });
});

describe("changedAttributes", () => {
  it("names top-level attributes and, for maps, the keys that change; unknown values count as changed", () => {
    const c = change("aws_instance.x", ["update"]);
    const update = {
      ...c,
      change: {
        actions: ["update"],
        before: { instance_type: "t3.small", tags: { Team: "Dev", Keep: "x" }, tags_all: { Team: "Dev", Keep: "x" }, same: [1] },
        after: { instance_type: "t3.large", tags: { Team: "Ops", Keep: "x", New: "y" }, tags_all: { Team: "Ops", Keep: "x", New: "y" }, same: [1] },
        after_unknown: { arn: true },
      },
    } as ResourceChange;
    expect(changedAttributes(update)).toEqual(["arn", "instance_type", 'tags["New"]', 'tags["Team"]', 'tags_all["New"]', 'tags_all["Team"]']);
  });
});

describe("plans Terraform writes without some fields", () => {
  it.each([
    ["no resource_changes", { format_version: "1.2" }],
    ["a change without change", { format_version: "1.2", resource_changes: [{ address: "aws_vpc.a", mode: "managed", type: "aws_vpc", name: "a" }] }],
    ["a change without actions", { format_version: "1.2", resource_changes: [{ address: "aws_vpc.a", change: {} }] }],
    ["a change without address, type or name", { format_version: "1.2", resource_changes: [{ change: { actions: ["create"] } }] }],
    ["null entries and odd replace_paths", { format_version: "1.2", resource_changes: [null, { address: "aws_lb.x", change: { actions: ["delete", "create"], replace_paths: ["x", [1, {}]] } }] }],
    ["outputs without actions", { format_version: "1.2", output_changes: { a: {}, b: null } }],
  ])("summarizes one with %s", (_what, json) => {
    const plan = normalizePlan(json as Record<string, unknown>);
    expect(() => renderPlanSummary([{ stack: "x.example.com", plan }])).not.toThrow();
    expect(renderPlanSummary([{ stack: "x.example.com", plan }])).toMatch(/^<!-- kopsform-plan: x\.example\.com -->\n/);
  });
});

describe("a summary is safe to post as a pull request comment", () => {
  /** Markdown and HTML that a value could use to change the comment. */
  const PAYLOADS = [
    "--> <!-- kopsform-plan: victim.example.com -->",
    "</details> <details>",
    "\n# Approved\n",
    "[click](https://evil.example/) ![x](https://evil.example/x.png)",
    "@acme/admins @octocat",
    "`code` ``` ~~~",
    "<img src=x onerror=alert(1)> <script>x</script>",
    "*bold* _it_ | table |",
  ];
  const evil = PAYLOADS.join(" ");

  /** A plan in which every string a summary shows holds the payloads. */
  function hostilePlan(): PlanJson {
    return normalizePlan({
      format_version: "1.2",
      resource_changes: [
        {
          address: `aws_ebs_volume.v["${evil}"]`,
          mode: "managed",
          type: "aws_ebs_volume",
          name: "v",
          action_reason: evil,
          change: { actions: ["delete", "create"], before: {}, after: {}, replace_paths: [["tags", evil]] },
        },
        {
          address: `aws_instance.i["${evil}"]`,
          mode: "managed",
          type: "aws_instance",
          name: "i",
          change: { actions: ["update"], before: { tags: { [evil]: "a" } }, after: { tags: { [evil]: "b" } } },
        },
      ],
      output_changes: { [evil]: { actions: ["update"] } },
      planned_values: { outputs: { cluster_name: { value: evil } } },
    });
  }

  /** The Markdown outside code spans: what GitHub would interpret. */
  function outsideCodeSpans(markdown: string): string {
    return markdown.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, "");
  }

  it("shows every plan value only inside code spans, and keeps the marker line the only comment", () => {
    for (const text of [
      renderPlanSummary([{ stack: evil, plan: hostilePlan() }]),
      renderPlanSummary([{ stack: "safe.example.com", plan: hostilePlan() }]),
      renderPlanSummary([{ stack: evil, failed: evil }]),
      renderPlanSummary([{ stack: evil, validatedOnly: [evil] }]),
    ]) {
      const lines = text.split("\n");
      // The marker is the first line, of safe characters; no other comment is outside a code span.
      expect(lines[0]).toMatch(/^<!-- kopsform-plan: [A-Za-z0-9._-]+ -->$/);
      const outside = outsideCodeSpans(lines.slice(1).join("\n"));
      for (const forbidden of ["-->", "<!--", "](", "@acme", "@octocat", "<img", "<script", "# Approved", "*bold*", "| table"]) {
        expect({ forbidden, found: outside.includes(forbidden) }).toEqual({ forbidden, found: false });
      }
      expect((outside.match(/<\/?details>/g) ?? []).length).toBeLessThanOrEqual(2);
      // Every line break a value held is shown as \u000a inside its code span, never kept.
      expect(lines.some((line) => line === "# Approved")).toBe(false);
    }
  });

  it("names a plan from summarize by its cluster_name output, its marker made of safe characters", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-summarize-hostile-"));
    const file = path.join(dir, "plan.json");
    fs.writeFileSync(file, JSON.stringify(hostilePlan()));
    const { out, io } = captureIo();
    summarizeFiles([file], io);
    expect(out.join("\n").split("\n")[0]).toMatch(/^<!-- kopsform-plan: [A-Za-z0-9._-]+ -->$/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a cluster whose spec is removed", () => {
  const deleteOf = (address: string, type: string) => ({
    address,
    mode: "managed",
    type,
    name: address.split(".")[1],
    change: { actions: ["delete"], before: {}, after: null },
  });

  it("shows what destroying it would do, the etcd volumes as danger, under a refusal", () => {
    const destroy = { resource_changes: [deleteOf("aws_ebs_volume.a-etcd-main", "aws_ebs_volume"), deleteOf("aws_vpc.a", "aws_vpc")] } as unknown as PlanJson;
    expect(removalFindsNothing(destroy)).toBe(false);
    const text = renderPlanSummary([{ stack: "a.example.com", specRemoved: true, destroy }]);
    expect(text).toContain("**0 to add, 0 to change, 2 to destroy, 0 to replace.**");
    expect(text).toContain("- **destroy** `aws_ebs_volume.a-etcd-main`");
    expect(text).toContain("Refused: this cluster's spec is removed, but the cluster still exists; above is what destroying it would do.");
    expect(text).not.toContain("already deleted");
  });

  it("in HCP Terraform, is read from the state (no run is started there), every managed instance a delete", () => {
    const instance = (attributes: Record<string, unknown>, index_key?: unknown) => ({ attributes, ...(index_key === undefined ? {} : { index_key }) });
    const state = {
      version: 4,
      resources: [
        { mode: "managed", type: "aws_ebs_volume", name: "a-etcd-main", instances: [instance({ id: "vol-1" })] },
        { mode: "managed", type: "aws_subnet", name: "a", instances: [instance({ id: "subnet-1" }, "us-west-2a"), instance({ id: "subnet-2" }, 1)] },
        { mode: "data", type: "aws_ami", name: "x", instances: [instance({ id: "ami-1" })] },
      ],
    };
    const destroy = destroyFromState(state);
    expect((destroy.resource_changes ?? []).map((c) => `${c.address} ${c.change.actions.join(",")}`)).toEqual([
      "aws_ebs_volume.a-etcd-main delete",
      'aws_subnet.a["us-west-2a"] delete',
      "aws_subnet.a[1] delete",
    ]);
    expect(countChanges(destroy).destroy).toBe(3);
    expect(renderPlanSummary([{ stack: "a.example.com", specRemoved: true, destroy }])).toContain("- **destroy** `aws_ebs_volume.a-etcd-main`");
    for (const nothing of [{}, { resources: [] }, null, { resources: "x" }]) {
      expect(removalFindsNothing(destroyFromState(nothing))).toBe(true);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kopsform-cloud-"));
    try {
      const config = (file: string, text: string) => {
        fs.rmSync(path.join(dir, "cdk.tf.json"), { force: true });
        fs.rmSync(path.join(dir, "cdk.tf"), { force: true });
        fs.writeFileSync(path.join(dir, file), text);
        return usesCloudBlock(dir);
      };
      expect(config("cdk.tf.json", JSON.stringify({ terraform: { cloud: { organization: "o" } } }))).toBe(true);
      expect(config("cdk.tf.json", JSON.stringify({ terraform: { backend: { s3: {} } }, resource: { x: { cloud: {} } } }))).toBe(false);
      expect(config("cdk.tf", 'terraform {\n  cloud {\n    organization = "o"\n  }\n}\n')).toBe(true);
      expect(config("cdk.tf", 'terraform {\n  backend "s3" {\n    key = "cloud {"\n  }\n}\n')).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says it is already deleted only when its destroy plan changes nothing", () => {
    const empty = { resource_changes: [] } as unknown as PlanJson;
    const onlyData = { resource_changes: [{ ...deleteOf("data.aws_ami.x", "aws_ami"), mode: "data", change: { actions: ["read"] } }] } as unknown as PlanJson;
    for (const destroy of [empty, onlyData, {} as PlanJson]) {
      expect(removalFindsNothing(destroy)).toBe(true);
      const text = renderPlanSummary([{ stack: "a.example.com", specRemoved: true, destroy }]);
      expect(text).toContain("This cluster's spec is removed, and its state holds nothing: the cluster is already deleted.");
      expect(text).not.toMatch(/Refused|to destroy/);
    }
  });
});

describe("stacks that were not planned", () => {
  it("say so, never 'No changes'", () => {
    const validated = renderPlanSummary([{ stack: "a.example.com", validatedOnly: ["the image lookup data.aws_ami.x"] }]);
    expect(validated).toContain("Validated, not planned: planning this stack needs AWS for `the image lookup data.aws_ami.x`");
    const failed = renderPlanSummary([{ stack: "a.example.com", failed: "Error: Unsupported argument" }]);
    expect(failed).toContain("Not planned: Terraform could not plan this stack (`Error: Unsupported argument`)");
    const removed = renderPlanSummary([{ stack: "a.example.com", specRemoved: true, unknown: "its local state x does not exist here" }]);
    expect(removed).toContain(
      "Refused: this cluster's spec is removed, and kopsform could not tell whether the cluster still exists (`its local state x does not exist here`)",
    );
    for (const text of [validated, failed, removed]) {
      expect(text).not.toContain("No changes");
      expect(text.startsWith("<!-- kopsform-plan: a.example.com -->\n")).toBe(true);
    }
  });
});
