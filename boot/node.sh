#!/bin/bash
# A node's boot, in order (kopsform-boot.service runs it at every boot; every step is idempotent).
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

main() {
  load_cluster_env CLUSTER_NAME ROLE KUBERNETES_VERSION INSTANCE_GROUP NODE_LABELS NODE_TAINTS
  load_instance_facts
  log "boot of $ROLE $INSTANCE_ID (instance group $INSTANCE_GROUP) of $CLUSTER_NAME in $ZONE, address $PRIVATE_IP"
  log "labels: ${NODE_LABELS:-none}; taints: ${NODE_TAINTS:-none}"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
