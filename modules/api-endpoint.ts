/**
 * The Kubernetes API endpoint: a network load balancer (kops's default) across the master zones, a
 * TCP 443 listener forwarding to the masters, and, with a DNS zone, `api.NAME` as an alias record.
 */
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Construct } from "constructs";
import { LB_NAME_MAX, clusterSlug, limitedName } from "./names";

/** Props of {@link ApiEndpoint}. */
export interface ApiEndpointProps {
  readonly clusterName: string;
  readonly vpcId: string;
  /** Subnets of the master zones the load balancer sits in (utility when public, private when internal). */
  readonly subnetIds: readonly string[];
  /** An internal load balancer (kops `--api-loadbalancer-type internal`). @default false (internet-facing) */
  readonly internal?: boolean;
  /** The API load balancer's own security group. */
  readonly securityGroupId: string;
  /**
   * Refuse deletion of the load balancer in AWS (KSEC-LB-001). Tests and short-lived clusters turn it
   * off with the spec's `allowApiLoadBalancerDeletion`.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /** S3 bucket for access logs. @default none (no access logs; a documented scanner finding) */
  readonly accessLogsBucket?: string;
  /**
   * Where `api.NAME` goes: a hosted zone id, or a zone name looked up at plan time.
   * @default none (no DNS record; use the load balancer's own name)
   */
  readonly dnsZone?: { readonly id: string } | { readonly name: string };
  /** Whether a looked-up zone is private (kops `--dns private`). @default false */
  readonly privateDnsZone?: boolean;
}

/** The API load balancer, its target group and DNS. */
export class ApiEndpoint extends Construct {
  readonly loadBalancer: Lb;
  readonly targetGroup: LbTargetGroup;
  /** `api.NAME` when a DNS zone is given, else the load balancer's DNS name. */
  readonly hostname: string;

  constructor(scope: Construct, id: string, props: ApiEndpointProps) {
    super(scope, id);
    const slug = clusterSlug(props.clusterName);
    this.loadBalancer = new Lb(this, "load-balancer", {
      name: limitedName(`api-${slug}`, LB_NAME_MAX),
      loadBalancerType: "network",
      internal: props.internal ?? false,
      subnets: [...props.subnetIds],
      securityGroups: [props.securityGroupId],
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: props.deletionProtection ?? true,
      accessLogs: props.accessLogsBucket ? { bucket: props.accessLogsBucket, prefix: `api/${props.clusterName}`, enabled: true } : undefined,
      tags: { Name: `api.${props.clusterName}` },
    });
    this.loadBalancer.overrideLogicalId(`api-${slug}`);

    this.targetGroup = new LbTargetGroup(this, "target-group", {
      name: limitedName(`tcp-${slug}`, LB_NAME_MAX),
      port: 443,
      protocol: "TCP",
      vpcId: props.vpcId,
      targetType: "instance",
      // With client IP preservation, a master reaching the API through the load balancer and routed to
      // itself would see its own address as source and drop the reply: connections time out.
      preserveClientIp: "false",
      deregistrationDelay: "30",
      healthCheck: { protocol: "TCP", port: "443", interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      tags: { Name: `tcp.${props.clusterName}` },
    });
    this.targetGroup.overrideLogicalId(`tcp-${slug}`);

    const listener = new LbListener(this, "listener", {
      loadBalancerArn: this.loadBalancer.arn,
      port: 443,
      // TCP pass-through: TLS ends at kube-apiserver, end to end.
      protocol: "TCP",
      defaultAction: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
      tags: { Name: `api.${props.clusterName}-443` },
    });
    listener.overrideLogicalId(`api-${slug}-443`);

    this.hostname = this.loadBalancer.dnsName;
    if (props.dnsZone) {
      const zoneId =
        "id" in props.dnsZone
          ? props.dnsZone.id
          : new DataAwsRoute53Zone(this, `zone-${clusterSlug(props.dnsZone.name)}`, {
              name: props.dnsZone.name,
              privateZone: props.privateDnsZone ?? false,
            }).zoneId;
      const record = new Route53Record(this, `api-${slug}`, {
        zoneId,
        name: `api.${props.clusterName}`,
        type: "A",
        alias: { name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: false },
      });
      this.hostname = record.fqdn;
    }
  }
}
