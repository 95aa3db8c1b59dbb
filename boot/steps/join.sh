# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, NODE_LABELS... come from cluster.env
# Step (nodes): join the cluster with the bootstrap token and the CA's hash the masters keep in the
# run-time store (join/token, join/ca-cert-hash; only masters and nodes may read them), at the API's
# endpoint (config/api-endpoint). The group's labels and taints go to the kubelet as kops applies
# them (--node-labels, and the taints at registration); the node is named after its instance. A
# node that joined before (its kubelet.conf exists) only makes sure its kubelet runs. The token is
# written to a file readable by root only, for kubeadm, and removed with the working directory.

readonly KUBELET_CONF="$ROOT/etc/kubernetes/kubelet.conf"

# taints_yaml: NODE_TAINTS ("k=v:Effect,k2:Effect") as nodeRegistration.taints.
taints_yaml() {
  local taint key value effect
  if [[ -z $NODE_TAINTS ]]; then
    printf '  taints: []\n'
    return 0
  fi
  printf '  taints:\n'
  for taint in ${NODE_TAINTS//,/ }; do
    effect=${taint##*:} key=${taint%:*} value=""
    [[ $key == *=* ]] && value=${key#*=} key=${key%%=*}
    printf '    - key: "%s"\n      value: "%s"\n      effect: %s\n' "$key" "$value" "$effect"
  done
}

# read_join (bounded): waits for the masters to have stored a token (they may still be starting).
read_join() {
  local attempt
  for ((attempt = 1; attempt <= JOIN_WAIT_ATTEMPTS; attempt++)); do
    if ssm_get "$(store_path join/token)" "$WORK_DIR/token" && ssm_get "$(store_path join/ca-cert-hash)" "$WORK_DIR/hash"; then
      return 0
    fi
    log "no join token in the run-time store yet ($attempt/$JOIN_WAIT_ATTEMPTS): the masters are not ready"
    sleep "$JOIN_WAIT_DELAY_SECONDS"
  done
  give_up "no join token appeared in $(store_path join/token) within $((JOIN_WAIT_ATTEMPTS * JOIN_WAIT_DELAY_SECONDS))s"
}

join_cluster() {
  local endpoint token hash
  if [[ -f $KUBELET_CONF ]]; then
    log "this node joined before; starting the kubelet"
    systemctl start kubelet.service || die "kubelet.service did not start"
    return 0
  fi
  read_join
  token="$(<"$WORK_DIR/token")" hash="$(<"$WORK_DIR/hash")"
  [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "join/token does not hold a bootstrap token"
  [[ $hash =~ ^sha256:[0-9a-f]{64}$ ]] || die "join/ca-cert-hash holds ${hash@Q}, not sha256:HEX"
  ssm_get "$(store_path config/api-endpoint)" "$WORK_DIR/api-endpoint" ||
    die "$(store_path config/api-endpoint) is missing; it is written by Terraform with the cluster"
  endpoint="$(<"$WORK_DIR/api-endpoint")"
  [[ $endpoint =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "config/api-endpoint holds ${endpoint@Q}, not a DNS name"
  (
    umask 077
    cat <<YAML >"$WORK_DIR/join.yaml"
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "$endpoint:443"
    token: "$token"
    caCertHashes:
      - "$hash"
nodeRegistration:
  name: "$INSTANCE_ID"
  criSocket: "$CRI_SOCKET"
$(taints_yaml)
  kubeletExtraArgs:
$(kubelet_args "$NODE_LABELS")
YAML
  )
  kubeadm config validate --config "$WORK_DIR/join.yaml" >"$WORK_DIR/kubeadm.out" 2>&1 ||
    die "kubeadm refuses the join configuration: $(one_line "$WORK_DIR/kubeadm.out")"
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "kubeadm join $endpoint:443" kubeadm join --config "$WORK_DIR/join.yaml" ||
    give_up "could not join the cluster at $endpoint:443"
  log "joined the cluster at $endpoint:443 as $INSTANCE_ID (labels: ${NODE_LABELS:-none}; taints: ${NODE_TAINTS:-none})"
}
