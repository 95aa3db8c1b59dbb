# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step: the AWS CLI, which every later step uses (the instance profile gives it credentials).
#
# Canonical's Ubuntu 24.04 images have no AWS CLI and no apt package for it; AWS publishes it as
# the aws-cli snap, installed here. The snap store may not be reachable yet on a first boot (a NAT
# route or DNS still settling), so the install is retried within a bound; after that the instance
# asks for a replacement (give_up powers off when the CLI is what is missing).

ensure_aws_cli() {
  if command -v aws >/dev/null 2>&1; then
    log "AWS CLI: $(command -v aws)"
    return 0
  fi
  command -v snap >/dev/null 2>&1 ||
    die "the image has neither the AWS CLI nor snap to install it; use an image with aws on PATH (or Ubuntu)"
  log "the AWS CLI is not installed: installing the aws-cli snap"
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "snap install aws-cli" install_aws_cli_snap ||
    give_up "could not install the aws-cli snap (is the snap store reachable through the NAT gateway?)"
  PATH="$PATH:$ROOT/snap/bin"
  hash -r
  command -v aws >/dev/null 2>&1 || give_up "the aws-cli snap is installed, but aws is not on PATH"
  log "installed the aws-cli snap: $(command -v aws)"
}

install_aws_cli_snap() {
  snap wait system seed.loaded && snap install aws-cli --classic
}
