/**
 * What AWS accepts as names, descriptions and tags, per resource type: a table of AWS's own rules
 * (from each service's API reference), and a checker that applies it to every resource of a
 * synthesized configuration. A resource type with a name- or description-like attribute that the
 * table does not know is itself a finding, so that a new kind of resource can never slip through
 * unchecked.
 *
 * Values that Terraform only knows at apply time (`${aws_x.y.name}`) are references to other names,
 * checked where they are defined; a value mixing text and references is checked on its text.
 */
import { TerraformJson } from "./cluster";

/** One of AWS's rules for a string. */
export interface NameRule {
  /** The characters (or whole-value pattern) AWS accepts, anchored. */
  readonly pattern: RegExp;
  readonly min: number;
  readonly max: number;
  /** Where AWS says so (API reference parameter). */
  readonly source: string;
  /** Further refusals: a prefix or suffix AWS rejects, with why. */
  readonly refuse?: readonly (readonly [RegExp, string])[];
}

/**
 * Security group names and descriptions, and rule descriptions, in a VPC: "a-z, A-Z, 0-9, spaces,
 * and ._-:/()#,@[]+=&;{}!$*" (EC2 API reference, CreateSecurityGroup GroupDescription and
 * IpRange/UserIdGroupPair Description). The aws provider enforces the same set at validate time.
 */
const SG_TEXT = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

const SECURITY_GROUP_NAME: NameRule = {
  pattern: SG_TEXT,
  min: 1,
  max: 255,
  source: "EC2 CreateSecurityGroup GroupName",
  refuse: [[/^sg-/, "names may not start with sg-"]],
};
const SECURITY_GROUP_TEXT: NameRule = { pattern: SG_TEXT, min: 0, max: 255, source: "EC2 security group / rule Description" };

/** IAM names: `[\w+=,.@-]+` (IAM API reference, CreateRole RoleName, CreateInstanceProfile, PutRolePolicy). */
const IAM_NAME = (max: number, source: string): NameRule => ({ pattern: /^[\w+=,.@-]+$/, min: 1, max, source });

/** Load balancer and target group names: letters, digits and hyphens, no hyphen at either end (ELBv2 API). */
const ELB_NAME = (source: string, extra: readonly (readonly [RegExp, string])[] = []): NameRule => ({
  pattern: /^[A-Za-z0-9-]+$/,
  min: 1,
  max: 32,
  source,
  refuse: [[/^-|-$/, "may not begin or end with a hyphen"], ...extra],
});

/** Printable Unicode, as the Auto Scaling API's XmlStringMaxLen255 pattern has it. */
const PRINTABLE = /^[\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}\r\n\t]*$/u;

/**
 * The name- and description-like attributes of each resource type kopsform emits (or may emit), and
 * AWS's rule for each. An attribute listed with `null` is not a name AWS checks (a DNS record name is
 * checked as DNS below).
 */
export const NAME_RULES: Readonly<Record<string, Readonly<Record<string, NameRule | null>>>> = {
  aws_security_group: { name: SECURITY_GROUP_NAME, description: SECURITY_GROUP_TEXT },
  aws_security_group_rule: { description: SECURITY_GROUP_TEXT },
  aws_vpc_security_group_ingress_rule: { description: SECURITY_GROUP_TEXT },
  aws_vpc_security_group_egress_rule: { description: SECURITY_GROUP_TEXT },
  aws_iam_role: { name: IAM_NAME(64, "IAM CreateRole RoleName"), description: { pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/, min: 0, max: 1000, source: "IAM CreateRole Description" } },
  aws_iam_instance_profile: { name: IAM_NAME(128, "IAM CreateInstanceProfile InstanceProfileName") },
  aws_iam_role_policy: { name: IAM_NAME(128, "IAM PutRolePolicy PolicyName") },
  aws_iam_policy: { name: IAM_NAME(128, "IAM CreatePolicy PolicyName"), description: { pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/, min: 0, max: 1000, source: "IAM CreatePolicy Description" } },
  aws_lb: { name: ELB_NAME("ELBv2 CreateLoadBalancer Name", [[/^internal-/, "may not begin with internal-"]]) },
  aws_lb_target_group: { name: ELB_NAME("ELBv2 CreateTargetGroup Name") },
  aws_launch_template: {
    name: { pattern: /^[a-zA-Z0-9().\-/_]+$/, min: 3, max: 128, source: "EC2 CreateLaunchTemplate LaunchTemplateName" },
    description: { pattern: PRINTABLE, min: 0, max: 255, source: "EC2 CreateLaunchTemplate VersionDescription" },
    key_name: { pattern: /^[\x20-\x7E]+$/, min: 1, max: 255, source: "EC2 KeyName (ASCII)" },
  },
  aws_autoscaling_group: { name: { pattern: PRINTABLE, min: 1, max: 255, source: "Auto Scaling CreateAutoScalingGroup AutoScalingGroupName" } },
  aws_key_pair: { key_name: { pattern: /^[\x20-\x7E]+$/, min: 1, max: 255, source: "EC2 ImportKeyPair KeyName (ASCII)" } },
  aws_cloudwatch_log_group: { name: { pattern: /^[.\-_/#A-Za-z0-9]+$/, min: 1, max: 512, source: "CloudWatch Logs CreateLogGroup logGroupName" } },
  aws_kms_key: { description: { pattern: PRINTABLE, min: 0, max: 8192, source: "KMS CreateKey Description" } },
  aws_kms_alias: { name: { pattern: /^alias\/[a-zA-Z0-9/_-]+$/, min: 7, max: 256, source: "KMS CreateAlias AliasName" } },
  aws_ssm_parameter: {
    name: { pattern: /^[a-zA-Z0-9_.\-/]+$/, min: 1, max: 1011, source: "SSM PutParameter Name" },
    description: { pattern: PRINTABLE, min: 0, max: 1024, source: "SSM PutParameter Description" },
  },
  aws_s3_bucket: { bucket: { pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, min: 3, max: 63, source: "S3 bucket naming rules" } },
  aws_autoscaling_lifecycle_hook: { name: { pattern: /^[A-Za-z0-9\-_/]+$/, min: 1, max: 255, source: "Auto Scaling PutLifecycleHook LifecycleHookName" } },
  aws_cloudwatch_event_rule: {
    name: { pattern: /^[.\-_A-Za-z0-9]+$/, min: 1, max: 64, source: "EventBridge PutRule Name" },
    description: { pattern: PRINTABLE, min: 0, max: 512, source: "EventBridge PutRule Description" },
  },
  aws_sqs_queue: { name: { pattern: /^[A-Za-z0-9_-]+$/, min: 1, max: 80, source: "SQS CreateQueue QueueName (standard queues)" } },
  aws_route53_record: { name: null },
  aws_vpc_dhcp_options: { domain_name: null },
};

/**
 * Tags: EC2 and Auto Scaling take any characters; IAM, ELBv2, CloudWatch Logs, KMS, SSM and S3 take
 * letters, digits, spaces and `_ . : / = + - @` only (each service's Tag type). Keys 1-128, values 0-256.
 */
const STRICT_TAG = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const STRICT_TAG_PREFIXES = ["aws_iam_", "aws_lb", "aws_cloudwatch_log_group", "aws_kms_", "aws_ssm_", "aws_s3_"];

/** Attribute names that look like a name or a description (top level of a resource). */
const NAME_LIKE = /(^|_)(name|description)$|^name_prefix$|^bucket$/;

/** Name-like attributes that are not names AWS checks, by type (`*`: every type). */
const NOT_NAMES: Readonly<Record<string, readonly string[]>> = {
  "*": ["device_name"],
};

/** One violation, readable in a test failure. */
export interface NameFinding {
  readonly address: string;
  readonly attribute: string;
  readonly value: string;
  readonly problem: string;
}

/**
 * The literal text of a value, each `${...}` interpolation replaced by `x` (it names something checked
 * where it is defined), and whether the value is one interpolation and nothing else.
 */
export function literalText(value: string): { text: string; wholeReference: boolean } {
  let text = "";
  let interpolations = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === "$" && value[i + 1] === "{") {
      let depth = 0;
      let j = i + 1;
      for (; j < value.length; j++) {
        depth += value[j] === "{" ? 1 : value[j] === "}" ? -1 : 0;
        if (depth === 0) {
          break;
        }
      }
      interpolations++;
      text += "x";
      i = j;
      continue;
    }
    text += value[i];
  }
  return { text, wholeReference: interpolations === 1 && text === "x" };
}

/** Checks one value against a rule; a message when AWS would refuse it. */
export function checkName(value: string, rule: NameRule): string | undefined {
  const { text, wholeReference } = literalText(value);
  if (wholeReference) {
    return undefined;
  }
  if (!rule.pattern.test(text)) {
    // A character-class rule (`^[...]*$`) names the characters it refuses; a whole-form rule cannot.
    const chars = rule.pattern.source.startsWith("^[") ? [...new Set([...text].filter((c) => !rule.pattern.test(c)))] : [];
    return chars.length > 0
      ? `has ${chars.map((c) => JSON.stringify(c)).join(" ")}, which ${rule.source} refuses`
      : `does not have the form ${rule.source} takes`;
  }
  if (text.length < rule.min || text.length > rule.max) {
    return `is ${text.length} characters long; ${rule.source} takes ${rule.min}-${rule.max}`;
  }
  for (const [re, why] of rule.refuse ?? []) {
    if (re.test(text)) {
      return why;
    }
  }
  return undefined;
}

/** Every name, description and tag of a configuration that AWS would refuse, and every unchecked name-like attribute. */
export function nameFindings(json: TerraformJson): NameFinding[] {
  const findings: NameFinding[] = [];
  for (const [type, byName] of Object.entries(json.resource)) {
    const rules = NAME_RULES[type];
    for (const [name, body] of Object.entries(byName)) {
      const address = `${type}.${name}`;
      for (const [attribute, value] of Object.entries(body)) {
        if (!NAME_LIKE.test(attribute) || (NOT_NAMES["*"] ?? []).includes(attribute) || (NOT_NAMES[type] ?? []).includes(attribute)) {
          continue;
        }
        if (typeof value !== "string") {
          findings.push({ address, attribute, value: JSON.stringify(value), problem: "is not a string" });
          continue;
        }
        if (!rules || !(attribute in rules)) {
          if (!literalText(value).wholeReference) {
            findings.push({ address, attribute, value, problem: "has no AWS rule in __tests__/helpers/aws-names.ts; add the service's rule" });
          }
          continue;
        }
        const rule = rules[attribute];
        const problem = rule ? checkName(value, rule) : undefined;
        if (problem) {
          findings.push({ address, attribute, value, problem });
        }
      }
      findings.push(...tagFindings(type, address, body));
    }
  }
  return findings;
}

/** The resource's tags (a `tags` map, Auto Scaling's `tag` blocks, launch templates' `tag_specifications`). */
function tagFindings(type: string, address: string, body: Record<string, unknown>): NameFinding[] {
  const strict = STRICT_TAG_PREFIXES.some((p) => type.startsWith(p));
  const pairs: [string, string, string][] = [];
  const map = (attribute: string, tags: unknown) => {
    if (tags && typeof tags === "object" && !Array.isArray(tags)) {
      for (const [k, v] of Object.entries(tags as Record<string, unknown>)) {
        pairs.push([attribute, k, String(v)]);
      }
    }
  };
  map("tags", body.tags);
  for (const t of (Array.isArray(body.tag) ? body.tag : []) as { key: string; value: string }[]) {
    pairs.push(["tag", t.key, t.value]);
  }
  for (const spec of (Array.isArray(body.tag_specifications) ? body.tag_specifications : []) as { tags?: unknown }[]) {
    map("tag_specifications", spec.tags);
  }
  const findings: NameFinding[] = [];
  for (const [attribute, key, value] of pairs) {
    const { text: k } = literalText(key);
    const { text: v, wholeReference } = literalText(value);
    if (k.length < 1 || k.length > 128 || k.toLowerCase().startsWith("aws:")) {
      findings.push({ address, attribute, value: key, problem: "is not a tag key AWS takes (1-128 characters, no aws: prefix)" });
    }
    if (!wholeReference && v.length > 256) {
      findings.push({ address, attribute, value, problem: "is longer than the 256 characters of a tag value" });
    }
    if (strict && (!STRICT_TAG.test(k) || (!wholeReference && !STRICT_TAG.test(v)))) {
      findings.push({ address, attribute, value: `${key}=${value}`, problem: `has characters ${type}'s service refuses in tags` });
    }
  }
  return findings;
}
