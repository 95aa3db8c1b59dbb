# shellcheck shell=bash
# The kopsform boot library, sourced by every boot script (never run on its own).
#
# It gives: the on-instance paths, logging (log, die), bounded retries (retry), asking the
# instance's auto-scaling group for a replacement (give_up), the instance's facts from IMDSv2
# (load_instance_facts), a reader for /etc/kopsform/cluster.env that treats every value as data
# (load_cluster_env), and write_if_changed. The run-time store is steps/store.sh.
#
# Test hooks: ROOT prefixes every path (empty on instances); AWS_EC2_METADATA_SERVICE_ENDPOINT
# (the AWS SDKs' own variable) points IMDS elsewhere. Every external command is called by its
# plain name, so tests put fakes or real tools first on PATH.

ROOT="${ROOT:-}"
readonly ROOT
readonly KOPSFORM_HOME="$ROOT/opt/kopsform"
readonly KOPSFORM_ETC="$ROOT/etc/kopsform"
readonly KOPSFORM_STATE="$ROOT/var/lib/kopsform"
readonly KOPSFORM_LOG="$ROOT/var/log/kopsform/boot.log"
readonly CLUSTER_ENV="$KOPSFORM_ETC/cluster.env"
readonly IMDS_ENDPOINT="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
readonly IMDS="${IMDS_ENDPOINT%/}"
# The etcd release installed by steps/etcd-install.sh, first on PATH for every script.
PATH="$KOPSFORM_HOME/etcd/current:$PATH"
export AWS_PAGER="" AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=5

LOG_TAG="${LOG_TAG:-${0##*/}}"
mkdir -p "${KOPSFORM_LOG%/*}" "$KOPSFORM_STATE"
# The boot log is root's only: a failing tool's output (kubeadm's, say) may name a secret.
if (umask 077 && : >>"$KOPSFORM_LOG") 2>/dev/null; then
  chmod 0600 "$KOPSFORM_LOG" 2>/dev/null || true
fi

# log MESSAGE: one timestamped line to stderr (the journal) and to the boot log.
log() {
  local line
  printf -v line '%(%Y-%m-%dT%H:%M:%S%z)T kopsform[%s]: %s' -1 "$LOG_TAG" "$*"
  printf '%s\n' "$line" >&2
  printf '%s\n' "$line" >>"$KOPSFORM_LOG" 2>/dev/null || true
}

DIED=""
WORK_DIR="$(mktemp -d)"
readonly WORK_DIR
# shellcheck disable=SC2317 # runs from the EXIT trap
on_exit() {
  local rc=$? command=$BASH_COMMAND
  rm -rf "$WORK_DIR"
  if ((rc != 0)) && [[ -z $DIED ]]; then
    log "FATAL: stopped with exit code $rc at: $command"
  fi
}
trap on_exit EXIT

# die MESSAGE: logs the reason and exits 1. Every stop goes through here, so the log says why.
die() {
  log "FATAL: $*"
  DIED=1
  exit 1
}

# retry ATTEMPTS DELAY WHAT COMMAND...: runs COMMAND until it succeeds, at most ATTEMPTS times,
# DELAY seconds apart; returns 1 after the last failure. COMMAND's stderr goes to $WORK_DIR/err.
retry() {
  local attempts=$1 delay=$2 what=$3 attempt
  shift 3
  for ((attempt = 1; ; attempt++)); do
    if "$@" 2>"$WORK_DIR/err"; then
      return 0
    fi
    if ((attempt >= attempts)); then
      log "$what: failed $attempt times, the last with: $(one_line "$WORK_DIR/err")"
      return 1
    fi
    log "$what: attempt $attempt/$attempts failed ($(one_line "$WORK_DIR/err")); retrying in ${delay}s"
    sleep "$delay"
  done
}

# one_line FILE: FILE's content on one line (for log messages).
one_line() {
  tr -s '\n\t' '  ' <"$1" 2>/dev/null | cut -c1-500
}

# give_up MESSAGE: for failures a new instance could fix (the network was not ready, a volume was
# held too long): asks the auto-scaling group to replace this instance, then dies with MESSAGE.
# The group checks EC2 health only, so an instance that merely exits stays "healthy" without etcd.
# Without the AWS CLI (or when the call is refused) it powers off instead: the launch template's
# shutdown behaviour is terminate, and a stopped or terminated instance is replaced as well.
give_up() {
  log "giving up: $*"
  if [[ -n ${INSTANCE_ID:-} && -n ${REGION:-} ]] && command -v aws >/dev/null 2>&1 &&
    aws autoscaling set-instance-health --region "$REGION" --instance-id "$INSTANCE_ID" \
      --health-status Unhealthy --no-should-respect-grace-period >/dev/null 2>"$WORK_DIR/health.err"; then
    log "marked ${INSTANCE_ID} Unhealthy: its auto-scaling group replaces it"
  else
    log "could not mark this instance Unhealthy ($(one_line "$WORK_DIR/health.err")); powering off so that its group replaces it"
    poweroff || log "poweroff failed; terminate this instance by hand to get a new one"
  fi
  die "$@"
}

# imds PATH: prints the instance metadata at PATH (IMDSv2; the token is fetched once).
imds() {
  if [[ -z ${IMDS_TOKEN:-} ]]; then
    IMDS_TOKEN="$(curl -fsS --retry 5 --retry-connrefused --connect-timeout 2 --max-time 10 -X PUT \
      -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$IMDS/latest/api/token")" || return 1
  fi
  curl -fsS --retry 5 --retry-connrefused --connect-timeout 2 --max-time 10 \
    -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "$IMDS/latest/meta-data/$1"
}

# load_instance_facts: sets INSTANCE_ID, ZONE, REGION, PRIVATE_IP and ARCH. Without instance
# metadata nothing else can work, but a new instance could: ask for one.
# shellcheck disable=SC2034 # the facts are read by the steps
load_instance_facts() {
  local name path value
  for name in INSTANCE_ID:instance-id ZONE:placement/availability-zone REGION:placement/region \
    PRIVATE_IP:local-ipv4; do
    path=${name#*:}
    value="$(imds "$path")" || give_up "could not read $path from the instance metadata service at $IMDS"
    [[ $value =~ ^[A-Za-z0-9.:-]+$ ]] || give_up "the instance metadata service returned ${value@Q} for $path"
    printf -v "${name%%:*}" '%s' "$value"
  done
  case "$(uname -m)" in
    x86_64) ARCH=amd64 ;;
    aarch64) ARCH=arm64 ;;
    *) die "unsupported machine architecture $(uname -m); kopsform runs on amd64 and arm64" ;;
  esac
  export AWS_DEFAULT_REGION="$REGION"
}

# load_cluster_env KEY...: sets each KEY from the KEY=VALUE lines of cluster.env. Values are data:
# never evaluated, only assigned (a KEY that is not asked for, or missing, is an error).
load_cluster_env() {
  local line key value
  local -A wanted=()
  for key in "$@"; do
    wanted[$key]=1
  done
  [[ -r $CLUSTER_ENV ]] || die "$CLUSTER_ENV is missing; the user data writes it"
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -z $line || $line == \#* ]] && continue
    key=${line%%=*}
    value=${line#*=}
    [[ $key =~ ^[A-Z][A-Z0-9_]*$ ]] || die "$CLUSTER_ENV: ${line@Q} is not KEY=VALUE"
    [[ -n ${wanted[$key]:-} ]] || continue
    printf -v "$key" '%s' "$value"
    unset "wanted[$key]"
  done <"$CLUSTER_ENV"
  ((${#wanted[@]} == 0)) || die "$CLUSTER_ENV lacks ${!wanted[*]}"
}

# fetch_verified URL SHA256 FILE: downloads URL to FILE (retried within the install bound) and
# checks its sha256 before anything of it is used. A download that keeps failing ends in a request
# for a replacement (the network may not have been ready); a digest that differs is refused without
# one: a new instance would download the same bytes.
fetch_verified() {
  local url=$1 expected=$2 file=$3 actual
  [[ $expected =~ ^[0-9a-f]{64}$ ]] || die "no sha256 to check $url against"
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "download of $url" \
    curl -fsSL --connect-timeout 10 --max-time 300 -o "$file" "$url" ||
    give_up "could not download $url"
  actual="$(sha256sum "$file" | cut -d' ' -f1)"
  [[ $actual == "$expected" ]] ||
    die "$url has sha256 $actual, not the pinned $expected; refusing it (check the spec's pins or the mirror)"
}

# write_if_changed FILE MODE: replaces FILE with standard input when the content differs, in place
# (same inode: /etc/hosts is often a bind mount, where a rename fails). Returns 0 when it changed.
write_if_changed() {
  local file=$1 mode=$2 new="$WORK_DIR/new.${1##*/}"
  cat >"$new"
  if [[ -f $file ]] && cmp -s "$new" "$file"; then
    return 1
  fi
  mkdir -p "${file%/*}"
  [[ -f $file ]] || install -m "$mode" /dev/null "$file"
  cat "$new" >"$file"
}
