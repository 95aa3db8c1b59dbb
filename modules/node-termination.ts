/**
 * Node termination handling, as kops does it: the node groups get a lifecycle hook that holds a
 * terminating instance, EventBridge sends the events that announce a termination (the hook, spot
 * interruption, rebalance recommendation, instance state change, scheduled maintenance) to an SQS
 * queue, and the termination handler (an add-on, in queue mode on the masters) drains the node, then
 * completes the hook.
 *
 * Masters get no hook: the handler never drains them (their instances lack the managed tag), and a
 * hook would only keep a dying master, and its etcd volumes, in place longer. A terminating master's
 * OS shutdown stops etcd and unmounts the volumes; EC2 detaches them once the instance stops, and the
 * replacement's attach loop waits for that.
 */
import { Fn } from "cdktf";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingLifecycleHook } from "@cdktf/provider-aws/lib/autoscaling-lifecycle-hook";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Construct } from "constructs";
import { clusterSlug, limitedName } from "./names";

/** The tag that marks the instances the termination handler may drain (the node groups', never the masters'). */
export const NTH_MANAGED_TAG = "aws-node-termination-handler/managed";

/**
 * Seconds a terminating node is held for draining before its termination goes on (the handler
 * completes the hook as soon as the node is drained).
 * @default 300, as kops
 */
export const DEFAULT_NTH_HEARTBEAT_TIMEOUT_SECONDS = 300;

/** Seconds the queue keeps an event: an event older than the hook's timeout is of no use. @default 300, as kops */
export const NTH_MESSAGE_RETENTION_SECONDS = 300;

/** SQS queue names allow 80 characters; EventBridge rule names 64. */
const QUEUE_NAME_MAX = 80;
const RULE_NAME_MAX = 64;

/** The queue's name: `hacluster-example-com-nth`, as kops names it. */
export function terminationQueueName(clusterName: string): string {
  return limitedName(`${clusterSlug(clusterName)}-nth`, QUEUE_NAME_MAX);
}

/** The SSM parameter the masters read the queue's URL from (the run-time contract's `config/`). */
export function terminationQueueParameter(clusterName: string): string {
  return `/kopsform/${clusterName}/config/node-termination-queue-url`;
}

/** `ASGLifecycle` -> `asg-lifecycle`, `SpotInterruption` -> `spot-interruption`. */
function kebab(name: string): string {
  return name.replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2").replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
}

/** One event source, as kops lists them. */
interface TerminationEvent {
  readonly name: string;
  readonly pattern: Record<string, unknown>;
}

/** A node group whose instances the handler drains. */
export interface DrainedGroup {
  /** The kops instance-group name (`nodes`), which names the hook. */
  readonly name: string;
  readonly autoscalingGroup: AutoscalingGroup;
}

/** Props of {@link NodeTermination}. */
export interface NodeTerminationProps {
  readonly clusterName: string;
  /** The node groups (never the masters). */
  readonly groups: readonly DrainedGroup[];
  /**
   * A KMS key for the queue's encryption at rest.
   * @default none: SSE with SQS-managed keys (EventBridge can write to it without a key policy)
   */
  readonly kmsKeyArn?: string;
  /** @default {@link DEFAULT_NTH_HEARTBEAT_TIMEOUT_SECONDS} */
  readonly heartbeatTimeoutSeconds?: number;
}

/** The queue, the rules that feed it, and the node groups' hooks. */
export class NodeTermination extends Construct {
  readonly queue: SqsQueue;
  /** config/node-termination-queue-url, which the masters' add-on step reads. */
  readonly parameter: SsmParameter;
  readonly rules: readonly CloudwatchEventRule[];

  constructor(scope: Construct, id: string, props: NodeTerminationProps) {
    super(scope, id);
    const slug = clusterSlug(props.clusterName);
    const queueName = terminationQueueName(props.clusterName);
    this.queue = new SqsQueue(this, queueName, {
      name: queueName,
      messageRetentionSeconds: NTH_MESSAGE_RETENTION_SECONDS,
      // Encrypted at rest: with the given key, else with SQS-managed keys.
      ...(props.kmsKeyArn ? { kmsMasterKeyId: props.kmsKeyArn } : { sqsManagedSseEnabled: true }),
      tags: { Name: queueName },
    });

    const events: TerminationEvent[] = [
      {
        // Only this cluster's node groups: the masters have no hook, other clusters' groups are theirs.
        name: "ASGLifecycle",
        pattern: {
          source: ["aws.autoscaling"],
          "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
          detail: { AutoScalingGroupName: props.groups.map((g) => g.autoscalingGroup.name) },
        },
      },
      { name: "SpotInterruption", pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] } },
      { name: "RebalanceRecommendation", pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] } },
      { name: "InstanceStateChange", pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] } },
      {
        name: "InstanceScheduledChange",
        pattern: {
          source: ["aws.health"],
          "detail-type": ["AWS Health Event"],
          detail: { service: ["EC2"], eventTypeCategory: ["scheduledChange"] },
        },
      },
    ];
    this.rules = events.map((event) => {
      // AWS names as kops's (`hacluster-example-com-ASGLifecycle`); Terraform names in lower case.
      const ruleName = limitedName(`${slug}-${event.name}`, RULE_NAME_MAX);
      const id = `${slug}-${kebab(event.name)}`;
      const rule = new CloudwatchEventRule(this, id, {
        name: ruleName,
        description: `${event.name} events for the node termination handler of ${props.clusterName}`,
        eventPattern: Fn.jsonencode(event.pattern),
        tags: { Name: ruleName },
      });
      new CloudwatchEventTarget(this, `${id}-target`, {
        rule: rule.name,
        targetId: `${event.name}-Target`,
        arn: this.queue.arn,
      });
      return rule;
    });

    // Only this cluster's EventBridge rules may send to the queue, and only over TLS.
    new SqsQueuePolicy(this, `${queueName}-policy`, {
      queueUrl: this.queue.url,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EventBridgeRulesOfThisCluster",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: this.queue.arn,
            Condition: { ArnEquals: { "aws:SourceArn": this.rules.map((r) => r.arn) } },
          },
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
            Resource: this.queue.arn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });

    for (const group of props.groups) {
      const hookName = `${group.name}-NTHLifecycleHook`;
      new AutoscalingLifecycleHook(this, `${group.name}-nth-lifecycle-hook`, {
        name: hookName,
        autoscalingGroupName: group.autoscalingGroup.name,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        heartbeatTimeout: props.heartbeatTimeoutSeconds ?? DEFAULT_NTH_HEARTBEAT_TIMEOUT_SECONDS,
        // If the handler never answers, the termination goes on: a stuck hook must not keep instances.
        defaultResult: "CONTINUE",
      });
    }

    this.parameter = new SsmParameter(this, "config-node-termination-queue-url", {
      name: terminationQueueParameter(props.clusterName),
      type: "String",
      value: this.queue.url,
      description: `The node termination handler's queue of ${props.clusterName}`,
    });
  }
}
