#!/bin/bash
# kopsform-etcd-backup@CLUSTER.timer: the leader of etcd CLUSTER backs it up (steps/etcd-backup.sh).
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}/.."
# shellcheck source=../lib.sh
source "$HERE/lib.sh"
# shellcheck source=../steps/store.sh
source "$HERE/steps/store.sh"
# shellcheck source=../steps/store-write.sh
source "$HERE/steps/store-write.sh"
# shellcheck source=../steps/pki.sh
source "$HERE/steps/pki.sh"
# shellcheck source=../steps/etcd.sh
source "$HERE/steps/etcd.sh"
# shellcheck source=../steps/etcd-backup.sh
source "$HERE/steps/etcd-backup.sh"

main() {
  load_cluster_env CLUSTER_NAME ETCD_MEMBER KMS_KEY
  load_instance_facts
  ETCD_MEMBERS="$(<"$KOPSFORM_STATE/etcd-members")"
  backup_etcd "${1:?usage: etcd-backup.sh main|events}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
