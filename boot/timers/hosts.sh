#!/bin/bash
# kopsform-hosts.timer (every 15 s): rebuilds the etcd names in /etc/hosts (steps/hosts.sh).
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}/.."
# shellcheck source=../lib.sh
source "$HERE/lib.sh"
# shellcheck source=../steps/hosts.sh
source "$HERE/steps/hosts.sh"

main() {
  load_cluster_env CLUSTER_NAME ETCD_MEMBER
  load_instance_facts
  refresh_etcd_hosts
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
