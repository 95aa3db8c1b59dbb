/**
 * One cluster, one stack: the provider, the backend, the cluster's tags and the modules, wired
 * together. No resource is made here; each lives in the module of its concern under modules/.
 */
import { Aspects, TerraformDataSource, TerraformElement, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct, Node } from "constructs";
import { ClusterSpec } from "../spec/types";
import { ClusterTagging, clusterTags } from "../modules/tags";
import { addBackend } from "./backend";

/** Props of {@link ClusterStack}. */
export interface ClusterStackProps {
  /** The validated cluster spec; the stack is named after `spec.name`. */
  readonly spec: ClusterSpec;
}

/** Terraform names: letters, digits, `_` and `-`, starting with a letter or `_`. */
const TERRAFORM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The Terraform configuration of one cluster. Addresses are the construct ids themselves
 * (`aws_launch_template.master-us-west-2a`), never cdktf's path hashes, so that they read like kops's
 * and stay stable when constructs move; a validation refuses two elements with one address.
 */
export class ClusterStack extends TerraformStack {
  constructor(scope: Construct, props: ClusterStackProps) {
    super(scope, props.spec.name);
    const { spec } = props;
    new AwsProvider(this, "aws", { region: spec.region });
    addBackend(this, spec.backend);
    Aspects.of(this).add(new ClusterTagging(clusterTags(spec.name, spec.cloudLabels)));

    new TerraformOutput(this, "cluster_name", { value: spec.name });
    new TerraformOutput(this, "region", { value: spec.region });

    this.node.addValidation({ validate: () => duplicateAddresses(this) });
  }

  /** The construct id is the Terraform name: readable, and independent of where the construct sits. */
  protected allocateLogicalId(element: TerraformElement | Node): string {
    const id = TerraformElement.isTerraformElement(element) ? element.node.id : element.id;
    if (!TERRAFORM_NAME.test(id)) {
      throw new Error(`"${id}" is not a valid Terraform name; construct ids in kopsform stacks are Terraform names.`);
    }
    return id;
  }
}

/** Two elements of one kind with one name would overwrite each other in the output; refuse that. */
function duplicateAddresses(stack: TerraformStack): string[] {
  const seen = new Map<string, string>();
  const errors: string[] = [];
  for (const node of stack.node.findAll()) {
    if (!TerraformElement.isTerraformElement(node)) {
      continue;
    }
    const type = (node as { terraformResourceType?: string }).terraformResourceType ?? node.constructor.name;
    const kind = node instanceof TerraformDataSource ? `data.${type}` : type;
    const address = `${kind}.${node.friendlyUniqueId}`;
    const other = seen.get(address);
    if (other) {
      errors.push(`${address} is made twice (${other} and ${node.node.path}); give one a different id.`);
    }
    seen.set(address, node.node.path);
  }
  return errors;
}
