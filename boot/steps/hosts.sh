# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step (and timers/hosts.sh): the etcd members' names in /etc/hosts.
#
# etcd's peer and client URLs use names (etcd-a.internal.NAME for main, etcd-events-a.internal.NAME
# for events), so a replacement master on a new address needs no membership change: every master
# rebuilds a guarded block of /etc/hosts from the EC2 API (which running master instance holds which
# member's main volume, and its private address) at boot and every 15 s (kopsform-hosts.timer). Its
# own entry comes from its own facts, so it never waits for EC2 to show the attachment.
# Lines outside the block are never touched; the file is rewritten only when the block changes, and
# in place (it is often a bind mount). One describe-instances call per run; describe-volumes only
# for a volume not seen before (a volume's member never changes).

readonly HOSTS_FILE="$ROOT/etc/hosts"
readonly VOLUME_MEMBERS_CACHE="$KOPSFORM_STATE/volume-members"

hosts_block_begin() { printf '# kopsform etcd members of %s: begin (managed, do not edit)' "$CLUSTER_NAME"; }
hosts_block_end() { printf '# kopsform etcd members of %s: end' "$CLUSTER_NAME"; }

# running_masters: "INSTANCE_ID PRIVATE_IP VOLUME_ID..." for every running master of this cluster.
running_masters() {
  aws ec2 describe-instances --region "$REGION" --output text \
    --filters "Name=tag:KubernetesCluster,Values=$CLUSTER_NAME" "Name=tag:k8s.io/role/master,Values=1" \
    "Name=instance-state-name,Values=pending,running" \
    --query "Reservations[].Instances[].[InstanceId, PrivateIpAddress, join(',', BlockDeviceMappings[].Ebs.VolumeId)]"
}

# cache_volume_members: records "VOLUME_ID MEMBER" for every etcd main volume of the cluster.
cache_volume_members() {
  local rows volume value
  rows="$(aws ec2 describe-volumes --region "$REGION" --output text \
    --filters "Name=tag:KubernetesCluster,Values=$CLUSTER_NAME" "Name=tag-key,Values=k8s.io/etcd/main" \
    --query "Volumes[].[VolumeId, Tags[?Key=='k8s.io/etcd/main'] | [0].Value]")" || return 1
  while IFS=$'\t' read -r volume value; do
    value=${value%%/*}
    [[ $volume =~ ^vol-[0-9a-f]+$ && $value =~ ^[a-z0-9-]+$ ]] && printf '%s %s\n' "$volume" "$value"
  done <<<"$rows" | write_if_changed "$VOLUME_MEMBERS_CACHE" 0644 || true
}

# volume_member VOLUME_ID: the etcd member whose main volume VOLUME_ID is ("" when it is none, such
# as a root volume). A volume not seen before refreshes the cache (one call for every volume).
volume_member() {
  local volume=$1 cached
  if ! cached="$(grep -m1 "^$volume " "$VOLUME_MEMBERS_CACHE" 2>/dev/null)"; then
    if ! grep -qx "$volume" "$VOLUME_MEMBERS_CACHE.others" 2>/dev/null; then
      cache_volume_members || return 1
      cached="$(grep -m1 "^$volume " "$VOLUME_MEMBERS_CACHE" 2>/dev/null)" || printf '%s\n' "$volume" >>"$VOLUME_MEMBERS_CACHE.others"
    fi
  fi
  printf '%s' "${cached#* }"
}

# hosts_lines: the block's lines, one per member with a running master, sorted.
hosts_lines() {
  local instance ip volumes volume member
  {
    printf '%s\t%s %s\n' "$PRIVATE_IP" "etcd-$ETCD_MEMBER.internal.$CLUSTER_NAME" "etcd-events-$ETCD_MEMBER.internal.$CLUSTER_NAME"
    running_masters | while IFS=$'\t' read -r instance ip volumes; do
      [[ $instance != "$INSTANCE_ID" && $ip =~ ^[0-9.]+$ ]] || continue
      for volume in ${volumes//,/ }; do
        member="$(volume_member "$volume")" || return 1
        if [[ -n $member && $member != "$ETCD_MEMBER" ]]; then
          printf '%s\t%s %s\n' "$ip" "etcd-$member.internal.$CLUSTER_NAME" "etcd-events-$member.internal.$CLUSTER_NAME"
        fi
      done
    done
  } | sort -u -k2
}

# refresh_etcd_hosts: rewrites the block when it changed. Returns 1 when EC2 could not be asked.
refresh_etcd_hosts() {
  local begin end lines
  begin="$(hosts_block_begin)" end="$(hosts_block_end)"
  lines="$(hosts_lines)" || {
    log "could not list the masters from EC2; /etc/hosts keeps its etcd names"
    return 1
  }
  if {
    if [[ -f $HOSTS_FILE ]]; then
      awk -v b="$begin" -v e="$end" '$0 == b {skip = 1; next} $0 == e {skip = 0; next} !skip' "$HOSTS_FILE"
    fi
    printf '%s\n%s\n%s\n' "$begin" "$lines" "$end"
  } | write_if_changed "$HOSTS_FILE" 0644; then
    log "etcd names in /etc/hosts: $(printf '%s' "$lines" | tr '\t\n' ' ;')"
  fi
}
