#!/bin/bash
# kopsform-join-token.timer (hourly, on every master): the leader of etcd main stores a new 24-hour
# bootstrap token for nodes (steps/kubeadm.sh renew_join_token), so a valid one is always there.
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
# shellcheck source=../steps/kubernetes-pki.sh
source "$HERE/steps/kubernetes-pki.sh"
# shellcheck source=../steps/kubelet.sh
source "$HERE/steps/kubelet.sh"
# shellcheck source=../steps/kubeadm.sh
source "$HERE/steps/kubeadm.sh"

main() {
  load_cluster_env CLUSTER_NAME ETCD_MEMBER KMS_KEY
  load_instance_facts # the region, for the AWS CLI
  ETCD_MEMBERS="$(<"$KOPSFORM_STATE/etcd-members")"
  etcd_vars main
  if [[ "$(local_status)" != "true "* ]]; then
    log "this master does not lead etcd main; the leader renews the join token"
    return 0
  fi
  renew_join_token
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
