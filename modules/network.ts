/**
 * The cluster's network, as kops lays it out: a VPC with its DHCP options, subnets per zone (private +
 * utility in private topology, public in public topology), an internet gateway, one NAT gateway per
 * zone for private subnets, route tables, VPC flow logs and an empty default security group. With a
 * shared VPC, none of this is created and the given ids are used.
 */
import { Fn, ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcDhcpOptions } from "@cdktf/provider-aws/lib/vpc-dhcp-options";
import { VpcDhcpOptionsAssociation } from "@cdktf/provider-aws/lib/vpc-dhcp-options-association";
import { Construct } from "constructs";
import { PlannedSubnet, SubnetRole } from "../spec/address-plan";
import { IAM_NAME_MAX, clusterSlug, limitedName } from "./names";

/** A subnet of the cluster, created here or shared. */
export interface ClusterSubnet {
  readonly zone: string;
  readonly role: SubnetRole;
  /** The subnet's id: a Terraform reference, or the shared subnet's literal id. */
  readonly id: string;
}

/** VPC flow-log settings. */
export interface FlowLogSettings {
  /** @default true */
  readonly enabled: boolean;
  /** @default 365 (days) */
  readonly retentionDays: number;
  /** Customer-managed KMS key for the log group. @default none (CloudWatch Logs' own encryption) */
  readonly kmsKeyArn?: string;
}

/** Props of {@link Network}. */
export interface NetworkProps {
  readonly clusterName: string;
  /** The cluster's region, for the VPC's DHCP options (see {@link dhcpDomainName}). */
  readonly region: string;
  /** The VPC's CIDR (kops default 172.20.0.0/16). */
  readonly networkCidr: string;
  /** Every subnet, planned (with a CIDR) or shared (with an id), from the spec's address plan. */
  readonly subnets: readonly PlannedSubnet[];
  /** A shared VPC's id: when set, no network resource is created. @default none (kopsform creates the VPC) */
  readonly sharedVpcId?: string;
  readonly flowLogs: FlowLogSettings;
}

/**
 * The domain name EC2 gives instances in a region, which kops sets in the DHCP options of the VPCs it
 * creates: `ec2.internal` in us-east-1 (a historical exception), `<region>.compute.internal` elsewhere.
 * Instances then resolve their own and each other's private DNS names (`ip-172-20-33-4.<domain>`),
 * which kubelet registers nodes under.
 */
export function dhcpDomainName(region: string): string {
  return region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
}

/** kops's SubnetType tag values. */
const SUBNET_TYPE: Record<SubnetRole, string> = { private: "Private", utility: "Utility", public: "Public" };

/** The Kubernetes AWS cloud provider picks load-balancer subnets by these tags. */
const LOAD_BALANCER_ROLE_TAG: Record<SubnetRole, string> = {
  private: "kubernetes.io/role/internal-elb",
  utility: "kubernetes.io/role/elb",
  public: "kubernetes.io/role/elb",
};

/** The network of one cluster; other modules read it through {@link Network.subnets} and {@link Network.vpcId}. */
export class Network extends Construct {
  /** The VPC's id (a reference, or the shared VPC's id). */
  readonly vpcId: string;
  /** The public route table's id; undefined with a shared VPC. */
  readonly publicRouteTableId?: string;
  /** The public address of each zone's NAT gateway (private topology): where the cluster's traffic to the internet comes from. */
  readonly natPublicIps: readonly { readonly zone: string; readonly address: string }[] = [];
  /**
   * The routes to the internet and their subnet associations: instances launched before these exist
   * cannot reach the AWS APIs or the packages they install at boot, so instance groups depend on
   * them. Empty with a shared VPC (its routes exist already).
   */
  readonly internetRoutes: ITerraformDependable[] = [];
  private readonly clusterSubnets: ClusterSubnet[] = [];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    if (props.sharedVpcId) {
      this.vpcId = props.sharedVpcId;
      for (const s of props.subnets) {
        this.clusterSubnets.push({ zone: s.zone, role: s.role, id: s.id as string });
      }
      return;
    }
    const slug = clusterSlug(props.clusterName);
    const vpc = new Vpc(this, "vpc", {
      cidrBlock: props.networkCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.clusterName },
    });
    vpc.overrideLogicalId(slug);
    this.vpcId = vpc.id;

    // As kops: the VPC's own DHCP options, with Amazon's resolver and the region's domain, so that the
    // cluster does not depend on whatever the account's default options say.
    const dhcp = new VpcDhcpOptions(this, "dhcp-options", {
      domainName: dhcpDomainName(props.region),
      domainNameServers: ["AmazonProvidedDNS"],
      tags: { Name: props.clusterName },
    });
    dhcp.overrideLogicalId(slug);
    new VpcDhcpOptionsAssociation(this, "dhcp-options-association", { vpcId: vpc.id, dhcpOptionsId: dhcp.id }).overrideLogicalId(slug);

    // An empty default security group: nothing may rely on the VPC's allow-all default.
    new DefaultSecurityGroup(this, `default-${slug}`, { vpcId: vpc.id, tags: { Name: `default.${props.clusterName}` } });

    const igw = new InternetGateway(this, "internet-gateway", { vpcId: vpc.id, tags: { Name: props.clusterName } });
    igw.overrideLogicalId(slug);
    const publicRoutes = new RouteTable(this, "public-route-table", {
      vpcId: vpc.id,
      tags: { Name: props.clusterName, "kubernetes.io/kops/role": "public" },
    });
    publicRoutes.overrideLogicalId(slug);
    const publicDefaultRoute = new Route(this, "route-0-0-0-0--0", {
      routeTableId: publicRoutes.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    this.publicRouteTableId = publicRoutes.id;
    this.internetRoutes.push(publicDefaultRoute);

    const created = new Map<string, Subnet>();
    for (const planned of props.subnets) {
      const subnet = this.createSubnet(vpc, planned, props.clusterName);
      created.set(`${planned.role}/${planned.zone}`, subnet);
      this.clusterSubnets.push({ zone: planned.zone, role: planned.role, id: subnet.id });
      if (planned.role !== "private") {
        this.associate(planned, slug, subnet.id, publicRoutes.id);
      }
    }

    const natPublicIps: { zone: string; address: string }[] = [];
    for (const planned of props.subnets.filter((s) => s.role === "private")) {
      const zone = planned.zone;
      const utility = created.get(`utility/${zone}`) as Subnet;
      // One NAT gateway per zone, in that zone's utility subnet: a zone outage cuts no other zone's egress.
      const eip = new Eip(this, `eip-${zone}`, {
        domain: "vpc",
        tags: { Name: `${zone}.${props.clusterName}` },
      });
      eip.overrideLogicalId(`${zone}-${slug}`);
      const nat = new NatGateway(this, `nat-gateway-${zone}`, {
        allocationId: eip.id,
        subnetId: utility.id,
        tags: { Name: `${zone}.${props.clusterName}` },
        dependsOn: [igw],
      });
      nat.overrideLogicalId(`${zone}-${slug}`);
      const routes = new RouteTable(this, `private-${zone}-${slug}`, {
        vpcId: vpc.id,
        tags: { Name: `private-${zone}.${props.clusterName}`, "kubernetes.io/kops/role": `private-${zone}` },
      });
      const privateDefaultRoute = new Route(this, `route-private-${zone}-0-0-0-0--0`, {
        routeTableId: routes.id,
        destinationCidrBlock: "0.0.0.0/0",
        natGatewayId: nat.id,
      });
      this.associate(planned, slug, (created.get(`private/${zone}`) as Subnet).id, routes.id);
      this.internetRoutes.push(privateDefaultRoute);
      natPublicIps.push({ zone, address: eip.publicIp });
    }
    this.natPublicIps = natPublicIps;

    if (props.flowLogs.enabled) {
      this.addFlowLogs(vpc, props.clusterName, slug, props.flowLogs);
    }
  }

  /** The cluster's subnets, optionally of one role and/or zone, in the order of the cluster's zones. */
  subnets(filter: { readonly role?: SubnetRole; readonly zone?: string } = {}): ClusterSubnet[] {
    return this.clusterSubnets.filter(
      (s) => (filter.role === undefined || s.role === filter.role) && (filter.zone === undefined || s.zone === filter.zone),
    );
  }

  /** The one subnet of a role in a zone; throws when the plan has none (a wiring bug, not user input). */
  subnet(role: SubnetRole, zone: string): ClusterSubnet {
    const found = this.subnets({ role, zone })[0];
    if (!found) {
      throw new Error(`the network has no ${role} subnet in ${zone}`);
    }
    return found;
  }

  /** kops's association names: `private-<zone>-...`, `utility-<zone>-...`, `<zone>-...` (public). */
  private associate(subnet: PlannedSubnet, slug: string, subnetId: string, routeTableId: string): void {
    const association = new RouteTableAssociation(this, `association-${subnet.role}-${subnet.zone}`, {
      subnetId,
      routeTableId,
    });
    const prefix = subnet.role === "public" ? "" : `${subnet.role}-`;
    association.overrideLogicalId(`${prefix}${subnet.zone}-${slug}`);
    this.internetRoutes.push(association);
  }

  private createSubnet(vpc: Vpc, planned: PlannedSubnet, clusterName: string): Subnet {
    const prefix = planned.role === "utility" ? "utility-" : "";
    return new Subnet(this, `${prefix}${planned.zone}-${clusterSlug(clusterName)}`, {
      vpcId: vpc.id,
      cidrBlock: planned.cidr,
      availabilityZone: planned.zone,
      // Never true, utility subnets included: instances that need a public address say so themselves.
      mapPublicIpOnLaunch: false,
      tags: {
        Name: `${prefix}${planned.zone}.${clusterName}`,
        SubnetType: SUBNET_TYPE[planned.role],
        [LOAD_BALANCER_ROLE_TAG[planned.role]]: "1",
      },
    });
  }

  /** Flow logs to a CloudWatch log group, written by a role that can write to that group only. */
  private addFlowLogs(vpc: Vpc, clusterName: string, slug: string, settings: FlowLogSettings): void {
    const name = `flowlogs-${slug}`;
    const logGroup = new CloudwatchLogGroup(this, "flowlogs-log-group", {
      name: `/kopsform/${clusterName}/vpc-flow-logs`,
      retentionInDays: settings.retentionDays,
      kmsKeyId: settings.kmsKeyArn,
      tags: { Name: `flowlogs.${clusterName}` },
    });
    logGroup.overrideLogicalId(name);
    const role = new IamRole(this, "flowlogs-role", {
      name: limitedName(`flowlogs.${clusterName}`, IAM_NAME_MAX),
      assumeRolePolicy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
      tags: { Name: `flowlogs.${clusterName}` },
    });
    role.overrideLogicalId(name);
    const policy = new IamRolePolicy(this, "flowlogs-policy", {
      name: limitedName(`flowlogs.${clusterName}`, IAM_NAME_MAX),
      role: role.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "WriteFlowLogsToOwnGroupOnly",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [logGroup.arn, `${logGroup.arn}:*`],
          },
        ],
      }),
    });
    policy.overrideLogicalId(name);
    new FlowLog(this, slug, {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: { Name: `flowlogs.${clusterName}` },
    });
  }
}
