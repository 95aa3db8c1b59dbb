# shellcheck shell=bash
# What masters' and nodes' kubelets share: the container runtime's socket, and the kubelet's flags
# for this instance (external cloud provider, the provider id and address AWS's cloud controller
# matches the Node by, the node's labels), as kubeadm's {name, value} list.

# shellcheck disable=SC2034 # used by steps/kubeadm.sh and steps/join.sh
readonly CRI_SOCKET=unix:///run/containerd/containerd.sock

# kubelet_args NODE_LABELS: the list, indented for nodeRegistration.kubeletExtraArgs.
kubelet_args() {
  printf '    - name: cloud-provider\n      value: "external"\n'
  printf '    - name: provider-id\n      value: "aws:///%s/%s"\n' "$ZONE" "$INSTANCE_ID"
  printf '    - name: node-ip\n      value: "%s"\n' "$PRIVATE_IP"
  [[ -z $1 ]] || printf '    - name: node-labels\n      value: "%s"\n' "$1"
}
