# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, KMS_KEY come from cluster.env (load_cluster_env)
# The run-time store, reading: SSM Parameter Store under /kopsform/NAME/ (docs/runtime.md). Nodes
# read here too (config/, join/); writing is steps/store-write.sh, for masters only.

# The SSM Parameter Store path of this cluster's run-time store (docs/runtime.md).
store_path() {
  printf '/kopsform/%s/%s' "$CLUSTER_NAME" "$1"
}

# aws_error FILE: the AWS error code in the CLI's error output ("... (ParameterNotFound) ...").
aws_error() {
  sed -n 's/.*An error occurred (\([A-Za-z]*\)).*/\1/p' "$1" | head -n 1
}

# ssm_get NAME FILE: writes the value (decrypted) of parameter NAME to FILE, with mode 0600.
# Returns 0, or 1 when the parameter does not exist. Other errors are retried, then fatal.
ssm_get() {
  local name=$1 file=$2 attempt code
  for ((attempt = 1; ; attempt++)); do
    if (umask 077 && aws ssm get-parameter --name "$name" --with-decryption \
      --query Parameter.Value --output text >"$file" 2>"$WORK_DIR/ssm.err"); then
      return 0
    fi
    code="$(aws_error "$WORK_DIR/ssm.err")"
    [[ $code == ParameterNotFound ]] && return 1
    ((attempt < 10)) || die "could not read $name: $(one_line "$WORK_DIR/ssm.err")"
    log "reading $name failed ($(one_line "$WORK_DIR/ssm.err")); retrying in 5s"
    sleep 5
  done
}
