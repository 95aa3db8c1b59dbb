# shellcheck shell=bash disable=SC2153 # the pins come from cluster.env (load_cluster_env)
# Step: the container runtime, on masters and nodes: containerd and runc releases pinned by version
# and sha256 (cluster.env: CONTAINERD_*, RUNC_*; the download locations may be mirrors with
# upstream's layout), checked before use and installed into /usr/local, with containerd's default
# configuration but the systemd cgroup driver (what the kubelet uses), run by containerd.service.
# An installed release is kept; a reboot downloads nothing. The configuration is kopsform's own
# (not a rewritten `containerd config default`, whose layout changes between releases): runc through
# the CRI plugin with the systemd cgroup driver, everything else containerd's defaults.

readonly RUNTIME_STATE="$KOPSFORM_STATE/runtime"

# installed NAME SHA256: whether NAME was installed from the archive with this digest.
installed() { [[ -f $RUNTIME_STATE/$1.sha256 && $(<"$RUNTIME_STATE/$1.sha256") == "$2" ]]; }

# containerd_config: /etc/containerd/config.toml (config version 3, containerd 2.x).
containerd_config() {
  cat <<'TOML'
# Written by kopsform (boot/steps/containerd.sh) at every boot; edits are replaced.
version = 3

[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'runc'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = '/usr/local/sbin/runc'
  SystemdCgroup = true
TOML
}

install_containerd() {
  local sha_var="CONTAINERD_SHA256_${ARCH^^}" runc_var="RUNC_SHA256_${ARCH^^}" changed=""
  local url="${CONTAINERD_DOWNLOAD_URL%/}/v$CONTAINERD_VERSION/containerd-$CONTAINERD_VERSION-linux-$ARCH.tar.gz"
  local runc_url="${RUNC_DOWNLOAD_URL%/}/v$RUNC_VERSION/runc.$ARCH"
  mkdir -p "$RUNTIME_STATE" "$ROOT/usr/local/bin" "$ROOT/usr/local/sbin"
  if ! installed containerd "${!sha_var}"; then
    log "downloading containerd $CONTAINERD_VERSION ($ARCH) from $url"
    fetch_verified "$url" "${!sha_var}" "$WORK_DIR/containerd.tar.gz"
    tar -xzf "$WORK_DIR/containerd.tar.gz" -C "$ROOT/usr/local" --no-same-owner bin/ ||
      die "could not unpack $url into /usr/local"
    printf '%s' "${!sha_var}" >"$RUNTIME_STATE/containerd.sha256"
    changed=1
  fi
  if ! installed runc "${!runc_var}"; then
    log "downloading runc $RUNC_VERSION ($ARCH) from $runc_url"
    fetch_verified "$runc_url" "${!runc_var}" "$WORK_DIR/runc"
    install -m 0755 "$WORK_DIR/runc" "$ROOT/usr/local/sbin/runc"
    printf '%s' "${!runc_var}" >"$RUNTIME_STATE/runc.sha256"
    changed=1
  fi
  hash -r
  mkdir -p "$ROOT/etc/containerd"
  containerd_config | write_if_changed "$ROOT/etc/containerd/config.toml" 0644 && changed=1
  systemctl enable containerd.service >/dev/null 2>&1 || true
  if [[ -n $changed ]]; then
    systemctl restart containerd.service || die "containerd.service did not start"
  else
    systemctl start containerd.service || die "containerd.service did not start"
  fi
  log "containerd $CONTAINERD_VERSION with runc $RUNC_VERSION is running (systemd cgroups)"
}
