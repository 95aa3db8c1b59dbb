# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step: attach and mount this master's etcd volumes (main and events).
#
# An auto-scaling group's instance is unknown to Terraform, so the master claims its volumes itself,
# by tag: the cluster tag, the etcd tag key, its zone, and a tag value starting with "MEMBER/" (the
# part after the slash lists every member, and is what etcd's initial cluster is built from).
# For each volume: find it (retrying while Terraform creates it or tags settle); wait while a
# terminated predecessor still holds it; attach it; wait for the device (the Nitro NVMe name or the
# requested /dev/xvdX); make a filesystem only on a blank device (blkid -p, a direct probe; anything
# it cannot classify stops the script rather than risk data); mount it, with one fstab line by UUID
# and nofail; grow the filesystem when the volume was grown. Safe to run again: nothing is attached,
# formatted, mounted or added twice.
#
# Giving up: waits that a new instance could end (a predecessor holding the volume too long, no
# volume yet, a device that never appears) end in give_up, which asks the group for a replacement.
# Several volumes with this member's tag, or what is on a disk, end in die: a replacement would
# meet the same volumes and fail the same way.

# The two etcd clusters (volumes tagged k8s.io/etcd/NAME): name, the device requested on attach,
# the mount point.
readonly -a ETCD_VOLUMES=(
  "main /dev/xvdu /mnt/etcd/main"
  "events /dev/xvdv /mnt/etcd/events"
)
# The members of the etcd clusters, from the volume tag ("a/a,b,c" -> "a,b,c").
readonly ETCD_MEMBERS_FILE="$KOPSFORM_STATE/etcd-members"

# describe_etcd_volumes: id, state, holder, holder's device, attachment state, and the main and
# events tag values (tab-separated) of each etcd volume of this cluster in this zone.
describe_etcd_volumes() {
  aws ec2 describe-volumes --region "$REGION" --output text \
    --filters "Name=tag:KubernetesCluster,Values=$CLUSTER_NAME" "Name=tag-key,Values=k8s.io/etcd/main,k8s.io/etcd/events" \
    "Name=availability-zone,Values=$ZONE" \
    --query "Volumes[].[VolumeId, State, Attachments[0].InstanceId, Attachments[0].Device, Attachments[0].State, Tags[?Key=='k8s.io/etcd/main'] | [0].Value, Tags[?Key=='k8s.io/etcd/events'] | [0].Value]"
}

# claim_one ETCD DEVICE ROWS: one attempt at getting this member's ETCD volume attached here, from
# the rows of describe_etcd_volumes. Returns 0 once attached (VOLUME_ID, ATTACHED_DEVICE and
# VOLUME_TAG of ETCD set), 1 with WAITING saying what it waits for.
claim_one() {
  local etcd=$1 device=$2 rows=$3 id state holder holder_device attach_state main events value
  local -a matches=()
  while IFS=$'\t' read -r id state holder holder_device attach_state main events; do
    value=$main
    [[ $etcd == events ]] && value=$events
    if [[ -n $id && $value == "$ETCD_MEMBER/"* ]]; then
      matches+=("$id $state $holder $holder_device $attach_state $value")
    fi
  done <<<"$rows"
  case ${#matches[@]} in
    0)
      WAITING="no volume tagged k8s.io/etcd/$etcd=$ETCD_MEMBER/... in $ZONE yet"
      return 1
      ;;
    1) read -r id state holder holder_device attach_state value <<<"${matches[0]}" ;;
    *) die "etcd-$etcd: ${#matches[@]} volumes in $ZONE are tagged k8s.io/etcd/$etcd=$ETCD_MEMBER/...: $(printf '%s; ' "${matches[@]}")exactly one may be. Fix the tags of the extra volumes." ;;
  esac
  VOLUME_TAG[$etcd]=$value
  if [[ $holder == "$INSTANCE_ID" ]]; then
    log "etcd-$etcd: $id is attached here already as $holder_device ($attach_state)"
    VOLUME_ID[$etcd]=$id ATTACHED_DEVICE[$etcd]=$holder_device
    return 0
  fi
  case $state in
    available)
      log "etcd-$etcd: attaching $id as $device"
      if aws ec2 attach-volume --region "$REGION" --volume-id "$id" --instance-id "$INSTANCE_ID" \
        --device "$device" >/dev/null 2>"$WORK_DIR/err"; then
        log "etcd-$etcd: attach-volume accepted for $id"
        VOLUME_ID[$etcd]=$id ATTACHED_DEVICE[$etcd]=$device
        return 0
      fi
      WAITING="attach-volume of $id failed: $(one_line "$WORK_DIR/err")"
      ;;
    in-use) WAITING="$id is still held by $holder as $holder_device (attachment $attach_state)" ;;
    *) WAITING="$id is $state" ;;
  esac
  return 1
}

# claim_volumes: gets this member's volumes attached here (one describe call per attempt for both);
# sets VOLUME_ID, ATTACHED_DEVICE and VOLUME_TAG, by etcd cluster.
declare -A VOLUME_ID=() ATTACHED_DEVICE=() VOLUME_TAG=()
claim_volumes() {
  local attempt rows spec etcd device mount_path pending
  for ((attempt = 1; ; attempt++)); do
    pending=""
    if rows="$(describe_etcd_volumes 2>"$WORK_DIR/err")"; then
      for spec in "${ETCD_VOLUMES[@]}"; do
        read -r etcd device mount_path <<<"$spec"
        [[ -n ${VOLUME_ID[$etcd]:-} ]] && continue
        claim_one "$etcd" "$device" "$rows" || pending+="etcd-$etcd: $WAITING; "
      done
      [[ -n $pending ]] || return 0
    else
      pending="describe-volumes failed: $(one_line "$WORK_DIR/err")"
    fi
    if ((attempt >= ATTACH_ATTEMPTS)); then
      give_up "giving up on the etcd volumes after $attempt attempts, $((attempt * ATTACH_DELAY_SECONDS))s: $pending"
    fi
    log "attempt $attempt/$ATTACH_ATTEMPTS: $pending retrying in ${ATTACH_DELAY_SECONDS}s"
    sleep "$ATTACH_DELAY_SECONDS"
  done
}

# wait_for_device ETCD VOLUME_ID DEVICE: sets DEVICE_PATH once the volume's block device exists.
wait_for_device() {
  local etcd=$1 volume_id=$2 device=$3 attempt candidate
  local nvme="$ROOT/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume_id//-/}"
  for ((attempt = 1; ; attempt++)); do
    # Newer udev adds a namespace suffix (_1) to the NVMe link; Xen instances get the requested name.
    for candidate in "$nvme" "${nvme}_1" "$ROOT$device"; do
      if [[ -e $candidate ]]; then
        DEVICE_PATH=$candidate
        log "etcd-$etcd: $volume_id is $candidate ($(readlink -f "$candidate"))"
        return 0
      fi
    done
    if ((attempt >= DEVICE_WAIT_ATTEMPTS)); then
      give_up "etcd-$etcd: neither $nvme nor $ROOT$device appeared within $((attempt * DEVICE_WAIT_DELAY_SECONDS))s of attaching $volume_id"
    fi
    log "etcd-$etcd: waiting for the device of $volume_id ($attempt/$DEVICE_WAIT_ATTEMPTS)"
    sleep "$DEVICE_WAIT_DELAY_SECONDS"
  done
}

# probe_filesystem DEVICE: sets FS_TYPE, FS_UUID and PT_TYPE; returns 1 when blkid finds nothing
# (exit code 2). Any other exit code means the device could not be probed: never format then.
probe_filesystem() {
  local rc=0 line
  FS_TYPE="" FS_UUID="" PT_TYPE=""
  blkid -p -o export "$1" >"$WORK_DIR/blkid" 2>"$WORK_DIR/err" || rc=$?
  case $rc in
    0) ;;
    2) return 1 ;;
    *) die "blkid -p $1 failed with exit code $rc ($(one_line "$WORK_DIR/err")); not formatting a device that cannot be probed" ;;
  esac
  while IFS= read -r line; do
    case $line in
      TYPE=*) FS_TYPE=${line#TYPE=} ;;
      UUID=*) FS_UUID=${line#UUID=} ;;
      PTTYPE=*) PT_TYPE=${line#PTTYPE=} ;;
    esac
  done <"$WORK_DIR/blkid"
}

# ensure_filesystem ETCD DEVICE: keeps an existing filesystem; formats a blank device only.
ensure_filesystem() {
  local etcd=$1 device=$2
  if probe_filesystem "$device"; then
    [[ -n $FS_TYPE ]] ||
      die "etcd-$etcd: $device has a partition table ($PT_TYPE) but no filesystem; not formatting it. Inspect the volume."
    log "etcd-$etcd: $device has a filesystem ($FS_TYPE, UUID $FS_UUID); keeping it"
  else
    log "etcd-$etcd: $device is blank: mkfs.ext4 -L etcd-$etcd"
    mkfs.ext4 -q -L "etcd-$etcd" "$device" >&2 || die "etcd-$etcd: mkfs.ext4 failed on $device"
    if ! probe_filesystem "$device" || [[ -z $FS_TYPE ]]; then
      die "etcd-$etcd: blkid finds no filesystem on $device after mkfs.ext4"
    fi
    log "etcd-$etcd: created $FS_TYPE on $device (UUID $FS_UUID)"
  fi
  [[ -n $FS_UUID ]] || die "etcd-$etcd: the $FS_TYPE filesystem on $device has no UUID to put in fstab"
}

# mount_volume ETCD DEVICE MOUNT_PATH: mounts unless mounted; adds the fstab line unless present.
mount_volume() {
  local etcd=$1 device=$2 mount_path=$3
  local dir="$ROOT$mount_path" fstab="$ROOT/etc/fstab"
  local entry="UUID=$FS_UUID $mount_path $FS_TYPE defaults,nofail 0 2"
  mkdir -p "$dir"
  if mountpoint -q "$dir"; then
    log "etcd-$etcd: $mount_path is mounted already"
  else
    mount -t "$FS_TYPE" "$device" "$dir" || die "etcd-$etcd: could not mount $device ($FS_TYPE) at $mount_path"
    log "etcd-$etcd: mounted $device at $mount_path"
  fi
  if [[ -f $fstab ]] && grep -qxF -- "$entry" "$fstab"; then
    return 0
  fi
  if [[ -s $fstab && -n $(tail -c 1 "$fstab") ]]; then
    printf '\n' >>"$fstab"
  fi
  printf '%s\n' "$entry" >>"$fstab"
  log "etcd-$etcd: added to fstab: $entry"
}

# grow_filesystem ETCD MOUNT_PATH: grows an ext4 filesystem to its volume's size (after the volume
# was made larger in EBS); resize2fs does nothing when there is nothing to grow.
grow_filesystem() {
  local etcd=$1 mount_path=$2 device
  device="$(findmnt -n -o SOURCE --target "$ROOT$mount_path")" || {
    log "etcd-$etcd: $mount_path is not mounted; nothing to grow"
    return 0
  }
  if resize2fs "$device" >"$WORK_DIR/resize" 2>&1; then
    log "etcd-$etcd: $(grep -m1 -E 'Nothing to do|is now' "$WORK_DIR/resize" || echo "resize2fs $device done")"
  else
    log "etcd-$etcd: resize2fs $device failed ($(one_line "$WORK_DIR/resize")); the filesystem keeps its size"
  fi
}

# record_members TAG_VALUE: keeps the member list of the volume tag ("a/a,b,c") for the etcd step.
record_members() {
  local members=${1#*/}
  [[ $members =~ ^[a-z0-9-]+(,[a-z0-9-]+)*$ ]] ||
    die "the volume tag value ${1@Q} does not list members as MEMBER/a,b,c; fix the tag"
  [[ ,$members, == *",$ETCD_MEMBER,"* ]] ||
    die "the volume tag value ${1@Q} does not list this member ($ETCD_MEMBER) among the members"
  printf '%s\n' "$members" | write_if_changed "$ETCD_MEMBERS_FILE" 0644 || true
}

# attach_etcd_volumes: the step. Sets ETCD_MEMBERS (comma-separated).
attach_etcd_volumes() {
  local spec etcd device mount_path
  claim_volumes
  for spec in "${ETCD_VOLUMES[@]}"; do
    read -r etcd device mount_path <<<"$spec"
    wait_for_device "$etcd" "${VOLUME_ID[$etcd]}" "${ATTACHED_DEVICE[$etcd]}"
    ensure_filesystem "$etcd" "$DEVICE_PATH"
    mount_volume "$etcd" "$DEVICE_PATH" "$mount_path"
    grow_filesystem "$etcd" "$mount_path"
    [[ $etcd == main ]] && record_members "${VOLUME_TAG[main]}"
  done
  ETCD_MEMBERS="$(<"$ETCD_MEMBERS_FILE")"
  log "etcd volumes ready; members ${ETCD_MEMBERS}"
}
