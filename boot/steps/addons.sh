# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, KUBERNETES_VERSION, ... come from cluster.env; REGION, ARCH from load_instance_facts
# Step: the cluster's add-ons (the cloud controller, the pod network, the EBS CSI driver, the node
# termination handler), each fetched from where its project publishes it, checked against the
# sha256 kopsform pins, and applied server-side. Run on a master once the API answers (after
# `kubeadm init`), with the admin kubeconfig:
#
#   apply_addons /etc/kubernetes/admin.conf
#
# It needs lib.sh and steps/store.sh sourced, and load_instance_facts run (REGION, ARCH). It reads
# from cluster.env: CLUSTER_NAME KUBERNETES_VERSION ADDONS (comma-separated, in order) POD_CIDR
# ADDONS_MIRROR (empty: upstream) ADDONS_ATTEMPTS ADDONS_DELAY_SECONDS; and from the run-time
# store, only where an add-on needs it: config/api-endpoint (cilium) and
# config/node-termination-queue-url (the termination handler).
#
# Pins: addons/pins.tsv in the boot archive (rendered from spec/pins.ts): per add-on its version,
# each artifact's URL and sha256 per architecture, image tags per Kubernetes minor.
#
# Once per version: after an add-on is applied, a ConfigMap kube-system/kopsform-addon-NAME records
# its version and a fingerprint of everything applied (its pins, the helm that rendered it, the
# values written for it, this script). A run that finds the same fingerprint applies nothing and
# fetches nothing, so every master may call this step at every boot; a new pin or value changes the
# fingerprint and the add-on is applied again, over the old objects (server-side apply).
#
# Safety: an artifact whose sha256 is not the pinned one is deleted and refused, and the step
# stops before anything of that add-on is applied (a new instance would fetch the same bytes, so no
# replacement is asked for). Values the spec decides reach the add-ons as JSON strings in files,
# never as code. Downloads and API calls are retried ADDONS_ATTEMPTS times, ADDONS_DELAY_SECONDS
# apart, then the step stops with the reason in the boot log.

readonly ADDONS_PINS="$KOPSFORM_HOME/addons/pins.tsv"
readonly ADDONS_WORK="$KOPSFORM_STATE/addons"
readonly ADDONS_CACHE="$ADDONS_WORK/cache"
readonly ADDONS_FETCH_TIMEOUT_SECONDS=300
readonly ADDONS_CRD_WAIT="180s"
readonly ADDONS_NAMESPACE="kube-system"
readonly ADDONS_FIELD_MANAGER="kopsform-addons"
readonly ADDONS_RECORD_PREFIX="kopsform-addon-"
readonly ADDONS_CONTROL_PLANE_LABEL="node-role.kubernetes.io/control-plane"
readonly ADDONS_NTH_MANAGED_TAG="aws-node-termination-handler/managed"
readonly ADDONS_KNOWN="aws-cloud-controller-manager cilium calico flannel amazon-vpc-routed-eni kopeio-vxlan weave aws-ebs-csi-driver aws-node-termination-handler"

# apply_addons KUBECONFIG: applies every add-on of ADDONS, in order, each once per version.
apply_addons() {
  local kubeconfig=${1:-} addon
  [[ -n $kubeconfig && -r $kubeconfig ]] || die "addons: the kubeconfig ${kubeconfig@Q} is not readable; call apply_addons with the admin kubeconfig"
  [[ -n ${REGION:-} && -n ${ARCH:-} ]] || die "addons: REGION and ARCH are not set; run load_instance_facts first"
  load_cluster_env CLUSTER_NAME KUBERNETES_VERSION ADDONS POD_CIDR ADDONS_MIRROR ADDONS_ATTEMPTS ADDONS_DELAY_SECONDS
  command -v kubectl >/dev/null 2>&1 || die "addons: kubectl is not installed"
  [[ -r $ADDONS_PINS ]] || die "addons: the pins table $ADDONS_PINS is missing from the boot scripts"
  ADDONS_KUBECONFIG=$kubeconfig
  ADDONS_SCRIPT_SHA256="$(addons_sha256 "${BASH_SOURCE[0]}")"
  for addon in ${ADDONS//,/ }; do
    [[ " $ADDONS_KNOWN " == *" $addon "* ]] || die "addons: ADDONS names ${addon@Q}, which kopsform cannot install (it knows: $ADDONS_KNOWN)"
  done
  mkdir -p "$ADDONS_CACHE"
  for addon in ${ADDONS//,/ }; do
    addons_apply_one "$addon"
  done
  log "addons: all applied (${ADDONS})"
}

# addons_apply_one ADDON: writes the add-on's values, and applies it unless its record says this
# very fingerprint is applied already.
addons_apply_one() {
  local addon=$1 fn=${1//-/_} dir fingerprint recorded version
  dir="$ADDONS_WORK/$addon"
  rm -rf "$dir"
  mkdir -p "$dir"
  "addons_values_$fn" "$dir"
  fingerprint="$(addons_fingerprint "$addon" "$dir")"
  version="$(addons_version "$addon")"
  recorded="$(addons_recorded "$addon")"
  if [[ $recorded == "$fingerprint" ]]; then
    log "addons: $addon $version is applied already (fingerprint $fingerprint); nothing to do"
    return 0
  fi
  log "addons: installing $addon $version (fingerprint $fingerprint, recorded ${recorded:-none})"
  "addons_install_$fn" "$dir"
  addons_record "$addon" "$version" "$fingerprint"
  log "addons: applied $addon $version"
}

# addons_kubectl ARGS...: kubectl with the admin kubeconfig.
addons_kubectl() {
  kubectl --kubeconfig "$ADDONS_KUBECONFIG" "$@"
}

# addons_rows ADDON KIND: the pins rows of ADDON and KIND that apply here (every architecture or
# this one, every Kubernetes minor or this one): key, value and sha256, tab-separated.
addons_rows() {
  local addon=$1 kind=$2 minor="k8s-${KUBERNETES_VERSION%.*}"
  awk -F '\t' -v addon="$addon" -v kind="$kind" -v arch="$ARCH" -v minor="$minor" \
    '$1 == addon && $2 == kind && ($4 == "all" || $4 == arch || $4 == minor) { print $3 "\t" $5 "\t" $6 }' \
    "$ADDONS_PINS"
}

# addons_version ADDON: the pinned version.
addons_version() {
  local rows
  rows="$(addons_rows "$1" version)"
  [[ -n $rows ]] || die "addons: the pins table has no version of $1"
  cut -f 2 <<<"$rows"
}

# addons_fingerprint ADDON DIR: sha256 over what decides the applied objects: ADDON's pins (and
# the helm's, which renders charts), the values files in DIR, and this script.
addons_fingerprint() {
  local addon=$1 dir=$2
  {
    printf 'script %s\n' "$ADDONS_SCRIPT_SHA256"
    awk -F '\t' -v addon="$addon" -v arch="$ARCH" -v minor="k8s-${KUBERNETES_VERSION%.*}" \
      '($1 == addon || $1 == "helm") && ($4 == "all" || $4 == arch || $4 == minor)' "$ADDONS_PINS"
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# addons_recorded ADDON: the fingerprint recorded as applied (empty when none).
addons_recorded() {
  retry "$ADDONS_ATTEMPTS" "$ADDONS_DELAY_SECONDS" "reading the record of $1" \
    addons_kubectl get configmap "$ADDONS_RECORD_PREFIX$1" --namespace "$ADDONS_NAMESPACE" \
    --ignore-not-found --output 'jsonpath={.data.fingerprint}' >"$WORK_DIR/record" ||
    die "addons: could not read the record of $1 from the API"
  cat "$WORK_DIR/record"
}

# addons_record ADDON VERSION FINGERPRINT: records ADDON as applied.
addons_record() {
  local file="$ADDONS_WORK/$1.record.json"
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%s,"namespace":%s,"labels":{"app.kubernetes.io/managed-by":"kopsform"}},"data":{"addon":%s,"version":%s,"fingerprint":%s}}\n' \
    "$(addons_json_string "$ADDONS_RECORD_PREFIX$1")" "$(addons_json_string "$ADDONS_NAMESPACE")" \
    "$(addons_json_string "$1")" "$(addons_json_string "$2")" "$(addons_json_string "$3")" >"$file"
  retry "$ADDONS_ATTEMPTS" "$ADDONS_DELAY_SECONDS" "recording $1 as applied" \
    addons_kubectl apply --server-side --force-conflicts --field-manager="$ADDONS_FIELD_MANAGER" --filename "$file" ||
    die "addons: $1 is applied, but its record could not be written (the next run applies it again)"
}

# addons_source_url URL: where to fetch URL: upstream, or with a mirror MIRROR/HOST/PATH (the
# layout `wget -x` makes of the upstream URLs).
addons_source_url() {
  local url=$1
  if [[ -z $ADDONS_MIRROR ]]; then
    printf '%s\n' "$url"
  else
    printf '%s/%s\n' "${ADDONS_MIRROR%/}" "${url#*://}"
  fi
}

# addons_sha256 FILE: the sha256 of FILE.
addons_sha256() {
  local sum
  sum="$(sha256sum "$1")"
  printf '%s\n' "${sum%% *}"
}

# addons_download SOURCE FILE: one attempt at a download.
addons_download() {
  curl --fail --silent --show-error --location --proto '=http,https' --connect-timeout 20 \
    --max-time "$ADDONS_FETCH_TIMEOUT_SECONDS" --output "$2" "$1"
}

# addons_fetch URL SHA256 TARGET: puts the artifact at URL into TARGET, verified. A cached copy is
# used only while it still verifies. A download whose sha256 differs is deleted and refused.
addons_fetch() {
  local url=$1 sha256=$2 target=$3 source cached partial actual
  [[ $sha256 =~ ^[0-9a-f]{64}$ ]] || die "addons: the pin of $url has no sha256"
  cached="$ADDONS_CACHE/$sha256"
  if [[ ! -f $cached || "$(addons_sha256 "$cached")" != "$sha256" ]]; then
    source="$(addons_source_url "$url")"
    partial="$cached.partial"
    log "addons: fetching $source"
    retry "$ADDONS_ATTEMPTS" "$ADDONS_DELAY_SECONDS" "download of $source" addons_download "$source" "$partial" || {
      rm -f "$partial"
      die "addons: could not fetch $source (${ADDONS_ATTEMPTS} attempts); check the network, or the mirror (addonsMirror)"
    }
    actual="$(addons_sha256 "$partial")"
    if [[ $actual != "$sha256" ]]; then
      rm -f "$partial"
      die "addons: refusing $source: its sha256 is $actual, the pinned one is $sha256 (tampered or wrong artifact); nothing of it applied"
    fi
    mv "$partial" "$cached"
  fi
  cp "$cached" "$target"
}

# addons_fetch_all ADDON DIR: every artifact of ADDON, verified, into DIR under its pinned name.
addons_fetch_all() {
  local addon=$1 dir=$2 kind rows file url sha256 found=0
  for kind in manifest chart tool; do
    rows="$(addons_rows "$addon" "$kind")"
    while IFS=$'\t' read -r file url sha256; do
      [[ -n $file ]] || continue
      addons_fetch "$url" "$sha256" "$dir/$file"
      found=1
    done <<<"$rows"
  done
  ((found == 1)) || die "addons: the pins table has no artifact of $addon for $ARCH"
}

# addons_json_string VALUE: VALUE as a JSON string: data, whatever it holds (no control characters).
addons_json_string() {
  local value=$1
  [[ ! $value =~ [[:cntrl:]] ]] || die "addons: a value holds a control character; refusing to write it"
  value=${value//\\/\\\\}
  value=${value//\"/\\\"}
  printf '"%s"' "$value"
}

# addons_helm: the pinned helm, fetched, verified and unpacked; prints its path.
addons_helm() {
  local dir="$ADDONS_WORK/helm"
  rm -rf "$dir"
  mkdir -p "$dir"
  addons_fetch_all helm "$dir"
  tar -xzf "$dir/helm.tar.gz" -C "$dir" --no-same-owner || die "addons: could not unpack the pinned helm"
  [[ -x $dir/linux-$ARCH/helm ]] || die "addons: the helm archive holds no linux-$ARCH/helm"
  printf '%s\n' "$dir/linux-$ARCH/helm"
}

# addons_render_chart RELEASE DIR CHART: renders DIR/CHART with DIR/values.json into DIR/rendered.yaml.
addons_render_chart() {
  local release=$1 dir=$2 chart=$3 helm
  helm="$(addons_helm)"
  "$helm" template "$release" "$dir/$chart" --namespace "$ADDONS_NAMESPACE" --values "$dir/values.json" \
    --kube-version "$KUBERNETES_VERSION" --include-crds >"$dir/rendered.yaml" ||
    die "addons: the pinned helm could not render $chart"
}

# addons_kustomization ADDON DIR RESOURCES [PATCHES]: writes DIR/kustomization.yaml listing
# RESOURCES (files in DIR), the strategic merge patches PATCHES and ADDON's pinned image tags.
addons_kustomization() {
  local addon=$1 dir=$2 resources=$3 patches=${4:-} file image tag images
  images="$(addons_rows "$addon" image)"
  {
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n'
    for file in $resources; do printf '  - %s\n' "$file"; done
    if [[ -n $patches ]]; then
      printf 'patches:\n'
      for file in $patches; do printf '  - path: %s\n' "$file"; done
    fi
    if [[ -n $images ]]; then
      printf 'images:\n'
      while IFS=$'\t' read -r image tag _; do
        printf '  - name: %s\n    newTag: "%s"\n' "$image" "$tag"
      done <<<"$images"
    fi
  } >"$dir/kustomization.yaml"
}

# addons_apply ADDON DIR: applies the kustomization in DIR, server-side, as kopsform's field manager.
addons_apply() {
  retry "$ADDONS_ATTEMPTS" "$ADDONS_DELAY_SECONDS" "kubectl apply of $1" \
    addons_kubectl apply --server-side --force-conflicts --field-manager="$ADDONS_FIELD_MANAGER" --kustomize "$2" ||
    die "addons: could not apply $1 (${ADDONS_ATTEMPTS} attempts)"
}

# addons_config NAME PATTERN: a config/ value of the run-time store (Terraform writes it; read with
# retries, as it may appear a little after the instance), checked against PATTERN.
addons_config() {
  local name=$1 pattern=$2 parameter value
  parameter="$(store_path "config/$name")"
  retry "$ADDONS_ATTEMPTS" "$ADDONS_DELAY_SECONDS" "reading $parameter" ssm_get "$parameter" "$WORK_DIR/config" ||
    die "addons: could not read $parameter"
  value="$(<"$WORK_DIR/config")"
  [[ $value =~ $pattern ]] || die "addons: $parameter holds ${value@Q}, which is not what kopsform writes there"
  printf '%s\n' "$value"
}

# addons_host_network_patch NAME: puts Deployment NAME on the host network: its pods then reach the
# instance metadata service (hop limit 1) for the masters' role, as kops runs these controllers.
addons_host_network_patch() {
  printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%s,"namespace":%s},"spec":{"template":{"spec":{"hostNetwork":true,"dnsPolicy":"ClusterFirstWithHostNet"}}}}\n' \
    "$(addons_json_string "$1")" "$(addons_json_string "$ADDONS_NAMESPACE")"
}

# addons_on_masters_json: helm values that keep pods on the masters, whatever taints they carry.
addons_on_masters_json() {
  printf '"nodeSelector":{"%s":""},"tolerations":[{"key":"%s","operator":"Exists","effect":"NoSchedule"},{"key":"node.cloudprovider.kubernetes.io/uninitialized","operator":"Exists","effect":"NoSchedule"},{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoSchedule"}]' \
    "$ADDONS_CONTROL_PLANE_LABEL" "$ADDONS_CONTROL_PLANE_LABEL"
}

# Each add-on: addons_values_NAME DIR writes the values the spec decides (cheap: no download), and
# addons_install_NAME DIR fetches, renders and applies.

addons_values_aws_cloud_controller_manager() {
  local rows image tag
  rows="$(addons_rows aws-cloud-controller-manager image)"
  IFS=$'\t' read -r image tag _ <<<"$rows"
  [[ -n ${tag:-} ]] || die "addons: no cloud controller image is pinned for Kubernetes ${KUBERNETES_VERSION%.*}"
  # Routes are the pod network's business; the cloud controller keeps Nodes and load balancers.
  printf '{"image":{"repository":%s,"tag":%s},"args":["--v=2","--cloud-provider=aws","--configure-cloud-routes=false",%s],"hostNetworking":true,%s}\n' \
    "$(addons_json_string "$image")" "$(addons_json_string "$tag")" "$(addons_json_string "--cluster-name=$CLUSTER_NAME")" \
    "$(addons_on_masters_json)" >"$1/values.json"
}

addons_install_aws_cloud_controller_manager() {
  addons_fetch_all aws-cloud-controller-manager "$1"
  addons_render_chart aws-cloud-controller-manager "$1" aws-cloud-controller-manager.tgz
  addons_kustomization aws-cloud-controller-manager "$1" rendered.yaml
  addons_apply aws-cloud-controller-manager "$1"
}

addons_values_cilium() {
  local api
  api="$(addons_config api-endpoint '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$')"
  # VXLAN (8472) between instances, pods from the nodes' pod CIDRs, and kube-proxy replaced: cilium
  # reaches the API by its name, as no Service works before cilium runs.
  printf '{"kubeProxyReplacement":true,"k8sServiceHost":%s,"k8sServicePort":443,"routingMode":"tunnel","tunnelProtocol":"vxlan","ipam":{"mode":"kubernetes"},"operator":{"replicas":1}}\n' \
    "$(addons_json_string "$api")" >"$1/values.json"
}

addons_install_cilium() {
  addons_fetch_all cilium "$1"
  addons_render_chart cilium "$1" cilium.tgz
  addons_kustomization cilium "$1" rendered.yaml
  addons_apply cilium "$1"
}

addons_values_calico() {
  # The operator's Installation: the pod CIDR, BGP, IP-in-IP.
  mkdir -p "$1/installation"
  printf '{"apiVersion":"operator.tigera.io/v1","kind":"Installation","metadata":{"name":"default"},"spec":{"calicoNetwork":{"bgp":"Enabled","ipPools":[{"name":"default-ipv4-ippool","cidr":%s,"encapsulation":"IPIP","natOutgoing":"Enabled","nodeSelector":"all()"}]}}}\n' \
    "$(addons_json_string "$POD_CIDR")" >"$1/installation/installation.json"
}

addons_install_calico() {
  addons_fetch_all calico "$1"
  addons_kustomization calico "$1" "operator-crds.yaml tigera-operator.yaml"
  addons_apply calico "$1"
  retry "$ADDONS_ATTEMPTS" "$ADDONS_DELAY_SECONDS" "waiting for calico's Installation CRD" \
    addons_kubectl wait --for=condition=established --timeout="$ADDONS_CRD_WAIT" crd/installations.operator.tigera.io ||
    die "addons: calico's Installation CRD was not established"
  addons_kustomization calico-installation "$1/installation" installation.json
  addons_apply calico-installation "$1/installation"
}

addons_values_flannel() {
  local conf
  conf="$(printf '{"Network":%s,"EnableNFTables":false,"Backend":{"Type":"vxlan"}}' "$(addons_json_string "$POD_CIDR")")"
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-flannel-cfg","namespace":"kube-flannel"},"data":{"net-conf.json":%s}}\n' \
    "$(addons_json_string "$conf")" >"$1/net-conf-patch.json"
}

addons_install_flannel() {
  addons_fetch_all flannel "$1"
  addons_kustomization flannel "$1" kube-flannel.yml net-conf-patch.json
  addons_apply flannel "$1"
}

addons_values_amazon_vpc_routed_eni() {
  # Images from Amazon's public registry (no ECR credentials on the kubelet); the network policy agent off.
  printf '{"image":{"overrideRepository":"public.ecr.aws/eks/amazon-k8s-cni"},"init":{"image":{"overrideRepository":"public.ecr.aws/eks/amazon-k8s-cni-init"}},"nodeAgent":{"enabled":false},"env":{"CLUSTER_NAME":%s,"AWS_VPC_K8S_CNI_EXTERNALSNAT":"false"}}\n' \
    "$(addons_json_string "$CLUSTER_NAME")" >"$1/values.json"
}

addons_install_amazon_vpc_routed_eni() {
  addons_fetch_all amazon-vpc-routed-eni "$1"
  addons_render_chart aws-node "$1" aws-vpc-cni.tgz
  addons_kustomization amazon-vpc-routed-eni "$1" rendered.yaml
  addons_apply amazon-vpc-routed-eni "$1"
}

addons_values_kopeio_vxlan() {
  # Nothing to decide: kopeio's agent reads each Node's pod CIDR.
  :
}

addons_install_kopeio_vxlan() {
  addons_fetch_all kopeio-vxlan "$1"
  addons_kustomization kopeio-vxlan "$1" kopeio-networking.yaml
  addons_apply kopeio-vxlan "$1"
}

addons_values_weave() {
  printf '{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"weave-net","namespace":"kube-system"},"spec":{"template":{"spec":{"containers":[{"name":"weave","env":[{"name":"IPALLOC_RANGE","value":%s}]}]}}}}\n' \
    "$(addons_json_string "$POD_CIDR")" >"$1/ipalloc-patch.json"
}

addons_install_weave() {
  log "addons: installing Weave Net $(addons_version weave), unmaintained since 2024 (no security fixes); prefer cilium, calico or flannel"
  addons_fetch_all weave "$1"
  addons_kustomization weave "$1" weave-daemonset-k8s-1.11.yaml ipalloc-patch.json
  addons_apply weave "$1"
}

addons_values_aws_ebs_csi_driver() {
  # Volumes it creates carry ebs.csi.aws.com/cluster=true and kubernetes.io/cluster/NAME=owned: the
  # tags its IAM is scoped to. The default StorageClass: encrypted gp3.
  printf '{"controller":{"region":%s,"k8sTagClusterId":%s,%s},"storageClasses":[{"name":"gp3","annotations":{"storageclass.kubernetes.io/is-default-class":"true"},"volumeBindingMode":"WaitForFirstConsumer","reclaimPolicy":"Delete","allowVolumeExpansion":true,"parameters":{"type":"gp3","encrypted":"true"}}]}\n' \
    "$(addons_json_string "$REGION")" "$(addons_json_string "$CLUSTER_NAME")" "$(addons_on_masters_json)" >"$1/values.json"
  addons_host_network_patch ebs-csi-controller >"$1/host-network-patch.json"
}

addons_install_aws_ebs_csi_driver() {
  addons_fetch_all aws-ebs-csi-driver "$1"
  addons_render_chart aws-ebs-csi-driver "$1" aws-ebs-csi-driver.tgz
  addons_kustomization aws-ebs-csi-driver "$1" rendered.yaml host-network-patch.json
  addons_apply aws-ebs-csi-driver "$1"
}

addons_values_aws_node_termination_handler() {
  local queue
  queue="$(addons_config node-termination-queue-url '^https://sqs\.[a-z0-9.-]+/[0-9]{12}/[A-Za-z0-9_-]{1,80}$')"
  # Queue mode: drains the nodes whose instances carry the managed tag (the node groups, never the
  # masters) before completing their lifecycle hook.
  printf '{"enableSqsTerminationDraining":true,"queueURL":%s,"awsRegion":%s,"checkTagBeforeDraining":true,"managedTag":%s,"useProviderId":true,"enableSpotInterruptionDraining":true,"enableRebalanceDraining":false,%s}\n' \
    "$(addons_json_string "$queue")" "$(addons_json_string "$REGION")" \
    "$(addons_json_string "$ADDONS_NTH_MANAGED_TAG")" "$(addons_on_masters_json)" >"$1/values.json"
  addons_host_network_patch aws-node-termination-handler >"$1/host-network-patch.json"
}

addons_install_aws_node_termination_handler() {
  addons_fetch_all aws-node-termination-handler "$1"
  addons_render_chart aws-node-termination-handler "$1" aws-node-termination-handler.tgz
  addons_kustomization aws-node-termination-handler "$1" rendered.yaml host-network-patch.json
  addons_apply aws-node-termination-handler "$1"
}
