/**
 * AWS clients for the commands that act on a running cluster: the AWS SDK for JavaScript v3, one
 * modular client per service, in the spec's region, with the SDK's usual credential chain
 * (environment, shared config and SSO profiles, web identity, container and instance roles). Each
 * client is created, and its package loaded, on first use: a command loads only the services it calls.
 */
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { UserError } from "../spec/problems";

/** The clients of one region, created on first use. */
export class AwsClients {
  private cache = new Map<string, unknown>();

  constructor(readonly region: string) {
    // The SDK warns on Node 20 that its releases after January 2027 will need Node 22. kopsform pins
    // the SDK's version (package-lock.json), so the warning says nothing about this installation.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  }

  private client<T>(key: string, make: () => T): T {
    if (!this.cache.has(key)) {
      this.cache.set(key, make());
    }
    return this.cache.get(key) as T;
  }

  get ssm(): SSMClient {
    return this.client("ssm", () => new (require("@aws-sdk/client-ssm") as typeof import("@aws-sdk/client-ssm")).SSMClient({ region: this.region }));
  }
  get autoscaling(): AutoScalingClient {
    return this.client("autoscaling", () => new (require("@aws-sdk/client-auto-scaling") as typeof import("@aws-sdk/client-auto-scaling")).AutoScalingClient({ region: this.region }));
  }
  get ec2(): EC2Client {
    return this.client("ec2", () => new (require("@aws-sdk/client-ec2") as typeof import("@aws-sdk/client-ec2")).EC2Client({ region: this.region }));
  }
  get elbv2(): ElasticLoadBalancingV2Client {
    return this.client("elbv2", () => new (require("@aws-sdk/client-elastic-load-balancing-v2") as typeof import("@aws-sdk/client-elastic-load-balancing-v2")).ElasticLoadBalancingV2Client({ region: this.region }));
  }
  get s3(): S3Client {
    return this.client("s3", () => new (require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3")).S3Client({ region: this.region }));
  }
}

/** The parts of an SDK error that kopsform reads. */
interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/**
 * Runs one AWS call, turning what a user can fix (no credentials, no permission, no network) into a
 * one-line {@link UserError} that says what was being done and what to do. Other errors pass through.
 */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw awsUserError(what, e) ?? e;
  }
}

/** The {@link UserError} for an AWS failure a user can fix, or undefined. */
export function awsUserError(what: string, e: unknown): UserError | undefined {
  const err = (e ?? {}) as SdkError;
  const name = err.name ?? "";
  const message = (err.message ?? String(e)).split("\n")[0];
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new UserError([
      `aws: ${what}: no AWS credentials found; set AWS_PROFILE (aws sso login) or AWS_ACCESS_KEY_ID, as for the AWS CLI.`,
    ]);
  }
  if (/AccessDenied|UnauthorizedOperation|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch/.test(name) ||
    err.$metadata?.httpStatusCode === 403) {
    return new UserError([`aws: ${what}: ${name || "access denied"}: ${message} (check the credentials in use and their permissions).`]);
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|TimeoutError|NetworkingError/.test(`${name} ${err.code ?? ""} ${message}`)) {
    return new UserError([`aws: ${what}: cannot reach AWS (${message}); check the network and the region.`]);
  }
  return undefined;
}

/** True for an SDK error of this name (ParameterNotFound, LoadBalancerNotFoundException, ...). */
export function isAwsError(e: unknown, name: string): boolean {
  return typeof e === "object" && e !== null && (e as SdkError).name === name;
}
