/**
 * A last line of defence: an aspect that refuses, at synthesis, any launch template that does not
 * require IMDSv2 with a hop limit of 1 or that has an unencrypted disk, whichever construct made it.
 */
import { Annotations, IAspect } from "cdktf";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { IConstruct } from "constructs";

/** Reads a synthesized attribute of a resource (cdktf's snake_case JSON). */
function synthesized(resource: LaunchTemplate): Record<string, unknown> {
  const json = resource.toTerraform() as { resource: Record<string, Record<string, Record<string, unknown>>> };
  return json.resource.aws_launch_template[resource.friendlyUniqueId];
}

/** The problems of one launch template, as messages that say what to set. */
export function launchTemplateProblems(resource: LaunchTemplate): string[] {
  const body = synthesized(resource);
  const problems: string[] = [];
  const metadata = body.metadata_options as Record<string, unknown> | undefined;
  if (!metadata || metadata.http_tokens !== "required") {
    problems.push('does not require IMDSv2: set metadataOptions.httpTokens "required"');
  }
  if (!metadata || metadata.http_put_response_hop_limit !== 1) {
    problems.push("lets containers reach instance credentials: set metadataOptions.httpPutResponseHopLimit 1");
  }
  const devices = (body.block_device_mappings as Record<string, unknown>[] | undefined) ?? [];
  if (devices.length === 0) {
    problems.push("leaves its root volume to the image's settings: map the root device with ebs.encrypted true");
  }
  for (const device of devices) {
    const ebs = device.ebs as Record<string, unknown> | undefined;
    if (ebs && String(ebs.encrypted) !== "true") {
      problems.push(`has an unencrypted disk (${String(device.device_name)}): set ebs.encrypted "true"`);
    }
  }
  return problems;
}

/** Adds an error to every launch template that fails the checks; cdktf then refuses to synthesize. */
export class LaunchTemplateChecks implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof LaunchTemplate) {
      for (const problem of launchTemplateProblems(node)) {
        Annotations.of(node).addError(`launch template ${node.friendlyUniqueId} ${problem}`);
      }
    }
  }
}
