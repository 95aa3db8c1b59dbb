/**
 * A Terraform `removed` block (Terraform >= 1.7): the resource at `from` leaves the configuration and
 * the state without being destroyed (`lifecycle { destroy = false }`), so it stays in AWS, unmanaged.
 * cdktf 0.21 has no construct for it, so this element writes it itself into the JSON configuration
 * (`"removed": [...]`, merged across elements); kopsform's HCL writer (stacks/hcl.ts) writes `cdk.tf`
 * from that configuration, `from` as an unquoted address.
 */
import { TerraformElement } from "cdktf";
import { Construct } from "constructs";

/** Props of {@link RemovedBlock}. */
export interface RemovedBlockProps {
  /** The resource address to forget, e.g. `aws_ebs_volume.b-etcd-main-hacluster-example-com`. */
  readonly from: string;
}

/** Resource addresses: `<type>.<name>`, both Terraform identifiers. */
const ADDRESS = /^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*$/;

/** `removed { from = <address>  lifecycle { destroy = false } }`: forget a resource, never destroy it. */
export class RemovedBlock extends TerraformElement {
  readonly from: string;

  constructor(scope: Construct, id: string, props: RemovedBlockProps) {
    super(scope, id);
    if (!ADDRESS.test(props.from)) {
      throw new Error(`${JSON.stringify(props.from)} is not a resource address (type.name)`);
    }
    this.from = props.from;
  }

  toTerraform(): Record<string, unknown> {
    return { removed: [{ from: this.from, lifecycle: { destroy: false } }] };
  }
}
