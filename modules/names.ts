/**
 * Names derived from the cluster's own name, as kops derives them. Terraform addresses and AWS names
 * are an API: renaming one destroys and recreates a resource, so these functions never change output
 * for an existing input.
 */
import { createHash } from "crypto";

/** `hacluster.example.com` -> `hacluster-example-com`: the suffix of kops's Terraform names. */
export function clusterSlug(clusterName: string): string {
  return clusterName.replace(/\./g, "-");
}

/**
 * An AWS name of at most `max` characters (load balancers and target groups allow 32). A longer name
 * keeps its start and ends with 6 hex digits of its hash, so it stays unique and stable.
 */
export function limitedName(name: string, max: number): string {
  if (name.length <= max) {
    return name;
  }
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 6);
  return `${name.slice(0, max - 7).replace(/-+$/, "")}-${hash}`;
}

/** IAM role, profile and policy names allow 64 characters. */
export const IAM_NAME_MAX = 64;

/** Load balancer and target group names allow 32 characters. */
export const LB_NAME_MAX = 32;

/**
 * The Terraform name of an API load balancer (its AWS name is the same, limited to {@link LB_NAME_MAX}):
 * `api-<cluster>` for the internal one every cluster has, `api-public-<cluster>` for the
 * internet-facing one admin access adds (see modules/api-endpoint.ts). The commands that reach a
 * running cluster look them up by these names.
 */
export function apiLoadBalancerId(clusterName: string, scheme: "internal" | "public"): string {
  return scheme === "internal" ? `api-${clusterSlug(clusterName)}` : `api-public-${clusterSlug(clusterName)}`;
}

/** The AWS partition of a region: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) {
    return "aws-cn";
  }
  if (region.startsWith("us-gov-")) {
    return "aws-us-gov";
  }
  if (region.startsWith("us-isob-")) {
    return "aws-iso-b";
  }
  if (region.startsWith("us-iso-")) {
    return "aws-iso";
  }
  return "aws";
}
