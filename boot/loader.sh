#!/bin/bash
# The first thing an instance runs (cloud-init's runcmd, once per instance): fetches the boot
# scripts and starts them. The user data carries only this loader, lib.sh, steps/aws-cli.sh and
# /etc/kopsform/cluster.env (EC2 caps user data at 16 KiB); every other boot script comes in one
# archive from the cluster's bucket, named by its sha256 and checked against it
# (BOOT_BUNDLE_KEY, BOOT_BUNDLE_SHA256 in cluster.env), so a script change is a new launch template
# version in the plan and an instance runs exactly the scripts its template names.
#  1. instance facts (IMDSv2) and the AWS CLI (steps/aws-cli.sh);
#  2. the bucket's name from the run-time store (config/bucket, written by Terraform);
#  3. the archive, checked by sha256, unpacked into /opt/kopsform; its systemd units installed;
#  4. kopsform-boot.service enabled (it runs at every boot) and started.
# Failures a new instance could fix (no network yet, IAM not yet visible) end in a replacement.
set -euo pipefail
readonly HERE="${BASH_SOURCE[0]%/*}"
LOG_TAG=kopsform-loader
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=steps/aws-cli.sh
source "$HERE/steps/aws-cli.sh"

readonly SYSTEMD_DIR="$ROOT/etc/systemd/system"

# fetch_bundle BUCKET: downloads the archive and checks its digest.
fetch_bundle() {
  local url="s3://$1/$BOOT_BUNDLE_KEY" actual
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "download of $url" \
    aws s3 cp --only-show-errors "$url" "$WORK_DIR/boot.tar.gz" ||
    give_up "could not download the boot scripts from $url"
  actual="$(sha256sum "$WORK_DIR/boot.tar.gz" | cut -d' ' -f1)"
  [[ $actual == "$BOOT_BUNDLE_SHA256" ]] ||
    die "$url has sha256 $actual, not $BOOT_BUNDLE_SHA256 as this instance's launch template says; refusing it"
}

# install_bundle: unpacks the archive into /opt/kopsform and installs its systemd units.
install_bundle() {
  local unit
  rm -rf "${WORK_DIR:?}/boot"
  mkdir -p "$WORK_DIR/boot"
  tar -xzf "$WORK_DIR/boot.tar.gz" -C "$WORK_DIR/boot" --no-same-owner || die "could not unpack the boot scripts"
  [[ -f $WORK_DIR/boot/$BOOT_SCRIPT ]] || die "the boot scripts hold no $BOOT_SCRIPT"
  mkdir -p "$KOPSFORM_HOME"
  cp -R "$WORK_DIR/boot/." "$KOPSFORM_HOME/"
  for unit in "$KOPSFORM_HOME"/systemd/*; do
    install -m 0644 "$unit" "$SYSTEMD_DIR/${unit##*/}"
  done
  log "installed the boot scripts ($BOOT_BUNDLE_SHA256) in $KOPSFORM_HOME"
}

main() {
  local bucket parameter
  load_cluster_env CLUSTER_NAME ROLE BOOT_SCRIPT BOOT_BUNDLE_KEY BOOT_BUNDLE_SHA256 INSTALL_ATTEMPTS INSTALL_DELAY_SECONDS
  parameter="/kopsform/$CLUSTER_NAME/config/bucket"
  [[ $BOOT_SCRIPT == master.sh || $BOOT_SCRIPT == node.sh ]] || die "BOOT_SCRIPT is ${BOOT_SCRIPT@Q}"
  log "$ROLE of $CLUSTER_NAME: loading the boot scripts"
  load_instance_facts
  ensure_aws_cli
  retry "$INSTALL_ATTEMPTS" "$INSTALL_DELAY_SECONDS" "reading $parameter" \
    aws ssm get-parameter --name "$parameter" --query Parameter.Value --output text >"$WORK_DIR/bucket" ||
    give_up "could not read $parameter (the instance role may not be visible yet)"
  bucket="$(<"$WORK_DIR/bucket")"
  [[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "config/bucket holds ${bucket@Q}, not a bucket name"
  fetch_bundle "$bucket"
  install_bundle
  systemctl daemon-reload
  systemctl enable kopsform-boot.service
  systemctl start --no-block kopsform-boot.service
  log "started kopsform-boot.service ($KOPSFORM_HOME/$BOOT_SCRIPT)"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
