# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step (timers/etcd-backup.sh, kopsform-etcd-backup@CLUSTER.timer, every etcdBackupIntervalMinutes): the leader of etcd
# CLUSTER takes a snapshot and puts it, with its sha256, in the cluster's backup bucket:
#   s3://BUCKET/NAME/backups/etcd/CLUSTER/YYYYMMDDTHHMMSSZ/snapshot.db (and snapshot.db.sha256)
# Every master runs the timer; only the current leader writes, so there is one backup per interval
# whichever masters are up. The bucket's name is in the run-time store (config/backup-bucket,
# written by Terraform); the bucket encrypts with the cluster's key and expires old backups.

# backup_bucket: the bucket's name from the store.
backup_bucket() {
  local bucket
  ssm_get "$(store_path config/backup-bucket)" "$WORK_DIR/bucket" ||
    die "$(store_path config/backup-bucket) is missing; it is written by Terraform with the cluster"
  bucket="$(<"$WORK_DIR/bucket")"
  [[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "config/backup-bucket holds ${bucket@Q}, not a bucket name"
  printf '%s' "$bucket"
}

# backup_etcd CLUSTER: the timer's work.
backup_etcd() {
  local bucket stamp prefix
  etcd_vars "$1"
  if [[ "$(local_status)" != "true "* ]]; then
    log "etcd-$E_CLUSTER: this member is not the leader; the leader takes the backup"
    return 0
  fi
  bucket="$(backup_bucket)"
  printf -v stamp '%(%Y%m%dT%H%M%SZ)T' -1
  prefix="s3://$bucket/$CLUSTER_NAME/backups/etcd/$E_CLUSTER/$stamp"
  ectl "$E_LOCAL" snapshot save "$WORK_DIR/snapshot.db" >"$WORK_DIR/err" 2>&1 ||
    die "etcd-$E_CLUSTER: snapshot failed: $(one_line "$WORK_DIR/err")"
  (cd "$WORK_DIR" && sha256sum snapshot.db >snapshot.db.sha256)
  retry 5 10 "upload of $prefix/snapshot.db" aws s3 cp --only-show-errors "$WORK_DIR/snapshot.db" "$prefix/snapshot.db" ||
    die "etcd-$E_CLUSTER: could not upload the snapshot to $prefix/"
  retry 5 10 "upload of $prefix/snapshot.db.sha256" aws s3 cp --only-show-errors "$WORK_DIR/snapshot.db.sha256" "$prefix/snapshot.db.sha256" ||
    die "etcd-$E_CLUSTER: could not upload the snapshot's checksum to $prefix/"
  log "etcd-$E_CLUSTER: backed up to $prefix/snapshot.db ($(stat -c %s "$WORK_DIR/snapshot.db") bytes, sha256 $(cut -d' ' -f1 "$WORK_DIR/snapshot.db.sha256"))"
  ensure_created_marker
}
