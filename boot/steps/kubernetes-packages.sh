# shellcheck shell=bash disable=SC2153 # KUBERNETES_* come from cluster.env (load_cluster_env)
# Step: kubelet, kubeadm and kubectl of the spec's Kubernetes version, on masters and nodes, from the
# official package repository of that minor version (pkgs.k8s.io; or a mirror with its layout,
# KUBERNETES_PACKAGE_REPOSITORY). The repository's signing key is trusted only when its fingerprint
# is the pinned one (KUBERNETES_PACKAGE_KEY_FINGERPRINT); apt then checks every package against it.
# The exact version is installed and held, so no upgrade moves it; an installed version is kept.

readonly K8S_KEYRING=/etc/apt/keyrings/kubernetes-apt-keyring.gpg

# repository_key URL: fetches the repository's key, checks that it is one key with the pinned
# fingerprint (a second key in the file would be trusted too), writes the keyring. gpg works in a
# home of its own under the working directory: nothing is imported anywhere.
repository_key() {
  local url=$1 fingerprint keys
  local -a gpg=(gpg --homedir "$WORK_DIR/gnupg" --batch)
  install -d -m 0700 "$WORK_DIR/gnupg"
  fetch_unverified_key "$url" "$WORK_DIR/Release.key"
  "${gpg[@]}" --show-keys --with-colons "$WORK_DIR/Release.key" >"$WORK_DIR/key.colons" 2>"$WORK_DIR/err" ||
    die "gpg could not read the key at $url: $(one_line "$WORK_DIR/err")"
  keys="$(grep -c '^pub:' "$WORK_DIR/key.colons" || true)"
  fingerprint="$(awk -F: '$1 == "fpr" {print $10; exit}' "$WORK_DIR/key.colons")"
  [[ $keys == 1 && $fingerprint == "$KUBERNETES_PACKAGE_KEY_FINGERPRINT" ]] ||
    die "the key file at $url holds ${keys:-0} keys, the first with fingerprint ${fingerprint:-none}; kopsform trusts one key, $KUBERNETES_PACKAGE_KEY_FINGERPRINT"
  mkdir -p "$ROOT${K8S_KEYRING%/*}"
  "${gpg[@]}" --dearmor <"$WORK_DIR/Release.key" >"$WORK_DIR/keyring.gpg" 2>"$WORK_DIR/err" ||
    die "gpg could not read the key at $url: $(one_line "$WORK_DIR/err")"
  write_if_changed "$ROOT$K8S_KEYRING" 0644 <"$WORK_DIR/keyring.gpg" || true
}

# fetch_unverified_key URL FILE: the key is checked by its fingerprint, not by a digest.
fetch_unverified_key() {
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "download of $1" curl -fsSL --connect-timeout 10 --max-time 60 -o "$2" "$1" ||
    give_up "could not download $1"
}

install_kubernetes_packages() {
  local minor=${KUBERNETES_VERSION%.*} installed_version version
  local repository="${KUBERNETES_PACKAGE_REPOSITORY%/}/v$minor/deb/"
  installed_version="$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null || true)"
  if [[ $installed_version == "$KUBERNETES_VERSION"-* ]] && dpkg-query -W kubelet kubectl >/dev/null 2>&1; then
    log "Kubernetes packages $installed_version are installed"
    return 0
  fi
  repository_key "${repository}Release.key"
  printf 'deb [signed-by=%s] %s /\n' "$K8S_KEYRING" "$repository" |
    write_if_changed "$ROOT/etc/apt/sources.list.d/kubernetes.list" 0644 || true
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "apt-get update" apt-get update -q ||
    give_up "apt-get update failed for $repository"
  version="$(apt-cache madison kubeadm | awk -v v="$KUBERNETES_VERSION" '$3 ~ "^" v "-" {print $3; exit}')"
  [[ -n $version ]] || die "$repository has no kubeadm $KUBERNETES_VERSION; check kubernetesVersion or the mirror"
  apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "apt-get install of Kubernetes $version" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "kubelet=$version" "kubeadm=$version" "kubectl=$version" ||
    give_up "could not install kubelet, kubeadm and kubectl $version from $repository"
  apt-mark hold kubelet kubeadm kubectl >/dev/null || die "apt-mark could not hold the Kubernetes packages"
  log "installed kubelet, kubeadm and kubectl $version from $repository (held)"
}
