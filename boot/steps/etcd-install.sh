# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step: install the pinned etcd release, checked by sha256 before anything of it runs.
#
# The version, the sha256 of each architecture's archive and the download location come from the
# spec (cluster.env: ETCD_VERSION, ETCD_SHA256_AMD64, ETCD_SHA256_ARM64, ETCD_DOWNLOAD_URL; the
# location may be a private mirror with upstream's layout: URL/vVERSION/etcd-vVERSION-linux-ARCH.tar.gz).
# Never "latest". An installed release is kept (checked again by its recorded digest), so a reboot
# downloads nothing. A download that fails is retried, then the instance asks for a replacement (the
# network may not have been ready); an archive whose digest differs is refused without replacement:
# a new instance would download the same archive.

readonly ETCD_INSTALL_DIR="$KOPSFORM_HOME/etcd"

install_etcd() {
  local sha256_var="ETCD_SHA256_${ARCH^^}" archive="etcd-v$ETCD_VERSION-linux-$ARCH"
  local expected=${!sha256_var} dir="$ETCD_INSTALL_DIR/v$ETCD_VERSION"
  local url="${ETCD_DOWNLOAD_URL%/}/v$ETCD_VERSION/$archive.tar.gz"
  [[ $expected =~ ^[0-9a-f]{64}$ ]] || die "no sha256 for etcd $ETCD_VERSION on $ARCH in cluster.env ($sha256_var)"
  if [[ -x $dir/etcd && -f $dir/.sha256 && $(<"$dir/.sha256") == "$expected" ]]; then
    log "etcd $ETCD_VERSION is installed"
  else
    log "downloading etcd $ETCD_VERSION ($ARCH) from $url"
    fetch_verified "$url" "$expected" "$WORK_DIR/etcd.tar.gz"
    mkdir -p "$WORK_DIR/etcd"
    tar -xzf "$WORK_DIR/etcd.tar.gz" -C "$WORK_DIR/etcd" --no-same-owner || die "could not unpack $url"
    rm -rf "$dir.new"
    mkdir -p "$dir.new"
    local binary
    for binary in etcd etcdctl etcdutl; do
      if [[ -f $WORK_DIR/etcd/$archive/$binary ]]; then
        install -m 0755 "$WORK_DIR/etcd/$archive/$binary" "$dir.new/$binary"
      fi
    done
    [[ -x $dir.new/etcd && -x $dir.new/etcdctl ]] || die "$url holds no $archive/etcd and etcdctl"
    printf '%s' "$expected" >"$dir.new/.sha256"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
    log "installed etcd $ETCD_VERSION in $dir (sha256 $expected)"
  fi
  ln -sfn "v$ETCD_VERSION" "$ETCD_INSTALL_DIR/current"
  hash -r
}
