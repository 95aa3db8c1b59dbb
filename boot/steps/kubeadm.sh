# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, KUBERNETES_VERSION... come from cluster.env
# Step (masters): this master's Kubernetes control plane, built by kubeadm's own phases from the
# shared CAs (steps/kubernetes-pki.sh), never with `kubeadm join --control-plane` (it refuses a
# non-empty etcd, and its certificate key expires after two hours): every master builds its control
# plane the same way at every boot, and no master depends on another being up.
#
# etcd is external (this master's own members: https://127.0.0.1:4001, events on 4002 through
# --etcd-servers-overrides); the API listens on 443 behind the load balancer, at the endpoint the
# run-time store names (config/api-endpoint: api.NAME with a DNS zone, else the load balancer's
# name); the kubelet talks to the local API server; the cloud provider is external; the node is
# named after its instance, as kops names nodes. The configuration is checked by kubeadm itself
# (`kubeadm config validate`: unknown fields are only warned about by the phases).
#
# The cluster-wide steps (the uploaded configuration, bootstrap-token RBAC and cluster-info, CoreDNS,
# kube-proxy unless the network replaces it) run once for the cluster: the first master to create
# k8s/init-owner in the run-time store owns them, and runs them (again, after a failure) until it
# records k8s/initialized; no master runs them after that, a replacement included.

readonly KUBEADM_CONFIG="$ROOT/etc/kubernetes/kubeadm.yaml"
readonly ADMIN_CONF="$ROOT/etc/kubernetes/admin.conf"
# The further names of the API for its certificates (api_names), read by run_control_plane.
API_NAMES=()

# api_endpoint: the API's name (config/api-endpoint, written by Terraform).
api_endpoint() {
  local endpoint
  ssm_get "$(store_path config/api-endpoint)" "$WORK_DIR/api-endpoint" ||
    die "$(store_path config/api-endpoint) is missing; it is written by Terraform with the cluster"
  endpoint="$(<"$WORK_DIR/api-endpoint")"
  [[ $endpoint =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "config/api-endpoint holds ${endpoint@Q}, not a DNS name"
  printf '%s' "$endpoint"
}

# api_names: the further names the API is reached by (config/api-names, written by Terraform: the
# name in users' kubeconfigs), one per line; none when the parameter is absent.
api_names() {
  local name
  ssm_get "$(store_path config/api-names)" "$WORK_DIR/api-names" || return 0
  for name in $(tr ',' ' ' <"$WORK_DIR/api-names"); do
    [[ $name =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || die "config/api-names holds ${name@Q}, not a DNS name"
    printf '%s\n' "$name"
  done
}

# write_kubeadm_config ENDPOINT: the master's configuration (no secret in it).
write_kubeadm_config() {
  local endpoint=$1 minor=${KUBERNETES_VERSION#*.} name
  minor=${minor%%.*}
  mkdir -p "${KUBEADM_CONFIG%/*}"
  {
    cat <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: "$PRIVATE_IP"
  bindPort: 443
nodeRegistration:
  name: "$INSTANCE_ID"
  criSocket: "$CRI_SOCKET"
  taints:
    - key: node-role.kubernetes.io/control-plane
      effect: NoSchedule
  kubeletExtraArgs:
$(kubelet_args "kopsform.io/etcd-member=$ETCD_MEMBER")
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: "$CLUSTER_NAME"
kubernetesVersion: "v$KUBERNETES_VERSION"
controlPlaneEndpoint: "$endpoint:443"
certificatesDir: "$ROOT/etc/kubernetes/pki"
encryptionAlgorithm: ECDSA-P256
networking:
  podSubnet: "$POD_CIDR"
  serviceSubnet: "$SERVICE_CIDR"
  dnsDomain: cluster.local
etcd:
  external:
    endpoints:
      - https://127.0.0.1:4001
    caFile: "$ROOT/etc/kubernetes/pki/etcd/ca.crt"
    certFile: "$ROOT/etc/kubernetes/pki/apiserver-etcd-client.crt"
    keyFile: "$ROOT/etc/kubernetes/pki/apiserver-etcd-client.key"
apiServer:
  certSANs:
    - "$endpoint"
$(for name in "${API_NAMES[@]}"; do [[ $name == "$endpoint" ]] || printf '    - "%s"\n' "$name"; done)
    - "$PRIVATE_IP"
    - "127.0.0.1"
    - localhost
  extraArgs:
    - name: etcd-servers-overrides
      value: "/events#https://127.0.0.1:4002"
controllerManager:
  extraArgs:
    - name: cloud-provider
      value: "external"
proxy:
  disabled: $([[ $KUBE_PROXY == true ]] && echo false || echo true)
YAML
    # The kubelet of a master talks to its own API server (GA, and no longer a gate, from 1.36).
    if ((minor <= 35)); then
      printf 'featureGates:\n  ControlPlaneKubeletLocalMode: true\n'
    fi
    cat <<YAML
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: "$CRI_SOCKET"
clusterDomain: cluster.local
rotateCertificates: true
YAML
  } | write_if_changed "$KUBEADM_CONFIG" 0600 || true
}

# phase ARGS...: one `kubeadm init phase` with this master's configuration, logged; fatal when it fails.
phase() {
  phase_with "$KUBEADM_CONFIG" "$@"
}

# phase_with CONFIG ARGS...: the same with another configuration file.
phase_with() {
  local config=$1
  shift
  log "kubeadm init phase $*"
  kubeadm init phase "$@" --config "$config" >"$WORK_DIR/kubeadm.out" 2>&1 ||
    die "kubeadm init phase $* failed: $(one_line "$WORK_DIR/kubeadm.out")"
}

# wait_for_api: waits (bounded) for this master's API server to be ready.
wait_for_api() {
  local attempt
  for ((attempt = 1; attempt <= KUBE_API_WAIT_ATTEMPTS; attempt++)); do
    if kubectl --kubeconfig "$ADMIN_CONF" get --raw=/readyz >/dev/null 2>&1; then
      log "the API server of this master is ready"
      return 0
    fi
    ((attempt % 10 == 0)) && log "waiting for the API server of this master ($attempt/$KUBE_API_WAIT_ATTEMPTS)"
    sleep "$KUBE_API_WAIT_DELAY_SECONDS"
  done
  die "the API server of this master is not ready after $((KUBE_API_WAIT_ATTEMPTS * KUBE_API_WAIT_DELAY_SECONDS))s; see crictl ps -a and the kubelet's journal"
}

# run_control_plane: the per-master phases, at every boot (each keeps what is right already).
run_control_plane() {
  local endpoint
  endpoint="$(api_endpoint)"
  api_names >"$WORK_DIR/api-names.list"
  mapfile -t API_NAMES <"$WORK_DIR/api-names.list"
  write_kubeadm_config "$endpoint"
  kubeadm config validate --config "$KUBEADM_CONFIG" >"$WORK_DIR/kubeadm.out" 2>&1 ||
    die "kubeadm refuses the configuration $KUBEADM_CONFIG: $(one_line "$WORK_DIR/kubeadm.out")"
  phase certs all
  phase kubeconfig all
  phase control-plane all
  phase kubelet-start
  wait_for_api
  phase mark-control-plane
  phase kubelet-finalize all
  remove_predecessor_nodes
}

# remove_predecessor_nodes: the Node of a master this one replaced (same etcd member, another
# instance) is gone for good; a replacement removes it rather than leave a NotReady control plane.
remove_predecessor_nodes() {
  local node
  kubectl --kubeconfig "$ADMIN_CONF" get nodes -l "kopsform.io/etcd-member=$ETCD_MEMBER" -o name >"$WORK_DIR/nodes" 2>"$WORK_DIR/err" ||
    die "could not list the Nodes of member $ETCD_MEMBER: $(one_line "$WORK_DIR/err")"
  while IFS= read -r node; do
    [[ -z $node || $node == "node/$INSTANCE_ID" ]] && continue
    kubectl --kubeconfig "$ADMIN_CONF" delete "$node" --wait=false >/dev/null 2>"$WORK_DIR/err" ||
      die "could not delete $node: $(one_line "$WORK_DIR/err")"
    log "deleted $node, the Node of the master this one replaced (etcd member $ETCD_MEMBER)"
  done <"$WORK_DIR/nodes"
}

# new_token: a new bootstrap token (kubeadm's generator), checked for kubeadm's form.
new_token() {
  local token
  token="$(kubeadm token generate)" || die "kubeadm could not generate a token"
  [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm generated a token of an unexpected form"
  printf '%s' "$token"
}

# store_join_token TOKEN: TOKEN (created in the API already) in the run-time store (join/token),
# with the CA's hash (join/ca-cert-hash: sha256 of the CA's public key, DER), for nodes.
store_join_token() {
  (umask 077 && printf '%s' "$1" >"$WORK_DIR/token")
  ssm_put "$(store_path join/token)" SecureString "$WORK_DIR/token"
  printf 'sha256:%s' "$(openssl x509 -in "$K8S_PKI/ca.crt" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)" >"$WORK_DIR/hash"
  ssm_put "$(store_path join/ca-cert-hash)" String "$WORK_DIR/hash"
  log "stored a bootstrap token for nodes (valid 24 h) and the CA's hash"
}

# renew_join_token: a new 24-hour token, made by kubeadm in the API (printed, never passed as an
# argument: arguments are readable by every local process), then stored. The leader of etcd main
# runs it hourly (kopsform-join-token.timer), so a node always finds a valid token.
renew_join_token() {
  local token
  token="$(kubeadm token create --ttl 24h0m0s --description "kopsform: nodes joining $CLUSTER_NAME" \
    --kubeconfig "$ADMIN_CONF" 2>"$WORK_DIR/err")" || die "kubeadm could not create a bootstrap token: $(one_line "$WORK_DIR/err")"
  [[ $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm printed a bootstrap token of an unexpected form"
  store_join_token "$token"
}

# with_bootstrap_token TOKEN: this master's configuration with TOKEN as InitConfiguration's only
# bootstrap token (else kubeadm's bootstrap-token phase makes a random one nobody stores), in a
# file readable by root only, in the working directory (removed when the boot ends).
with_bootstrap_token() {
  # The token reaches awk in its environment (readable by root only), not in its arguments.
  (umask 077 && KOPSFORM_TOKEN="$1" awk '{ print }
    $0 == "kind: InitConfiguration" {
      print "bootstrapTokens:"
      print "  - token: \"" ENVIRON["KOPSFORM_TOKEN"] "\""
      print "    ttl: 24h0m0s"
      print "    usages: [signing, authentication]"
      print "    groups: [\"system:bootstrappers:kubeadm:default-node-token\"]"
    }' "$KUBEADM_CONFIG" >"$WORK_DIR/kubeadm-token.yaml")
  printf '%s' "$WORK_DIR/kubeadm-token.yaml"
}

# run_cluster_wide_once: the cluster-wide steps, by their owner, until they are recorded as done.
run_cluster_wide_once() {
  local initialized owner token
  initialized="$(store_path k8s/initialized)" owner="$(store_path k8s/init-owner)"
  if ssm_get "$initialized" "$WORK_DIR/initialized"; then
    log "the cluster-wide steps were done ($(tr '\n' ' ' <"$WORK_DIR/initialized")); not again"
    return 0
  fi
  printf 'member=%s\n' "$ETCD_MEMBER" >"$WORK_DIR/owner"
  if ! ssm_put_once "$owner" String "$WORK_DIR/owner"; then
    ssm_get "$owner" "$WORK_DIR/owner" || die "$owner vanished"
    if [[ $(<"$WORK_DIR/owner") != "member=$ETCD_MEMBER" ]]; then
      log "the cluster-wide steps are another master's ($(<"$WORK_DIR/owner")); not here"
      return 0
    fi
  fi
  log "running the cluster-wide steps (this master owns them)"
  token="$(new_token)"
  phase upload-config all
  phase_with "$(with_bootstrap_token "$token")" bootstrap-token --skip-token-print
  phase addon coredns
  if [[ $KUBE_PROXY == true ]]; then
    phase addon kube-proxy
  else
    log "not installing kube-proxy: the pod network replaces it"
  fi
  store_join_token "$token"
  printf 'created_at=%(%Y-%m-%dT%H:%M:%SZ)T by=%s\n' -1 "$ETCD_MEMBER" >"$WORK_DIR/initialized"
  ssm_put_once "$initialized" String "$WORK_DIR/initialized" || true
  log "the cluster-wide steps are done: wrote $initialized"
}
