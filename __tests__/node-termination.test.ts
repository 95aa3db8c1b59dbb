/**
 * Node termination handling in the synthesized configuration: an encrypted queue that only this
 * cluster's EventBridge rules may write to, the rules kops makes, hooks on the node groups and none on
 * the masters, the managed tag on nodes only, and the queue's URL where the masters read it.
 */
import { Testing } from "cdktf";
import { TerraformStack } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { NodeTermination, terminationQueueName } from "../modules/node-termination";
import { SEED_1, SEED_3, TerraformJson, resources, synthJson } from "./helpers/cluster";
import { parseJsonencode, parsePolicy } from "./helpers/json-expression";

const NAME = "hacluster.example.com";
const QUEUE = "hacluster-example-com-nth";
const RULES = ["ASGLifecycle", "SpotInterruption", "RebalanceRecommendation", "InstanceStateChange", "InstanceScheduledChange"];
/** Terraform names are lower case; the rules' AWS names are kops's. */
const RULE_IDS = ["asg-lifecycle", "spot-interruption", "rebalance-recommendation", "instance-state-change", "instance-scheduled-change"];

describe("node termination handling of seed example 1", () => {
  let json: TerraformJson;

  beforeAll(() => {
    json = synthJson({ ...SEED_1, nodeGroups: [{ name: "gpu", minSize: 0, maxSize: 2 }] });
  });

  it("makes one encrypted queue that keeps events as long as a hook waits", () => {
    expect(resources(json, "aws_sqs_queue")).toEqual({
      [QUEUE]: expect.objectContaining({ name: QUEUE, message_retention_seconds: 300, sqs_managed_sse_enabled: true }),
    });
    expect(resources(json, "aws_sqs_queue")[QUEUE].tags).toMatchObject({ KubernetesCluster: NAME, [`kubernetes.io/cluster/${NAME}`]: "owned" });
  });

  it("admits only this cluster's EventBridge rules to the queue, and only over TLS", () => {
    const policy = parsePolicy(String(resources(json, "aws_sqs_queue_policy")[`${QUEUE}-policy`].policy));
    const allow = policy.Statement.filter((s) => s.Effect === "Allow");
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({
      Principal: { Service: "events.amazonaws.com" },
      Action: ["sqs:SendMessage"],
      Resource: [`\${aws_sqs_queue.${QUEUE}.arn}`],
      Condition: { ArnEquals: { "aws:SourceArn": RULE_IDS.map((r) => `\${aws_cloudwatch_event_rule.hacluster-example-com-${r}.arn}`) } },
    });
    expect(policy.Statement.filter((s) => s.Effect === "Deny")).toEqual([
      expect.objectContaining({ Principal: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    for (const s of policy.Statement) {
      expect(s.Action.some((a) => a.includes("*"))).toBe(false);
    }
  });

  it("sends the five kinds of events kops listens to into the queue; the lifecycle rule only for this cluster's node groups", () => {
    const rules = resources(json, "aws_cloudwatch_event_rule");
    expect(Object.keys(rules).sort()).toEqual(RULE_IDS.map((r) => `hacluster-example-com-${r}`).sort());
    expect(Object.values(rules).map((r) => r.name).sort()).toEqual(RULES.map((r) => `hacluster-example-com-${r}`).sort());
    const lifecycle = parseJsonencode(String(rules["hacluster-example-com-asg-lifecycle"].event_pattern));
    expect(lifecycle).toEqual({
      source: ["aws.autoscaling"],
      "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
      detail: { AutoScalingGroupName: ["${aws_autoscaling_group.nodes.name}", "${aws_autoscaling_group.gpu.name}"] },
    });
    expect(parseJsonencode(String(rules["hacluster-example-com-spot-interruption"].event_pattern))).toEqual({
      source: ["aws.ec2"],
      "detail-type": ["EC2 Spot Instance Interruption Warning"],
    });
    const targets = Object.values(resources(json, "aws_cloudwatch_event_target"));
    expect(targets.map((t) => `${t.rule} -> ${t.arn}`).sort()).toEqual(
      RULE_IDS.map((r) => `\${aws_cloudwatch_event_rule.hacluster-example-com-${r}.name} -> \${aws_sqs_queue.${QUEUE}.arn}`).sort(),
    );
  });

  it("holds terminating nodes of every node group for draining, and never the masters", () => {
    expect(resources(json, "aws_autoscaling_lifecycle_hook")).toEqual({
      "nodes-nth-lifecycle-hook": {
        name: "nodes-NTHLifecycleHook",
        autoscaling_group_name: "${aws_autoscaling_group.nodes.name}",
        lifecycle_transition: "autoscaling:EC2_INSTANCE_TERMINATING",
        heartbeat_timeout: 300,
        default_result: "CONTINUE",
      },
      "gpu-nth-lifecycle-hook": expect.objectContaining({ autoscaling_group_name: "${aws_autoscaling_group.gpu.name}", default_result: "CONTINUE" }),
    });
  });

  it("tags node instances for the handler, never the masters'", () => {
    const managed = Object.entries(resources(json, "aws_autoscaling_group")).map(([name, asg]) => {
      const tag = ((asg.tag ?? []) as { key: string; propagate_at_launch: boolean }[]).find((t) => t.key === "aws-node-termination-handler/managed");
      return [name, tag?.propagate_at_launch ?? "absent"];
    });
    expect(managed).toEqual(managed.map(([name]) => [name, String(name).startsWith("master-") ? "absent" : true]));
  });

  it("publishes the queue's URL under the cluster's config/ in SSM", () => {
    expect(resources(json, "aws_ssm_parameter")["config-node-termination-queue-url"]).toMatchObject({
      name: `/kopsform/${NAME}/config/node-termination-queue-url`,
      type: "String",
      value: `\${aws_sqs_queue.${QUEUE}.url}`,
    });
  });
});

describe("the queue", () => {
  it("uses a customer KMS key when given one", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "t");
    const asg = new AutoscalingGroup(stack, "nodes", { maxSize: 1, minSize: 1 });
    new NodeTermination(stack, "nth", {
      clusterName: NAME,
      groups: [{ name: "nodes", autoscalingGroup: asg }],
      kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/abc",
    });
    const json = JSON.parse(Testing.synth(stack)) as TerraformJson;
    const queue = Object.values(resources(json, "aws_sqs_queue"))[0];
    expect(queue.kms_master_key_id).toBe("arn:aws:kms:us-west-2:123456789012:key/abc");
    expect(queue.sqs_managed_sse_enabled).toBeUndefined();
  });

  it("keeps names within SQS's 80 and EventBridge's 64 characters for the longest cluster names", () => {
    const long = `${"a".repeat(60)}.example.com`;
    expect(terminationQueueName(long).length).toBeLessThanOrEqual(80);
    const json = synthJson({ ...SEED_3, name: long });
    for (const rule of Object.values(resources(json, "aws_cloudwatch_event_rule"))) {
      expect(String(rule.name).length).toBeLessThanOrEqual(64);
    }
  });
});
