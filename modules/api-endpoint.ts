/**
 * The Kubernetes API endpoint: network load balancers (kops's default type) forwarding TCP 443 to the
 * masters, and, with a DNS zone, `api.NAME` and `api.internal.NAME` as alias records.
 *
 * Two load balancers, with one job each:
 * - the **internal** one (`aws_lb.api-<cluster>`) always exists. It is what the cluster's own members,
 *   the bastion and networks routed into the VPC (VPN, peering) reach, at private addresses, so that
 *   the masters' and nodes' security-group references admit them. `api.internal.NAME` points to it.
 * - the **internet-facing** one (`aws_lb.api-public-<cluster>`) exists when the API is to be reached
 *   from the internet (`adminAccess` given, or `apiLoadBalancerType: public`); `api.NAME` points to it.
 *   Traffic to it comes from public addresses (the client's, a NAT gateway's, an instance's own public
 *   address), which no security-group reference matches: in public topology, where members have only
 *   their own ephemeral public addresses, nothing could admit them. So members never depend on it.
 *
 * Keeping the internal load balancer whatever the admin access also keeps an ordinary change from
 * replacing it: a network load balancer's scheme (`internal`) cannot change in place, so switching one
 * load balancer between internal and internet-facing would replace it (and its DNS name), which its
 * deletion protection makes the apply fail on. Adding or removing admin access now adds or removes the
 * internet-facing one only.
 *
 * Both sit in a subnet of every zone of the cluster, as kops places them, not only the master zones:
 * the aws provider replaces a network load balancer whose subnets shrink (AWS cannot remove a subnet
 * from one), so removing a master, or moving masters between zones, must not change its subnets.
 * Adding a zone adds a subnet in place; removing a zone from the cluster replaces them.
 */
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { Construct } from "constructs";
import { LB_NAME_MAX, apiLoadBalancerId, clusterSlug, limitedName } from "./names";

/** Props of {@link ApiEndpoint}. */
export interface ApiEndpointProps {
  readonly clusterName: string;
  readonly vpcId: string;
  /**
   * Subnets of the internal load balancer, one in every zone of the cluster: the subnets the
   * instances run in (private ones, or public ones in public topology).
   */
  readonly internalSubnetIds: readonly string[];
  /**
   * Subnets of an internet-facing load balancer, one in every zone of the cluster (utility subnets, or
   * public ones in public topology). Given, the API is also reachable from the internet.
   * @default none (internal only, kops `--api-loadbalancer-type internal`)
   */
  readonly publicSubnetIds?: readonly string[];
  /** The API load balancers' security group. */
  readonly securityGroupId: string;
  /**
   * Refuse deletion of the load balancers in AWS (KSEC-LB-001). Tests and short-lived clusters turn it
   * off with the spec's `allowApiLoadBalancerDeletion`.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /** S3 bucket for access logs. @default none (no access logs; a documented scanner finding) */
  readonly accessLogsBucket?: string;
  /**
   * Where `api.NAME` and `api.internal.NAME` go: a hosted zone id, or a zone name looked up at plan time.
   * @default none (no DNS records; use the load balancers' own names)
   */
  readonly dnsZone?: { readonly id: string } | { readonly name: string };
  /** Whether a looked-up zone is private (kops `--dns private`). @default false */
  readonly privateDnsZone?: boolean;
}

/** One load balancer of the API, with its listener and target group. */
export interface ApiLoadBalancer {
  readonly loadBalancer: Lb;
  readonly targetGroup: LbTargetGroup;
}

/** The API's load balancers, their target groups and DNS. */
export class ApiEndpoint extends Construct {
  /** The internal load balancer, which the cluster's members and the bastion use. */
  readonly internal: ApiLoadBalancer;
  /** The internet-facing load balancer, when the API is reachable from the internet. */
  readonly public?: ApiLoadBalancer;
  /** Every target group the masters register with (a target group serves one load balancer only). */
  readonly targetGroups: readonly LbTargetGroup[];
  /** Where kubectl reaches the API: `api.NAME` with a DNS zone, else the outward load balancer's DNS name. */
  readonly hostname: string;
  /** Where the cluster's members reach the API: `api.internal.NAME` with a DNS zone, else the internal load balancer's DNS name. */
  readonly internalHostname: string;

  constructor(scope: Construct, id: string, props: ApiEndpointProps) {
    super(scope, id);
    const slug = clusterSlug(props.clusterName);
    this.internal = this.loadBalancer(props, apiLoadBalancerId(props.clusterName, "internal"), `tcp-${slug}`, "internal", props.internalSubnetIds);
    this.public = props.publicSubnetIds
      ? this.loadBalancer(props, apiLoadBalancerId(props.clusterName, "public"), `tcp-public-${slug}`, "public", props.publicSubnetIds)
      : undefined;
    this.targetGroups = [this.internal.targetGroup, ...(this.public ? [this.public.targetGroup] : [])];
    const outward = this.public ?? this.internal;

    this.hostname = outward.loadBalancer.dnsName;
    this.internalHostname = this.internal.loadBalancer.dnsName;
    if (props.dnsZone) {
      const zoneId =
        "id" in props.dnsZone
          ? props.dnsZone.id
          : new DataAwsRoute53Zone(this, `zone-${clusterSlug(props.dnsZone.name)}`, {
              name: props.dnsZone.name,
              privateZone: props.privateDnsZone ?? false,
            }).zoneId;
      const record = (name: string, address: string, target: ApiLoadBalancer): Route53Record =>
        new Route53Record(this, address, {
          zoneId,
          name,
          type: "A",
          alias: { name: target.loadBalancer.dnsName, zoneId: target.loadBalancer.zoneId, evaluateTargetHealth: false },
        });
      // kops's two names: api.NAME for people and tools, api.internal.NAME for the cluster itself. An
      // alias changes in place, so adding admin access only repoints api.NAME.
      this.hostname = record(`api.${props.clusterName}`, `api-${slug}`, outward).fqdn;
      this.internalHostname = record(`api.internal.${props.clusterName}`, `api-internal-${slug}`, this.internal).fqdn;
    }
  }

  /** A network load balancer with a TCP 443 listener forwarding to its own target group. */
  private loadBalancer(
    props: ApiEndpointProps,
    name: string,
    targetGroupName: string,
    scheme: "internal" | "public",
    subnetIds: readonly string[],
  ): ApiLoadBalancer {
    const internal = scheme === "internal";
    const dnsName = internal ? `api.internal.${props.clusterName}` : `api.${props.clusterName}`;
    const loadBalancer = new Lb(this, `${scheme}-load-balancer`, {
      name: limitedName(name, LB_NAME_MAX),
      loadBalancerType: "network",
      internal,
      subnets: [...subnetIds],
      securityGroups: [props.securityGroupId],
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: props.deletionProtection ?? true,
      accessLogs: props.accessLogsBucket
        ? { bucket: props.accessLogsBucket, prefix: `api/${props.clusterName}${internal ? "" : "/public"}`, enabled: true }
        : undefined,
      tags: { Name: dnsName },
    });
    loadBalancer.overrideLogicalId(name);

    const targetGroup = new LbTargetGroup(this, `${scheme}-target-group`, {
      name: limitedName(targetGroupName, LB_NAME_MAX),
      port: 443,
      protocol: "TCP",
      vpcId: props.vpcId,
      targetType: "instance",
      // With client IP preservation, a master reaching the API through the load balancer and routed to
      // itself would see its own address as source and drop the reply: connections time out.
      preserveClientIp: "false",
      deregistrationDelay: "30",
      healthCheck: { protocol: "TCP", port: "443", interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      tags: { Name: `${targetGroupName.replace(`-${clusterSlug(props.clusterName)}`, "")}.${props.clusterName}` },
    });
    targetGroup.overrideLogicalId(targetGroupName);

    const listener = new LbListener(this, `${scheme}-listener`, {
      loadBalancerArn: loadBalancer.arn,
      port: 443,
      // TCP pass-through: TLS ends at kube-apiserver, end to end.
      protocol: "TCP",
      defaultAction: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      tags: { Name: `${dnsName}-443` },
    });
    listener.overrideLogicalId(`${name}-443`);
    return { loadBalancer, targetGroup };
  }
}
