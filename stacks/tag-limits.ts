/**
 * AWS's limits on the tags of one resource, checked on the synthesized configuration itself, so that
 * kopsform's own tags count as much as the spec's cloud labels: at most 50 tags (every service that
 * carries the cluster's tags: EC2, Auto Scaling, IAM, CloudWatch Logs, ELB), keys of 1-128 and values
 * of at most 256 characters. A tag that would fail at apply is refused at synthesis, before anything
 * is written, naming the resource and what to change.
 */

/** The most tags AWS accepts on one resource. */
export const MAX_TAGS_PER_RESOURCE = 50;
const MAX_TAG_KEY_LENGTH = 128;
const MAX_TAG_VALUE_LENGTH = 256;

/** Tag keys made from node group labels and taints (modules/nodes.ts), for a message that names the field. */
const NODE_TEMPLATE_PREFIX = "k8s.io/cluster-autoscaler/node-template/";

/** One problem line per resource whose tags AWS would refuse; empty when all fit. */
export function tagLimitProblems(config: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const resources = (config.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, body] of Object.entries(byName)) {
      for (const [where, tags] of tagSets(body)) {
        problems.push(...problemsOf(`${type}.${name}${where}`, tags));
      }
    }
  }
  return problems;
}

/** The tag sets of a resource: `tags`, an auto-scaling group's `tag` blocks, a launch template's tag specifications. */
function tagSets(body: Record<string, unknown>): [string, Record<string, string>][] {
  const sets: [string, Record<string, string>][] = [];
  if (isObject(body.tags)) {
    sets.push(["", body.tags as Record<string, string>]);
  }
  if (Array.isArray(body.tag)) {
    sets.push([" (tag blocks)", Object.fromEntries(body.tag.map((t: { key: string; value: string }) => [t.key, t.value]))]);
  }
  if (Array.isArray(body.tag_specifications)) {
    for (const spec of body.tag_specifications as { resource_type?: string; tags?: Record<string, string> }[]) {
      if (isObject(spec.tags)) {
        sets.push([` (tags of its ${spec.resource_type ?? "instances"})`, spec.tags as Record<string, string>]);
      }
    }
  }
  return sets;
}

function problemsOf(where: string, tags: Record<string, string>): string[] {
  const problems: string[] = [];
  const count = Object.keys(tags).length;
  if (count > MAX_TAGS_PER_RESOURCE) {
    problems.push(
      `${where} would carry ${count} tags (kopsform's own and the cloud labels); AWS allows ${MAX_TAGS_PER_RESOURCE} per ` +
        `resource: remove at least ${count - MAX_TAGS_PER_RESOURCE} from cloudLabels (or node group labels and taints).`,
    );
  }
  for (const [key, value] of Object.entries(tags)) {
    const origin = key.startsWith(NODE_TEMPLATE_PREFIX) ? "shorten the node group's label or taint key" : "shorten it in the spec";
    if (key.length > MAX_TAG_KEY_LENGTH) {
      problems.push(`${where}: the tag key ${JSON.stringify(key)} is ${key.length} characters long; AWS allows ${MAX_TAG_KEY_LENGTH}: ${origin}.`);
    }
    if (typeof value === "string" && value.length > MAX_TAG_VALUE_LENGTH) {
      problems.push(`${where}: the value of tag ${JSON.stringify(key)} is ${value.length} characters long; AWS allows ${MAX_TAG_VALUE_LENGTH}: ${origin}.`);
    }
  }
  return problems;
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
