# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME... come from cluster.env (load_cluster_env)
# Step (masters): the Kubernetes control plane's shared keys, where kubeadm expects them.
#
# The Kubernetes CA (pki/kubernetes-ca: `kopsform export kubecfg` reads it too), the front-proxy CA
# and the service-account key pair (pki/kubernetes) come from the run-time store, created once by
# the first master that finds none, like etcd's CAs (steps/pki.sh), so that every master signs
# with the same CAs and verifies the same service-account tokens. kubeadm then issues each master's
# own certificates from them (steps/kubeadm.sh). kube-apiserver reaches etcd with a client
# certificate this master issues from etcd's clients CA. Keys are readable by root only; the CA keys
# must be on disk here: kube-controller-manager signs the kubelets' certificates with ca.key.

readonly K8S_PKI="$ROOT/etc/kubernetes/pki"

# install_ca NAME TARGET: CA NAME (read by ensure_cas) as TARGET.crt and TARGET.key.
install_ca() {
  install -m 0644 "$WORK_DIR/$1.crt" "$K8S_PKI/$2.crt"
  install -m 0600 "$WORK_DIR/$1.key" "$K8S_PKI/$2.key"
}

ensure_kubernetes_pki() {
  ensure_cas "$(store_path pki/kubernetes-ca)" "$WORK_DIR/kubernetes" kubernetes-ca
  ensure_cas "$(store_path pki/kubernetes)" "$WORK_DIR/kubernetes" front-proxy-ca service-account
  mkdir -p "$K8S_PKI/etcd"
  chmod 0755 "$K8S_PKI"
  install_ca kubernetes-ca ca
  install_ca front-proxy-ca front-proxy-ca
  install -m 0600 "$WORK_DIR/service-account.key" "$K8S_PKI/sa.key"
  openssl pkey -in "$WORK_DIR/service-account.key" -pubout -out "$WORK_DIR/sa.pub" 2>"$WORK_DIR/err" ||
    die "openssl could not derive the service-account public key: $(one_line "$WORK_DIR/err")"
  install -m 0644 "$WORK_DIR/sa.pub" "$K8S_PKI/sa.pub"
  install -m 0644 "$ETCD_PKI/etcd-clients-ca.crt" "$K8S_PKI/etcd/ca.crt"
  cert_is_current "$K8S_PKI/apiserver-etcd-client.crt" "$ETCD_PKI/etcd-clients-ca.crt" "" ||
    issue_cert "$ETCD_PKI/etcd-clients-ca.crt" "$K8S_PKI/apiserver-etcd-client" kube-apiserver-etcd-client clientAuth ""
  log "Kubernetes PKI in place: the cluster's CAs and service-account key, this master's etcd client certificate"
}
