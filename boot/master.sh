#!/bin/bash
# A master's boot, in order (kopsform-boot.service runs it at every boot; every step is idempotent,
# so a second run changes nothing that is right already). Each step is one file of steps/.
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=steps/store.sh
source "$HERE/steps/store.sh"
# shellcheck source=steps/store-write.sh
source "$HERE/steps/store-write.sh"
# shellcheck source=steps/aws-cli.sh
source "$HERE/steps/aws-cli.sh"
# shellcheck source=steps/volumes.sh
source "$HERE/steps/volumes.sh"
# shellcheck source=steps/hosts.sh
source "$HERE/steps/hosts.sh"
# shellcheck source=steps/etcd-install.sh
source "$HERE/steps/etcd-install.sh"
# shellcheck source=steps/pki.sh
source "$HERE/steps/pki.sh"
# shellcheck source=steps/etcd.sh
source "$HERE/steps/etcd.sh"
# shellcheck source=steps/kernel.sh
source "$HERE/steps/kernel.sh"
# shellcheck source=steps/containerd.sh
source "$HERE/steps/containerd.sh"
# shellcheck source=steps/kubernetes-packages.sh
source "$HERE/steps/kubernetes-packages.sh"
# shellcheck source=steps/kubernetes-pki.sh
source "$HERE/steps/kubernetes-pki.sh"
# shellcheck source=steps/kubelet.sh
source "$HERE/steps/kubelet.sh"
# shellcheck source=steps/kubeadm.sh
source "$HERE/steps/kubeadm.sh"
# shellcheck source=steps/addons.sh
source "$HERE/steps/addons.sh"

main() {
  load_cluster_env CLUSTER_NAME ROLE ETCD_MEMBER KMS_KEY KUBERNETES_VERSION \
    ETCD_VERSION ETCD_SHA256_AMD64 ETCD_SHA256_ARM64 ETCD_DOWNLOAD_URL \
    ATTACH_ATTEMPTS ATTACH_DELAY_SECONDS DEVICE_WAIT_ATTEMPTS DEVICE_WAIT_DELAY_SECONDS \
    INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS ETCD_JOIN_ATTEMPTS ETCD_JOIN_DELAY_SECONDS \
    ETCD_PROMOTE_ATTEMPTS ETCD_QUORUM_WAIT_ATTEMPTS ETCD_CERT_DAYS ETCD_CERT_RENEW_DAYS \
    CONTAINERD_VERSION CONTAINERD_SHA256_AMD64 CONTAINERD_SHA256_ARM64 CONTAINERD_DOWNLOAD_URL \
    RUNC_VERSION RUNC_SHA256_AMD64 RUNC_SHA256_ARM64 RUNC_DOWNLOAD_URL \
    KUBERNETES_PACKAGE_REPOSITORY KUBERNETES_PACKAGE_KEY_FINGERPRINT POD_CIDR SERVICE_CIDR KUBE_PROXY \
    KUBE_API_WAIT_ATTEMPTS KUBE_API_WAIT_DELAY_SECONDS
  log "boot of master $ETCD_MEMBER of $CLUSTER_NAME (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION)"
  load_instance_facts
  log "instance $INSTANCE_ID in $ZONE ($REGION), address $PRIVATE_IP, $ARCH"
  ensure_aws_cli                # 1. the AWS CLI
  attach_etcd_volumes           # 2. etcd volumes attached and mounted; the member list from their tags
  refresh_etcd_hosts || true    # 3. etcd names in /etc/hosts (and every 15 s, kopsform-hosts.timer)
  systemctl start kopsform-hosts.timer
  install_etcd                  # 4. the pinned etcd release, checked by sha256
  ensure_etcd_pki               # 5. etcd's CAs (create-once) and this member's certificates
  run_etcd main                 # 6. etcd main, then events: formed, joined or started as is
  run_etcd events
  systemctl start kopsform-etcd-backup@main.timer kopsform-etcd-backup@events.timer kopsform-maintenance.timer
  prepare_kernel                # 7. kernel modules and settings for containers
  install_containerd            # 8. containerd and runc, pinned and checked
  install_kubernetes_packages   # 9. kubelet, kubeadm, kubectl of the spec's version
  ensure_kubernetes_pki         # 10. the cluster's CAs (create-once) where kubeadm expects them
  run_control_plane             # 11. this master's control plane (kubeadm's phases), on its etcd
  run_cluster_wide_once         # 12. the cluster-wide steps, once for the cluster
  systemctl start kopsform-join-token.timer # before the add-ons: a failing add-on must not stop the token's renewal
  apply_addons "$ADMIN_CONF"    # 13. the pinned add-ons (cloud controller, pod network, ...), once per version
  log "master $ETCD_MEMBER is up: etcd main and events healthy, the control plane ready"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
