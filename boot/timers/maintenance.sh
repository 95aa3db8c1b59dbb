#!/bin/bash
# kopsform-maintenance.timer (hourly): what a running master keeps right between boots.
#  - renews this member's etcd certificates when they expire within ETCD_CERT_RENEW_DAYS days or no
#    longer name its address (etcd reads them at every handshake: no restart);
#  - grows the etcd filesystems after their volumes were made larger in EBS;
#  - writes each etcd cluster's "created" marker once it has a quorum, if no boot could.
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}/.."
# shellcheck source=../lib.sh
source "$HERE/lib.sh"
# shellcheck source=../steps/store.sh
source "$HERE/steps/store.sh"
# shellcheck source=../steps/store-write.sh
source "$HERE/steps/store-write.sh"
# shellcheck source=../steps/volumes.sh
source "$HERE/steps/volumes.sh"
# shellcheck source=../steps/pki.sh
source "$HERE/steps/pki.sh"
# shellcheck source=../steps/etcd.sh
source "$HERE/steps/etcd.sh"

main() {
  local spec etcd device mount_path
  load_cluster_env CLUSTER_NAME ETCD_MEMBER KMS_KEY ETCD_CERT_DAYS ETCD_CERT_RENEW_DAYS
  load_instance_facts
  ETCD_MEMBERS="$(<"$ETCD_MEMBERS_FILE")"
  ensure_etcd_pki
  for spec in "${ETCD_VOLUMES[@]}"; do
    read -r etcd device mount_path <<<"$spec"
    grow_filesystem "$etcd" "$mount_path"
    etcd_vars "$etcd"
    ensure_created_marker
  done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
