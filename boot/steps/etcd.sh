# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step: run etcd `main` (client 4001, peer 2380) and `events` (client 4002, peer 2381) on this
# master's volumes, as members of one cluster each, and never split a cluster's state.
#
# The member's identity is in the data: its name comes from the volume tag, its URLs are names
# (etcd-MEMBER.internal.NAME) that /etc/hosts maps to whichever instance holds the volume.
# What happens depends on what is on the volume (the formation rule, docs/runtime.md):
#   1. data on the volume: start as is (same member, same URLs, whatever the address).
#   2. blank, and a quorum of the cluster answers: join it. A member entry with this member's peer
#      URL that never ran (no client URLs: a static member that never started, or a learner added
#      by an interrupted join) is simply started; one that ran before lost its data with the volume,
#      so it is removed and this member added again as a learner, then promoted once caught up.
#      etcd allows one learner at a time: members growing the cluster join one after the other.
#   3. blank, no quorum answers, the cluster was never created (no "created" marker): static
#      bootstrap with every member of the volume tag, the same on every master.
#   4. blank, no quorum answers, the cluster was created before: wait (bounded) for a quorum, then
#      refuse: starting a new cluster would lose every write of the old one. The log says how to
#      restore from a backup; kopsform-boot.service retries every minute, so a quorum coming back
#      (or a restore) resolves it.
# The "created" marker (create-once, /kopsform/NAME/etcd/CLUSTER/created) is written when a quorum
# is first healthy, at boot or by the maintenance timer.

# etcd_vars CLUSTER: the names, ports and paths of etcd CLUSTER (main or events).
etcd_vars() {
  E_CLUSTER=$1
  case $1 in
    main) E_CLIENT_PORT=4001 E_PEER_PORT=2380 E_HOST_PREFIX=etcd ;;
    events) E_CLIENT_PORT=4002 E_PEER_PORT=2381 E_HOST_PREFIX=etcd-events ;;
    *) die "no etcd cluster named ${1@Q}" ;;
  esac
  E_DATA="$ROOT/mnt/etcd/$1/data"
  E_ENV="$KOPSFORM_ETC/etcd-$1.env"
  E_UNIT="kopsform-etcd@$1.service"
  E_MARKER="$(store_path "etcd/$1/created")"
  E_TOKEN="kopsform-$CLUSTER_NAME-$1"
  E_LOCAL="https://127.0.0.1:$E_CLIENT_PORT"
}

etcd_host() { printf '%s-%s.internal.%s' "$E_HOST_PREFIX" "$1" "$CLUSTER_NAME"; }
peer_url() { printf 'https://%s:%s' "$(etcd_host "$1")" "$E_PEER_PORT"; }
client_url() { printf 'https://%s:%s' "$(etcd_host "$1")" "$E_CLIENT_PORT"; }

# initial_cluster: "a=https://etcd-a...:2380,b=..." for every member of the volume tag.
initial_cluster() {
  local member out=""
  for member in ${ETCD_MEMBERS//,/ }; do
    out+="${out:+,}$member=$(peer_url "$member")"
  done
  printf '%s' "$out"
}

# ectl ENDPOINTS ARGS...: etcdctl with this master's client certificate.
ectl() {
  local endpoints=$1
  shift
  ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --cacert "$ETCD_PKI/etcd-clients-ca.crt" \
    --cert "$ETCD_PKI/client.crt" --key "$ETCD_PKI/client.key" --dial-timeout 3s --command-timeout 10s "$@"
}

has_data() { [[ -d $E_DATA/member/wal ]]; }

# marker_exists: whether the cluster was created before (retried, then fatal, on store errors).
marker_exists() { ssm_get "$E_MARKER" "$WORK_DIR/marker"; }

# healthy_peer: prints the client URL of another member that answers as part of a quorum (a quorum
# read succeeds there); the members are asked at once. (etcdctl 3.4 prints the verdicts on stderr,
# 3.5 on stdout: both are read.)
healthy_peer() {
  local member endpoints=""
  for member in ${ETCD_MEMBERS//,/ }; do
    [[ $member == "$ETCD_MEMBER" ]] || endpoints+="${endpoints:+,}$(client_url "$member")"
  done
  [[ -n $endpoints ]] || return 1
  { ectl "$endpoints" endpoint health 2>&1 || true; } | sed -n 's/^\(https:[^ ]*\) is healthy.*/\1/p' | head -n 1 | grep .
}

# write_etcd_env STATE INITIAL_CLUSTER: the environment etcd runs with (kopsform-etcd@.service).
write_etcd_env() {
  local host
  host="$(etcd_host "$ETCD_MEMBER")"
  mkdir -p "$E_DATA"
  chmod 0700 "$E_DATA"
  cat <<EOF | write_if_changed "$E_ENV" 0644 || true
ETCD_NAME=$ETCD_MEMBER
ETCD_DATA_DIR=$E_DATA
ETCD_LISTEN_PEER_URLS=https://0.0.0.0:$E_PEER_PORT
ETCD_LISTEN_CLIENT_URLS=https://0.0.0.0:$E_CLIENT_PORT
ETCD_ADVERTISE_CLIENT_URLS=https://$host:$E_CLIENT_PORT
ETCD_INITIAL_ADVERTISE_PEER_URLS=https://$host:$E_PEER_PORT
ETCD_INITIAL_CLUSTER=$2
ETCD_INITIAL_CLUSTER_STATE=$1
ETCD_INITIAL_CLUSTER_TOKEN=$E_TOKEN
ETCD_CERT_FILE=$ETCD_PKI/server.crt
ETCD_KEY_FILE=$ETCD_PKI/server.key
ETCD_TRUSTED_CA_FILE=$ETCD_PKI/etcd-clients-ca.crt
ETCD_CLIENT_CERT_AUTH=true
ETCD_PEER_CERT_FILE=$ETCD_PKI/peer-$E_CLUSTER.crt
ETCD_PEER_KEY_FILE=$ETCD_PKI/peer-$E_CLUSTER.key
ETCD_PEER_TRUSTED_CA_FILE=$ETCD_PKI/etcd-peers-ca-$E_CLUSTER.crt
ETCD_PEER_CLIENT_CERT_AUTH=true
ETCD_STRICT_RECONFIG_CHECK=true
ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK=true
ETCD_LOGGER=zap
ETCD_LOG_OUTPUTS=stderr
EOF
}

# start_member: starts (or keeps running) this member's unit.
start_member() {
  if systemctl is-active --quiet "$E_UNIT"; then
    log "etcd-$E_CLUSTER: $E_UNIT is running"
    return 0
  fi
  systemctl start --no-block "$E_UNIT" || die "etcd-$E_CLUSTER: systemctl could not start $E_UNIT"
  log "etcd-$E_CLUSTER: started $E_UNIT"
}

# member_line ENDPOINT: this member's line of `member list -w simple`, found by its peer URL
# (names are empty for members that never ran): "ID, status, name, peer URLs, client URLs, learner".
member_line() {
  local list
  list="$(ectl "$1" member list -w simple 2>"$WORK_DIR/err")" || return 2
  grep -F ", $(peer_url "$ETCD_MEMBER"), " <<<"$list" || return 1
}

# add_learner ENDPOINT: adds this member as a learner; prints etcd's initial cluster for it.
add_learner() {
  local out
  out="$(ectl "$1" member add "$ETCD_MEMBER" --peer-urls="$(peer_url "$ETCD_MEMBER")" --learner 2>&1)" || {
    printf '%s\n' "$out" >&2
    return 1
  }
  sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$out"
}

# join_cluster ENDPOINT: the member joins the healthy cluster at ENDPOINT (case 2 above).
join_cluster() {
  local endpoint=$1 line id name clients initial="" rc=0
  line="$(member_line "$endpoint")" || rc=$?
  ((rc != 2)) || die "etcd-$E_CLUSTER: could not list the members at $endpoint: $(one_line "$WORK_DIR/err")"
  if [[ -n $line ]]; then
    IFS=',' read -r id _ name _ clients _ <<<"${line//, /,}"
    if [[ -z $clients ]]; then
      log "etcd-$E_CLUSTER: member $id ($ETCD_MEMBER) never ran; starting it"
      initial="$(ectl "$endpoint" member list -w simple |
        awk -F', ' -v me="$ETCD_MEMBER" -v url="$(peer_url "$ETCD_MEMBER")" \
          '{n = ($4 == url) ? me : $3} n != "" {printf "%s%s=%s", sep, n, $4; sep = ","}')"
    else
      # Never remove the member this volume holds: only a blank volume's stale entry goes.
      has_data && die "etcd-$E_CLUSTER: data appeared on the volume while joining (a restore?); not removing member $id ($name). kopsform-boot retries."
      log "etcd-$E_CLUSTER: member $id ($name) ran before and this volume is blank: removing it, then adding this member as a learner"
      retry "$ETCD_JOIN_ATTEMPTS" "$ETCD_JOIN_DELAY_SECONDS" "etcd-$E_CLUSTER: member remove $id" \
        ectl "$endpoint" member remove "$id" ||
        die "etcd-$E_CLUSTER: could not remove the stale member $id ($name) at $endpoint"
    fi
  fi
  if [[ -z $initial ]]; then
    # One learner at a time: another member joining makes this wait its turn.
    initial="$(retry "$ETCD_JOIN_ATTEMPTS" "$ETCD_JOIN_DELAY_SECONDS" "etcd-$E_CLUSTER: member add $ETCD_MEMBER as a learner" \
      add_learner "$endpoint")" || die "etcd-$E_CLUSTER: could not add $ETCD_MEMBER as a learner at $endpoint"
    [[ -n $initial ]] || die "etcd-$E_CLUSTER: member add printed no initial cluster"
    log "etcd-$E_CLUSTER: added $ETCD_MEMBER as a learner; initial cluster $initial"
  fi
  write_etcd_env existing "$initial"
  start_member
}

# local_status: "IS_LEADER IS_LEARNER" of this member (from endpoint status).
local_status() {
  local line
  line="$(ectl "$E_LOCAL" endpoint status -w simple 2>/dev/null)" || return 1
  awk -F', ' '{print $5, $6}' <<<"$line"
}

# wait_running: waits (bounded) until this member answers endpoint status. etcd serves clients only
# once the member has joined a quorum, so a member whose peers are down waits here.
wait_running() {
  local attempt
  for ((attempt = 1; attempt <= ETCD_QUORUM_WAIT_ATTEMPTS; attempt++)); do
    local_status >/dev/null && return 0
    ((attempt % 10 == 0)) && log "etcd-$E_CLUSTER: waiting for member $ETCD_MEMBER to serve ($attempt/$ETCD_QUORUM_WAIT_ATTEMPTS)"
    sleep "$ETCD_JOIN_DELAY_SECONDS"
  done
  systemctl is-active --quiet "$E_UNIT" ||
    die "etcd-$E_CLUSTER: $E_UNIT is not running; see journalctl -u $E_UNIT"
  die "etcd-$E_CLUSTER: member $ETCD_MEMBER runs but has no quorum after $((ETCD_QUORUM_WAIT_ATTEMPTS * ETCD_JOIN_DELAY_SECONDS))s (etcd serves clients only with a quorum of ${ETCD_MEMBERS}); it keeps running, kopsform-boot retries"
}

# promote_if_learner: a learner is promoted once it has caught up (etcd refuses before).
promote_if_learner() {
  local attempt id endpoint
  [[ "$(local_status)" == *" true" ]] || return 0
  id="$(ectl "$E_LOCAL" endpoint status -w simple | awk -F', ' '{print $2}')"
  for ((attempt = 1; attempt <= ETCD_PROMOTE_ATTEMPTS; attempt++)); do
    if endpoint="$(healthy_peer)" && ectl "$endpoint" member promote "$id" >/dev/null 2>"$WORK_DIR/err"; then
      log "etcd-$E_CLUSTER: promoted $ETCD_MEMBER ($id) to a voting member"
      return 0
    fi
    ((attempt % 5 == 0)) && log "etcd-$E_CLUSTER: learner $ETCD_MEMBER not promoted yet ($(one_line "$WORK_DIR/err"))"
    sleep "$ETCD_JOIN_DELAY_SECONDS"
  done
  die "etcd-$E_CLUSTER: $ETCD_MEMBER is still a learner after $ETCD_PROMOTE_ATTEMPTS attempts; see journalctl -u $E_UNIT"
}

# wait_healthy ATTEMPTS: waits until this member serves a quorum read; returns 1 on timeout.
wait_healthy() {
  local attempt
  for ((attempt = 1; attempt <= $1; attempt++)); do
    if ectl "$E_LOCAL" endpoint health >/dev/null 2>&1; then
      return 0
    fi
    ((attempt % 10 == 0)) && log "etcd-$E_CLUSTER: waiting for a quorum ($attempt/$1)"
    sleep "$ETCD_JOIN_DELAY_SECONDS"
  done
  return 1
}

# ensure_created_marker: once this member is healthy, records that the cluster exists (create-once).
ensure_created_marker() {
  ectl "$E_LOCAL" endpoint health >/dev/null 2>&1 || return 0
  marker_exists && return 0
  printf 'created_at=%(%Y-%m-%dT%H:%M:%SZ)T by=%s token=%s\n' -1 "$ETCD_MEMBER" "$E_TOKEN" >"$WORK_DIR/marker.new"
  if ssm_put_once "$E_MARKER" String "$WORK_DIR/marker.new"; then
    log "etcd-$E_CLUSTER: the cluster has a quorum: wrote $E_MARKER"
  fi
}

# refuse_to_form: case 4. Dies with what to do.
refuse_to_form() {
  die "etcd-$E_CLUSTER: this member's volume is blank, the cluster was created before ($E_MARKER) and no quorum of it answers (tried the other members: ${ETCD_MEMBERS}). Refusing to start a new etcd-$E_CLUSTER cluster: it would lose every write of the old one. If enough masters are coming back with their volumes, this resolves itself (kopsform-boot retries every minute). If the data is lost, restore a backup on every master: /opt/kopsform/bin/kopsform-etcd-restore $E_CLUSTER --list, then /opt/kopsform/bin/kopsform-etcd-restore $E_CLUSTER BACKUP --yes (README: Restoring etcd)."
}

# run_etcd CLUSTER: the step for one etcd cluster.
run_etcd() {
  local attempt endpoint
  etcd_vars "$1"
  if has_data; then
    log "etcd-$E_CLUSTER: data on the volume: starting member $ETCD_MEMBER as is"
    write_etcd_env existing "$(initial_cluster)"
    start_member
  else
    for ((attempt = 1; ; attempt++)); do
      if endpoint="$(healthy_peer)"; then
        log "etcd-$E_CLUSTER: blank volume; $endpoint answers with a quorum: joining"
        join_cluster "$endpoint"
        break
      fi
      if ! marker_exists; then
        log "etcd-$E_CLUSTER: blank volume, no cluster yet: bootstrapping member $ETCD_MEMBER of ${ETCD_MEMBERS}"
        write_etcd_env new "$(initial_cluster)"
        start_member
        break
      fi
      ((attempt < ETCD_JOIN_ATTEMPTS)) || refuse_to_form
      log "etcd-$E_CLUSTER: blank volume; the cluster exists but no quorum answers yet ($attempt/$ETCD_JOIN_ATTEMPTS)"
      sleep "$ETCD_JOIN_DELAY_SECONDS"
    done
  fi
  wait_running
  promote_if_learner
  wait_healthy "$ETCD_QUORUM_WAIT_ATTEMPTS" ||
    die "etcd-$E_CLUSTER: member $ETCD_MEMBER runs but has no quorum after $((ETCD_QUORUM_WAIT_ATTEMPTS * ETCD_JOIN_DELAY_SECONDS))s (members ${ETCD_MEMBERS}); it keeps running, kopsform-boot retries"
  log "etcd-$E_CLUSTER: member $ETCD_MEMBER is healthy"
  ensure_created_marker
}
