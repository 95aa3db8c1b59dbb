# shellcheck shell=bash disable=SC2153 # KMS_KEY comes from cluster.env (load_cluster_env)
# The run-time store, writing (masters only): values always go to the AWS CLI through files (never
# arguments), and SecureStrings are encrypted with the cluster's key (KMS_KEY).

# ssm_put_once NAME TYPE FILE: creates parameter NAME (String or SecureString with the cluster's
# key) from FILE, without overwriting (create-once). Returns 0 when this call created it, 1 when it
# existed already (the loser of a race reads the winner's). The value never appears in arguments.
ssm_put_once() {
  local name=$1 type=$2 file=$3 attempt code
  local -a key=()
  [[ $type == SecureString ]] && key=(--key-id "$KMS_KEY")
  for ((attempt = 1; ; attempt++)); do
    if aws ssm put-parameter --name "$name" --type "$type" "${key[@]}" --no-overwrite \
      --value "file://$file" >/dev/null 2>"$WORK_DIR/ssm.err"; then
      return 0
    fi
    code="$(aws_error "$WORK_DIR/ssm.err")"
    [[ $code == ParameterAlreadyExists ]] && return 1
    ((attempt < 10)) || die "could not create $name: $(one_line "$WORK_DIR/ssm.err")"
    log "creating $name failed ($(one_line "$WORK_DIR/ssm.err")); retrying in 5s"
    sleep 5
  done
}


# ssm_put NAME TYPE FILE: writes parameter NAME from FILE, replacing its value (the join token,
# which masters renew; the policy refuses overwriting CAs and markers).
ssm_put() {
  local name=$1 type=$2 file=$3
  local -a key=()
  [[ $type == SecureString ]] && key=(--key-id "$KMS_KEY")
  retry 10 5 "writing $name" aws ssm put-parameter --name "$name" --type "$type" "${key[@]}" --overwrite \
    --value "file://$file" >/dev/null || die "could not write $name"
}
