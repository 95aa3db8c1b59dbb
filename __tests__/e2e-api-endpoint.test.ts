/**
 * The API's load balancers under ordinary changes to a cluster that exists (an as-if-applied state),
 * planned by the real Terraform CLI and aws provider offline: adding admin access or removing a master
 * replaces no load balancer (a replacement changes the API's DNS name, and deletion protection fails
 * the apply); where a change must replace one (a zone removed from the cluster), the plan summary
 * lists it as a danger with Terraform's reason and the attribute that forces it.
 */
import * as fs from "fs";
import { renderPlanSummary } from "../cli/plan-summary";
import { PlanJson, ResourceChange } from "../cli/terraform";
import { applyAsIf } from "./helpers/applied-state";
import { SEED_1, synthToDir, tempDir } from "./helpers/cluster";
import { planOffline } from "./helpers/terraform";

const NAME = "hacluster.example.com";
const SLUG = "hacluster-example-com";
const LB = `aws_lb.api-${SLUG}`;
const PUBLIC_LB = `aws_lb.api-public-${SLUG}`;
const ADMIN = { adminAccess: ["203.0.113.0/24"] };
/** Masters b and c removed the way the README says: their members retired. */
const ONE_MASTER = { masterZones: ["us-west-2a"], masterCount: 1, etcdMembers: ["a"], retiredEtcdMembers: ["b", "c"] };

/** A cluster that exists: synthesized from `fields` and applied as if, in its own directory. */
async function existing(fields: Record<string, unknown>): Promise<{ dir: string; stack: string }> {
  const dir = tempDir("e2e-api");
  const stack = (await synthToDir(dir, [fields]))[NAME];
  applyAsIf(stack);
  return { dir, stack };
}

/** Synthesizes `fields` over the existing cluster's configuration and plans it against its state. */
async function planChange(dir: string, fields: Record<string, unknown>): Promise<PlanJson> {
  const stack = (await synthToDir(dir, [fields]))[NAME];
  const { plan, result } = planOffline(stack, { refresh: false });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(2);
  return plan as PlanJson;
}

const change = (plan: PlanJson, address: string): ResourceChange | undefined =>
  (plan.resource_changes ?? []).find((c) => c.address === address);

/** Every load balancer, listener and target group the plan deletes (alone or in a replacement). */
function loadBalancerDeletes(plan: PlanJson): string[] {
  return (plan.resource_changes ?? [])
    .filter((c) => ["aws_lb", "aws_lb_listener", "aws_lb_target_group"].includes(c.type) && c.change.actions.includes("delete"))
    .map((c) => `${c.address} ${c.change.actions.join(",")}`);
}

describe("a private cluster with admin access (seed example 1 with adminAccess) that exists", () => {
  let dir: string;
  const WITH_ADMIN = { ...SEED_1, ...ADMIN };

  beforeAll(async () => {
    ({ dir } = await existing(WITH_ADMIN));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps both load balancers when masters are removed", async () => {
    const plan = await planChange(dir, { ...WITH_ADMIN, ...ONE_MASTER });
    expect(loadBalancerDeletes(plan)).toEqual([]);
    expect([change(plan, LB)?.change.actions, change(plan, PUBLIC_LB)?.change.actions]).toEqual([["no-op"], ["no-op"]]);
  });

  it("destroys only the internet-facing load balancer when admin access is removed, and the summary says so", async () => {
    const plan = await planChange(dir, SEED_1);
    expect(loadBalancerDeletes(plan).sort()).toEqual(
      [`${PUBLIC_LB} delete`, `aws_lb_listener.api-public-${SLUG}-443 delete`, `aws_lb_target_group.tcp-public-${SLUG} delete`].sort(),
    );
    expect(change(plan, LB)?.change.actions).toEqual(["no-op"]);
    const summary = renderPlanSummary([{ stack: NAME, plan }]);
    expect(summary.slice(0, summary.indexOf("<details>"))).toContain(
      `- **destroy** \`${PUBLIC_LB}\` (API load balancer; its DNS name changes, and deletion protection fails the apply unless allowApiLoadBalancerDeletion is true): \`delete_because_no_resource_config\``,
    );
  });

  it("must replace both load balancers when a zone leaves the cluster, and the summary says so with the reason", async () => {
    const plan = await planChange(dir, {
      ...WITH_ADMIN,
      ...ONE_MASTER,
      zones: ["us-west-2a", "us-west-2b"],
    });
    const summary = renderPlanSummary([{ stack: NAME, plan }]);
    const danger = summary.slice(0, summary.indexOf("<details><summary>All "));
    for (const address of [LB, PUBLIC_LB]) {
      const lb = change(plan, address) as ResourceChange;
      expect([address, lb.change.actions, lb.action_reason, lb.change.replace_paths]).toEqual([
        address,
        ["delete", "create"],
        "replace_because_cannot_update",
        [["subnets"]],
      ]);
      expect(danger).toContain(
        `- **replace** \`${address}\` (API load balancer; its DNS name changes, and deletion protection fails the apply unless allowApiLoadBalancerDeletion is true): \`replace_because_cannot_update\`; forced by \`subnets\``,
      );
    }
  });
});

describe("a public-topology cluster that exists", () => {
  let dir: string;
  const PUBLIC = { ...SEED_1, topology: "public" };

  beforeAll(async () => {
    ({ dir } = await existing(PUBLIC));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("gets an internet-facing load balancer beside its internal one when adminAccess is added: nothing replaced", async () => {
    const plan = await planChange(dir, { ...PUBLIC, ...ADMIN });
    expect(loadBalancerDeletes(plan)).toEqual([]);
    expect(change(plan, LB)?.change.actions).toEqual(["no-op"]);
    expect(change(plan, PUBLIC_LB)?.change.actions).toEqual(["create"]);
    // The masters register with the new target group in place; no danger for the reviewer to weigh.
    expect(change(plan, "aws_autoscaling_group.master-us-west-2a")?.change.actions).toEqual(["update"]);
    expect(renderPlanSummary([{ stack: NAME, plan }])).not.toMatch(/\[!CAUTION\]/);
  });
});
