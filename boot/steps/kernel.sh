# shellcheck shell=bash
# Step: what containerd and the kubelet need of the kernel, on masters and nodes: the overlay and
# br_netfilter modules (now, and at every boot through modules-load.d), IP forwarding and bridged
# traffic through iptables (sysctl.d), and no swap.

prepare_kernel() {
  local module
  printf 'overlay\nbr_netfilter\n' | write_if_changed "$ROOT/etc/modules-load.d/kopsform-kubernetes.conf" 0644 || true
  for module in overlay br_netfilter; do
    modprobe "$module" || die "could not load the $module kernel module"
  done
  printf '%s\n' "net.ipv4.ip_forward = 1" "net.bridge.bridge-nf-call-iptables = 1" "net.bridge.bridge-nf-call-ip6tables = 1" |
    write_if_changed "$ROOT/etc/sysctl.d/99-kopsform-kubernetes.conf" 0644 || true
  sysctl --system >/dev/null || die "sysctl could not apply $ROOT/etc/sysctl.d/99-kopsform-kubernetes.conf"
  swapoff -a || die "could not turn swap off (the kubelet refuses to run with swap)"
  log "kernel: overlay and br_netfilter loaded, forwarding on, swap off"
}
