/**
 * A Terraform `removed` block (Terraform >= 1.7): the resource at `from` leaves the configuration and
 * the state without being destroyed (`lifecycle { destroy = false }`), so it stays in AWS, unmanaged.
 * cdktf 0.21 has no construct for it, so this element writes it itself: into the JSON configuration
 * (`"removed": [...]`, merged across elements), and as HCL text that the stack appends to `cdk.tf`
 * (cdktf's HCL renderer drops block types it does not know; see stacks/cluster-stack.ts).
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

const REMOVED_BLOCK = Symbol.for("kopsform/RemovedBlock");

/** `removed { from = <address>  lifecycle { destroy = false } }`: forget a resource, never destroy it. */
export class RemovedBlock extends TerraformElement {
  readonly from: string;

  constructor(scope: Construct, id: string, props: RemovedBlockProps) {
    super(scope, id);
    if (!ADDRESS.test(props.from)) {
      throw new Error(`${JSON.stringify(props.from)} is not a resource address (type.name)`);
    }
    this.from = props.from;
    Object.defineProperty(this, REMOVED_BLOCK, { value: true });
  }

  /** Whether `x` is a {@link RemovedBlock} (also across copies of this module, as cdktf's own checks). */
  static isRemovedBlock(x: unknown): x is RemovedBlock {
    return typeof x === "object" && x !== null && REMOVED_BLOCK in x;
  }

  toTerraform(): Record<string, unknown> {
    return { removed: [{ from: this.from, lifecycle: { destroy: false } }] };
  }

  /** Nothing through cdktf's HCL renderer, which would drop it: see {@link RemovedBlock.toHcl}. */
  toHclTerraform(): Record<string, unknown> {
    return {};
  }

  /** The block as HCL (the address unquoted, as Terraform requires). */
  toHcl(): string {
    return `removed {\n  from = ${this.from}\n\n  lifecycle {\n    destroy = false\n  }\n}\n`;
  }
}
