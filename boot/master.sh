#!/bin/bash
# A master's boot, in order (kopsform-boot.service runs it at every boot; every step is idempotent,
# so a second run changes nothing that is right already). Each step is one file of steps/.
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=steps/store.sh
source "$HERE/steps/store.sh"
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

main() {
  load_cluster_env CLUSTER_NAME ROLE ETCD_MEMBER KMS_KEY KUBERNETES_VERSION \
    ETCD_VERSION ETCD_SHA256_AMD64 ETCD_SHA256_ARM64 ETCD_DOWNLOAD_URL \
    ATTACH_ATTEMPTS ATTACH_DELAY_SECONDS DEVICE_WAIT_ATTEMPTS DEVICE_WAIT_DELAY_SECONDS \
    INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS ETCD_JOIN_ATTEMPTS ETCD_JOIN_DELAY_SECONDS \
    ETCD_PROMOTE_ATTEMPTS ETCD_QUORUM_WAIT_ATTEMPTS ETCD_CERT_DAYS ETCD_CERT_RENEW_DAYS
  log "boot of master $ETCD_MEMBER of $CLUSTER_NAME (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION)"
  load_instance_facts
  log "instance $INSTANCE_ID in $ZONE ($REGION), address $PRIVATE_IP, $ARCH"
  ensure_aws_cli                # 1. the AWS CLI
  attach_etcd_volumes           # 2. etcd volumes attached and mounted; the member list from their tags
  refresh_etcd_hosts || true    # 3. etcd names in /etc/hosts (and every 15 s, kopsform-hosts.timer)
  systemctl start kopsform-hosts.timer
  install_etcd                  # 4. the pinned etcd release, checked by sha256
  ensure_etcd_pki               # 5. CAs (create-once) and this member's certificates
  run_etcd main                 # 6. etcd main, then events: formed, joined or started as is
  run_etcd events
  systemctl start kopsform-etcd-backup@main.timer kopsform-etcd-backup@events.timer kopsform-maintenance.timer
  log "master $ETCD_MEMBER is up: etcd main and events healthy"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
