/**
 * The cluster's own KMS key: it encrypts the run-time store (the SSM SecureString parameters under
 * /kopsform/NAME/: the etcd and Kubernetes CAs, the join token) and the cluster's bucket (etcd
 * backups). Masters use it only through SSM and S3 (their IAM policy says kms:ViaService), so the
 * key is never handed to anything else on an instance. Yearly rotation on. The key policy is KMS's
 * default: the account administers it and IAM policies grant its use.
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";
import { clusterSlug } from "./names";

/** The alias the boot scripts name the key by (KMS aliases allow no dots: the cluster slug). */
export function clusterKeyAlias(clusterName: string): string {
  return `alias/kopsform/${clusterSlug(clusterName)}`;
}

/**
 * Days KMS waits before deleting the key once the stack is destroyed: the longest it allows, so
 * that a mistaken destroy can be undone before the cluster's secrets and backups are unreadable.
 */
export const CLUSTER_KEY_DELETION_WINDOW_DAYS = 30;

/** Props of {@link ClusterKey}. */
export interface ClusterKeyProps {
  readonly clusterName: string;
}

/** The key and its alias. */
export class ClusterKey extends Construct {
  readonly key: KmsKey;
  readonly alias: string;

  constructor(scope: Construct, id: string, props: ClusterKeyProps) {
    super(scope, id);
    const slug = clusterSlug(props.clusterName);
    this.key = new KmsKey(this, `kopsform-${slug}`, {
      description: `kopsform run-time store and etcd backups of ${props.clusterName}`,
      enableKeyRotation: true,
      deletionWindowInDays: CLUSTER_KEY_DELETION_WINDOW_DAYS,
      tags: { Name: `kopsform.${props.clusterName}` },
    });
    this.alias = clusterKeyAlias(props.clusterName);
    new KmsAlias(this, `kopsform-${slug}-alias`, { name: this.alias, targetKeyId: this.key.keyId });
  }
}
