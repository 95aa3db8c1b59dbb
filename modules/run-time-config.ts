/**
 * What Terraform tells the instances at run time: String parameters under /kopsform/NAME/config/
 * (docs/runtime.md), read by the loader and the boot scripts. Values Terraform only knows at apply
 * (a generated bucket name) reach instances this way rather than through user data, which stays the
 * same bytes for the same spec. These parameters are Terraform's: the run-time parameters beside
 * them (pki/, etcd/, k8s/, join/) are the instances', and `kopsform delete cluster` removes those.
 */
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Construct } from "constructs";
import { clusterSlug } from "./names";

/** The store's path of a cluster: `/kopsform/NAME/`. */
export function storePath(clusterName: string): string {
  return `/kopsform/${clusterName}/`;
}

/** Props of {@link RunTimeConfig}. */
export interface RunTimeConfigProps {
  readonly clusterName: string;
  /** `config/NAME = value`, e.g. bucket, backup-bucket. */
  readonly values: Readonly<Record<string, string>>;
}

/** The config parameters. */
export class RunTimeConfig extends Construct {
  readonly parameters: readonly SsmParameter[];

  constructor(scope: Construct, id: string, props: RunTimeConfigProps) {
    super(scope, id);
    const slug = clusterSlug(props.clusterName);
    this.parameters = Object.entries(props.values).map(
      ([key, value]) =>
        new SsmParameter(this, `kopsform-${slug}-config-${key}`, {
          name: `${storePath(props.clusterName)}config/${key}`,
          type: "String",
          value,
          description: `kopsform: ${key} of ${props.clusterName}, for its instances`,
        }),
    );
  }
}
