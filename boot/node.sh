#!/bin/bash
# A node's boot, in order (kopsform-boot.service runs it at every boot; every step is idempotent).
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=steps/store.sh
source "$HERE/steps/store.sh"
# shellcheck source=steps/aws-cli.sh
source "$HERE/steps/aws-cli.sh"
# shellcheck source=steps/kernel.sh
source "$HERE/steps/kernel.sh"
# shellcheck source=steps/containerd.sh
source "$HERE/steps/containerd.sh"
# shellcheck source=steps/kubernetes-packages.sh
source "$HERE/steps/kubernetes-packages.sh"
# shellcheck source=steps/kubelet.sh
source "$HERE/steps/kubelet.sh"
# shellcheck source=steps/join.sh
source "$HERE/steps/join.sh"

main() {
  load_cluster_env CLUSTER_NAME ROLE KUBERNETES_VERSION INSTANCE_GROUP NODE_LABELS NODE_TAINTS \
    INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS JOIN_WAIT_ATTEMPTS JOIN_WAIT_DELAY_SECONDS \
    CONTAINERD_VERSION CONTAINERD_SHA256_AMD64 CONTAINERD_SHA256_ARM64 CONTAINERD_DOWNLOAD_URL \
    RUNC_VERSION RUNC_SHA256_AMD64 RUNC_SHA256_ARM64 RUNC_DOWNLOAD_URL \
    KUBERNETES_PACKAGE_REPOSITORY KUBERNETES_PACKAGE_KEY_FINGERPRINT
  load_instance_facts
  log "boot of $ROLE $INSTANCE_ID (instance group $INSTANCE_GROUP) of $CLUSTER_NAME in $ZONE, address $PRIVATE_IP"
  ensure_aws_cli                # 1. the AWS CLI
  prepare_kernel                # 2. kernel modules and settings for containers
  install_containerd            # 3. containerd and runc, pinned and checked
  install_kubernetes_packages   # 4. kubelet, kubeadm, kubectl of the spec's version
  join_cluster                  # 5. kubeadm join, with the token the masters keep
  log "node $INSTANCE_ID joined $CLUSTER_NAME"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
