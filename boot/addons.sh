#!/usr/bin/env bash
# The cluster's add-ons: fetch each pinned artifact, verify its sha256, apply it.
#
# Run by the cluster-wide step on one master (after the control plane answers), and safe to run
# again: every apply is server-side, so a second run changes nothing. The pins (URL and sha256 of
# every artifact) are in addons/pins.tsv beside this script, rendered from spec/pins.ts.
#
# What it reads (from /etc/kopsform/cluster.env, set by the caller):
#   ADDONS            add-on names in the order to apply them (spec/addons.ts)
#   CLUSTER_NAME, REGION, KUBERNETES_VERSION, POD_CIDR
#   API_HOST          the API's DNS name, which cilium's kube-proxy replacement talks to
#   NODE_TERMINATION_QUEUE_URL   the SQS queue of the termination handler
#   ADDONS_MIRROR     optional: fetch MIRROR/HOST/PATH instead of https://HOST/PATH
# It expects the caller's `log` and `die` functions (boot/lib.sh); functions whose output is captured
# send their log lines to stderr.
#
# Safety: an artifact whose sha256 is not the pinned one is refused (nothing of it is applied, the
# step fails); values the spec decides go into JSON files as JSON strings, never into code.
set -euo pipefail
# A failure inside $(...) fails the command around it (bash leaves errexit off there by default).
shopt -s inherit_errexit

readonly ADDONS_PINS="${ADDONS_PINS:-${ROOT:-}/opt/kopsform/addons/pins.tsv}"
readonly ADDONS_WORK="${ROOT:-}/var/lib/kopsform/addons"
readonly ADDONS_CACHE="$ADDONS_WORK/cache"
readonly ADDONS_FETCH_ATTEMPTS="${ADDONS_FETCH_ATTEMPTS:-5}"
readonly ADDONS_FETCH_DELAY_SECONDS="${ADDONS_FETCH_DELAY_SECONDS:-10}"
readonly ADDONS_FETCH_TIMEOUT_SECONDS=300
readonly ADDONS_CRD_WAIT="180s"
readonly ADDONS_FIELD_MANAGER="kopsform-addons"
readonly ADDONS_CONTROL_PLANE_LABEL="node-role.kubernetes.io/control-plane"
readonly ADDONS_NTH_MANAGED_TAG="aws-node-termination-handler/managed"

# The architecture of this machine, as the pins name it.
addons_arch() {
  case "${ARCH:-$(uname -m)}" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "addons: unsupported architecture ${ARCH:-$(uname -m)}; kopsform pins amd64 and arm64" ;;
  esac
}

# The Kubernetes minor of KUBERNETES_VERSION: 1.33.5 -> 1.33.
addons_kube_minor() {
  local version="${KUBERNETES_VERSION#v}"
  echo "${version%.*}"
}

# Prints the pins rows of ADDON and KIND that apply here (all, this architecture, this minor):
# key, value and sha256, tab-separated.
addons_rows() {
  local addon="$1" kind="$2" arch minor
  arch="$(addons_arch)"
  minor="k8s-$(addons_kube_minor)"
  [ -r "$ADDONS_PINS" ] || die "addons: the pins table $ADDONS_PINS is missing"
  awk -F '\t' -v addon="$addon" -v kind="$kind" -v arch="$arch" -v minor="$minor" \
    '$1 == addon && $2 == kind && ($4 == "all" || $4 == arch || $4 == minor) { print $3 "\t" $5 "\t" $6 }' \
    "$ADDONS_PINS"
}

# The URL to fetch: the upstream URL, or with a mirror MIRROR/HOST/PATH (the layout `wget -x` makes).
addons_source_url() {
  local url="$1" mirror="${ADDONS_MIRROR:-}"
  if [ -z "$mirror" ]; then
    echo "$url"
    return
  fi
  local rest="${url#*://}"
  echo "${mirror%/}/$rest"
}

# The sha256 of a file.
addons_sha256() {
  local sum
  sum="$(sha256sum "$1")"
  echo "${sum%% *}"
}

# Fetches URL into the cache, verified against SHA256, and prints the cached path. A cached copy is
# used only if it still verifies. A download whose sha256 differs is deleted and refused: the step
# fails, and nothing of it is ever applied.
addons_fetch() {
  local url="$1" sha256="$2" source cached partial actual
  [[ "$sha256" =~ ^[0-9a-f]{64}$ ]] || die "addons: the pin for $url has no sha256"
  cached="$ADDONS_CACHE/$sha256"
  if [ -f "$cached" ] && [ "$(addons_sha256 "$cached")" = "$sha256" ]; then
    echo "$cached"
    return
  fi
  mkdir -p "$ADDONS_CACHE"
  source="$(addons_source_url "$url")"
  partial="$cached.partial"
  log "addons: fetching $source" >&2
  if ! curl --fail --silent --show-error --location --proto '=http,https' \
    --retry "$ADDONS_FETCH_ATTEMPTS" --retry-delay "$ADDONS_FETCH_DELAY_SECONDS" --retry-connrefused \
    --connect-timeout 20 --max-time "$ADDONS_FETCH_TIMEOUT_SECONDS" \
    --output "$partial" "$source"; then
    rm -f "$partial"
    die "addons: could not fetch $source after $ADDONS_FETCH_ATTEMPTS retries; check the network (or addonsMirror)"
  fi
  actual="$(addons_sha256 "$partial")"
  if [ "$actual" != "$sha256" ]; then
    rm -f "$partial"
    die "addons: refusing $source: its sha256 is $actual, the pinned one is $sha256 (tampered or wrong artifact); nothing applied"
  fi
  mv "$partial" "$cached"
  echo "$cached"
}

# Fetches every artifact of ADDON into DIR under its pinned file name.
addons_fetch_all() {
  local addon="$1" dir="$2" kind rows file url sha256 path found=0
  for kind in manifest chart tool; do
    rows="$(addons_rows "$addon" "$kind")"
    while IFS=$'\t' read -r file url sha256; do
      [ -n "$file" ] || continue
      path="$(addons_fetch "$url" "$sha256")"
      cp "$path" "$dir/$file"
      found=1
    done <<<"$rows"
  done
  [ "$found" -eq 1 ] || die "addons: no pinned artifact for $addon"
}

# A JSON string of a value: the value is data, whatever it holds. Control characters are refused.
addons_json_string() {
  local value="$1"
  if [[ "$value" =~ [[:cntrl:]] ]]; then
    die "addons: a value holds a control character; refusing to write it"
  fi
  value="${value//\\/\\\\}"
  value="${value//\"/\\\"}"
  printf '"%s"' "$value"
}

# The pinned helm, fetched and verified, unpacked into the work directory; prints its path.
addons_helm() {
  local dir="$ADDONS_WORK/helm" arch
  arch="$(addons_arch)"
  mkdir -p "$dir"
  addons_fetch_all helm "$dir"
  tar -xzf "$dir/helm.tar.gz" -C "$dir"
  [ -x "$dir/linux-$arch/helm" ] || die "addons: the helm archive holds no linux-$arch/helm"
  echo "$dir/linux-$arch/helm"
}

# Renders CHART (a verified .tgz) with the JSON values file VALUES into OUT, with the pinned helm.
addons_render_chart() {
  local release="$1" chart="$2" values="$3" namespace="$4" out="$5" helm
  helm="$(addons_helm)"
  "$helm" template "$release" "$chart" --namespace "$namespace" --values "$values" \
    --kube-version "${KUBERNETES_VERSION#v}" --include-crds >"$out"
}

# Writes DIR/kustomization.yaml listing RESOURCES (files in DIR), the patch files PATCHES (strategic
# merge patches, each naming its object) and the image tags of ADDON's pins. Every name here is
# kopsform's own; values live in the JSON files it lists.
addons_kustomization() {
  local addon="$1" dir="$2" resources="$3" patches="$4" file image tag
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources:"
    for file in $resources; do echo "  - $file"; done
    if [ -n "$patches" ]; then
      echo "patches:"
      for file in $patches; do echo "  - path: $file"; done
    fi
    local images
    images="$(addons_rows "$addon" image)" || exit 1
    if [ -n "$images" ]; then
      echo "images:"
      while IFS=$'\t' read -r image tag _; do
        echo "  - name: $image"
        echo "    newTag: \"$tag\""
      done <<<"$images"
    fi
  } >"$dir/kustomization.yaml"
}

# Applies the kustomization in DIR, server-side: objects kopsform owns, so its field manager wins.
addons_apply() {
  kubectl apply --server-side --force-conflicts --field-manager="$ADDONS_FIELD_MANAGER" -k "$1"
}

# A fresh work directory for one add-on.
addons_dir() {
  local dir="$ADDONS_WORK/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "$dir"
}

# The patch that puts a Deployment on the masters' host network: its pods then reach the instance
# metadata service (hop limit 1) for the masters' role, as kops runs these controllers.
addons_host_network_patch() {
  local name="$1" namespace="$2"
  printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%s,"namespace":%s},"spec":{"template":{"spec":{"hostNetwork":true,"dnsPolicy":"ClusterFirstWithHostNet"}}}}\n' \
    "$(addons_json_string "$name")" "$(addons_json_string "$namespace")"
}

# Masters only, whatever taints they carry.
addons_on_masters_json() {
  printf '"nodeSelector":{"%s":""},"tolerations":[{"key":"%s","operator":"Exists","effect":"NoSchedule"},{"key":"node.cloudprovider.kubernetes.io/uninitialized","operator":"Exists","effect":"NoSchedule"},{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoSchedule"}]' \
    "$ADDONS_CONTROL_PLANE_LABEL" "$ADDONS_CONTROL_PLANE_LABEL"
}

addon_aws_cloud_controller_manager() {
  local dir image tag rows
  dir="$(addons_dir aws-cloud-controller-manager)"
  addons_fetch_all aws-cloud-controller-manager "$dir"
  rows="$(addons_rows aws-cloud-controller-manager image)"
  IFS=$'\t' read -r image tag _ <<<"$rows"
  [ -n "${tag:-}" ] || die "addons: no cloud controller image pinned for Kubernetes $(addons_kube_minor)"
  # Routes are the pod network's business; the cloud controller keeps Nodes and load balancers.
  printf '{"image":{"repository":%s,"tag":%s},"args":["--v=2","--cloud-provider=aws","--configure-cloud-routes=false",%s],"hostNetworking":true,%s}\n' \
    "$(addons_json_string "$image")" "$(addons_json_string "$tag")" "$(addons_json_string "--cluster-name=$CLUSTER_NAME")" \
    "$(addons_on_masters_json)" >"$dir/values.json"
  addons_render_chart aws-cloud-controller-manager "$dir/aws-cloud-controller-manager.tgz" "$dir/values.json" kube-system "$dir/rendered.yaml"
  addons_kustomization aws-cloud-controller-manager "$dir" "rendered.yaml" ""
  addons_apply "$dir"
}

addon_cilium() {
  local dir
  dir="$(addons_dir cilium)"
  addons_fetch_all cilium "$dir"
  # VXLAN (8472) between instances, pods from the nodes' pod CIDRs, and kube-proxy replaced: cilium
  # reaches the API by its name, as no Service works before cilium runs.
  printf '{"kubeProxyReplacement":true,"k8sServiceHost":%s,"k8sServicePort":443,"routingMode":"tunnel","tunnelProtocol":"vxlan","ipam":{"mode":"kubernetes"},"operator":{"replicas":1}}\n' \
    "$(addons_json_string "$API_HOST")" >"$dir/values.json"
  addons_render_chart cilium "$dir/cilium.tgz" "$dir/values.json" kube-system "$dir/rendered.yaml"
  addons_kustomization cilium "$dir" "rendered.yaml" ""
  addons_apply "$dir"
}

addon_calico() {
  local dir install
  dir="$(addons_dir calico)"
  addons_fetch_all calico "$dir"
  addons_kustomization calico "$dir" "operator-crds.yaml tigera-operator.yaml" ""
  addons_apply "$dir"
  kubectl wait --for=condition=established --timeout="$ADDONS_CRD_WAIT" crd/installations.operator.tigera.io ||
    die "addons: calico's Installation CRD was not established within $ADDONS_CRD_WAIT"
  # The operator's Installation: the pod CIDR, BGP, IP-in-IP (no source/destination check to turn off).
  install="$(addons_dir calico-installation)"
  printf '{"apiVersion":"operator.tigera.io/v1","kind":"Installation","metadata":{"name":"default"},"spec":{"calicoNetwork":{"bgp":"Enabled","ipPools":[{"name":"default-ipv4-ippool","cidr":%s,"encapsulation":"IPIP","natOutgoing":"Enabled","nodeSelector":"all()"}]}}}\n' \
    "$(addons_json_string "$POD_CIDR")" >"$install/installation.json"
  addons_kustomization calico-installation "$install" "installation.json" ""
  addons_apply "$install"
}

addon_flannel() {
  local dir conf
  dir="$(addons_dir flannel)"
  addons_fetch_all flannel "$dir"
  conf="$(printf '{"Network":%s,"EnableNFTables":false,"Backend":{"Type":"vxlan"}}' "$(addons_json_string "$POD_CIDR")")"
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-flannel-cfg","namespace":"kube-flannel"},"data":{"net-conf.json":%s}}\n' \
    "$(addons_json_string "$conf")" >"$dir/net-conf-patch.json"
  addons_kustomization flannel "$dir" "kube-flannel.yml" "net-conf-patch.json"
  addons_apply "$dir"
}

addon_amazon_vpc_routed_eni() {
  local dir
  dir="$(addons_dir amazon-vpc-routed-eni)"
  addons_fetch_all amazon-vpc-routed-eni "$dir"
  # Images from Amazon's public registry (no ECR credentials on the kubelet); the network policy agent off.
  printf '{"image":{"overrideRepository":"public.ecr.aws/eks/amazon-k8s-cni"},"init":{"image":{"overrideRepository":"public.ecr.aws/eks/amazon-k8s-cni-init"}},"nodeAgent":{"enabled":false},"env":{"CLUSTER_NAME":%s,"AWS_VPC_K8S_CNI_EXTERNALSNAT":"false"}}\n' \
    "$(addons_json_string "$CLUSTER_NAME")" >"$dir/values.json"
  addons_render_chart aws-node "$dir/aws-vpc-cni.tgz" "$dir/values.json" kube-system "$dir/rendered.yaml"
  addons_kustomization amazon-vpc-routed-eni "$dir" "rendered.yaml" ""
  addons_apply "$dir"
}

addon_kopeio_vxlan() {
  local dir
  dir="$(addons_dir kopeio-vxlan)"
  addons_fetch_all kopeio-vxlan "$dir"
  addons_kustomization kopeio-vxlan "$dir" "kopeio-networking.yaml" ""
  addons_apply "$dir"
}

addon_weave() {
  local dir
  dir="$(addons_dir weave)"
  addons_fetch_all weave "$dir"
  log "addons: installing Weave Net 2.8.1, unmaintained since 2024 (no security fixes); prefer cilium, calico or flannel"
  printf '{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"weave-net","namespace":"kube-system"},"spec":{"template":{"spec":{"containers":[{"name":"weave","env":[{"name":"IPALLOC_RANGE","value":%s}]}]}}}}\n' \
    "$(addons_json_string "$POD_CIDR")" >"$dir/ipalloc-patch.json"
  addons_kustomization weave "$dir" "weave-daemonset-k8s-1.11.yaml" "ipalloc-patch.json"
  addons_apply "$dir"
}

addon_aws_ebs_csi_driver() {
  local dir
  dir="$(addons_dir aws-ebs-csi-driver)"
  addons_fetch_all aws-ebs-csi-driver "$dir"
  # Volumes it creates carry ebs.csi.aws.com/cluster=true and kubernetes.io/cluster/NAME=owned: the
  # tags its IAM is scoped to. The default StorageClass: encrypted gp3.
  printf '{"controller":{"region":%s,"k8sTagClusterId":%s,%s},"storageClasses":[{"name":"gp3","annotations":{"storageclass.kubernetes.io/is-default-class":"true"},"volumeBindingMode":"WaitForFirstConsumer","reclaimPolicy":"Delete","allowVolumeExpansion":true,"parameters":{"type":"gp3","encrypted":"true"}}]}\n' \
    "$(addons_json_string "$REGION")" "$(addons_json_string "$CLUSTER_NAME")" "$(addons_on_masters_json)" >"$dir/values.json"
  addons_render_chart aws-ebs-csi-driver "$dir/aws-ebs-csi-driver.tgz" "$dir/values.json" kube-system "$dir/rendered.yaml"
  addons_host_network_patch ebs-csi-controller kube-system >"$dir/host-network-patch.json"
  addons_kustomization aws-ebs-csi-driver "$dir" "rendered.yaml" "host-network-patch.json"
  addons_apply "$dir"
}

addon_aws_node_termination_handler() {
  local dir
  dir="$(addons_dir aws-node-termination-handler)"
  addons_fetch_all aws-node-termination-handler "$dir"
  # Queue mode: drains the nodes whose instances carry the managed tag (the node groups, never the
  # masters) before completing their lifecycle hook.
  printf '{"enableSqsTerminationDraining":true,"queueURL":%s,"awsRegion":%s,"checkTagBeforeDraining":true,"managedTag":%s,"useProviderId":true,"enableSpotInterruptionDraining":true,"enableRebalanceDraining":false,%s}\n' \
    "$(addons_json_string "$NODE_TERMINATION_QUEUE_URL")" "$(addons_json_string "$REGION")" \
    "$(addons_json_string "$ADDONS_NTH_MANAGED_TAG")" "$(addons_on_masters_json)" >"$dir/values.json"
  addons_render_chart aws-node-termination-handler "$dir/aws-node-termination-handler.tgz" "$dir/values.json" kube-system "$dir/rendered.yaml"
  addons_host_network_patch aws-node-termination-handler kube-system >"$dir/host-network-patch.json"
  addons_kustomization aws-node-termination-handler "$dir" "rendered.yaml" "host-network-patch.json"
  addons_apply "$dir"
}

# Installs every add-on of ADDONS, in order.
addons_install_all() {
  local addon
  : "${ADDONS:?}" "${CLUSTER_NAME:?}" "${REGION:?}" "${KUBERNETES_VERSION:?}" "${POD_CIDR:?}"
  for addon in $ADDONS; do
    case "$addon" in
      aws-cloud-controller-manager | cilium | calico | flannel | amazon-vpc-routed-eni | kopeio-vxlan | weave | \
        aws-ebs-csi-driver | aws-node-termination-handler) ;;
      *) die "addons: unknown add-on $addon" ;;
    esac
    log "addons: installing $addon"
    "addon_${addon//-/_}"
    log "addons: applied $addon"
  done
}

main() {
  addons_install_all
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  main "$@"
fi
