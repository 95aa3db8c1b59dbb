/**
 * The SSH key pair of a cluster (kops `--ssh-public-key`), used by every launch template.
 */
import { KeyPair } from "@cdktf/provider-aws/lib/key-pair";
import { Construct } from "constructs";
import { clusterSlug } from "./names";

/** Props of {@link SshKey}. */
export interface SshKeyProps {
  readonly clusterName: string;
  /** The OpenSSH public key (never a private key: only public material is stored or emitted). */
  readonly publicKey: string;
}

/** `aws_key_pair.kubernetes-<cluster>`, named `kubernetes.<cluster>` in EC2 as kops names it. */
export class SshKey extends Construct {
  readonly keyName: string;

  constructor(scope: Construct, id: string, props: SshKeyProps) {
    super(scope, id);
    const key = new KeyPair(this, `kubernetes-${clusterSlug(props.clusterName)}`, {
      keyName: `kubernetes.${props.clusterName}`,
      publicKey: props.publicKey,
      tags: { Name: `kubernetes.${props.clusterName}` },
    });
    this.keyName = key.keyName;
  }
}
