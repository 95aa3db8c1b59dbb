# shellcheck shell=bash disable=SC2153 # CLUSTER_NAME, ETCD_MEMBER... come from cluster.env (load_cluster_env)
# Step: etcd's certificate authorities and this member's certificates.
#
# Three CAs (as kops has them): etcd-peers-ca-main and etcd-peers-ca-events sign the peer
# certificates of each etcd cluster, etcd-clients-ca signs the server certificate of the client
# ports and every client certificate. They are created once, by the first master that finds none,
# and kept together in one parameter of the run-time store (pki/etcd, SSM SecureString encrypted
# with the cluster's key; each CA a "# NAME" line, its certificate, its PKCS#8 key), created without
# overwrite: the loser of a race reads the winner's, and a race can never mix two masters' CAs. CA
# keys are read when a certificate is issued and never kept on disk.
#
# This member issues its own certificates at every boot and renews them (kopsform-maintenance.timer)
# when they expire within ETCD_CERT_RENEW_DAYS days or no longer name its address: a server
# certificate for the client ports (its names, its address, 127.0.0.1, localhost), a peer
# certificate per etcd cluster (its name and its address: etcd checks a peer's address against its
# certificate), and a client certificate for the scripts. etcd reads certificate files at every
# TLS handshake, so a renewal needs no restart.

readonly ETCD_PKI="$KOPSFORM_ETC/pki/etcd"
readonly ETCD_CAS=(etcd-clients-ca etcd-peers-ca-main etcd-peers-ca-events)

# new_key FILE: an ECDSA P-256 private key (PKCS#8), readable by root only.
new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>"$WORK_DIR/err") ||
    die "openssl could not make a key: $(one_line "$WORK_DIR/err")"
}

# new_ca NAME: a new CA (10 years) as a "# NAME" line, its certificate and its key, on stdout.
new_ca() {
  local name=$1
  new_key "$WORK_DIR/$name.new.key"
  openssl req -x509 -new -sha256 -key "$WORK_DIR/$name.new.key" -days 3650 -subj "/CN=$name" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$WORK_DIR/$name.new.crt" 2>"$WORK_DIR/err" || die "openssl could not make CA $name: $(one_line "$WORK_DIR/err")"
  printf '# %s\n' "$name"
  cat "$WORK_DIR/$name.new.crt" "$WORK_DIR/$name.new.key"
}

# split_ca BUNDLE NAME: writes CA NAME's certificate to $WORK_DIR/NAME.crt and its key to
# $WORK_DIR/NAME.key; fails unless both are there and the key is the certificate's.
split_ca() {
  local bundle=$1 name=$2
  (umask 077 &&
    awk -v n="# $name" '$0 == n {on = 1; next} /^# / {on = 0} on' "$bundle" >"$WORK_DIR/$name.pem" &&
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$WORK_DIR/$name.pem" >"$WORK_DIR/$name.crt" &&
    sed -n '/-----BEGIN PRIVATE KEY-----/,/-----END PRIVATE KEY-----/p' "$WORK_DIR/$name.pem" >"$WORK_DIR/$name.key")
  [[ -s $WORK_DIR/$name.crt && -s $WORK_DIR/$name.key ]] || return 1
  [[ "$(openssl x509 -in "$WORK_DIR/$name.crt" -noout -pubkey 2>/dev/null)" == "$(openssl pkey -in "$WORK_DIR/$name.key" -pubout 2>/dev/null)" ]]
}

# ensure_cas PARAMETER DIR CA...: the CAs kept together in the store's PARAMETER, created (all at
# once, create-once) when absent; writes DIR/CA.crt for each and leaves the keys in $WORK_DIR/CA.key
# for this run only.
ensure_cas() {
  local parameter=$1 dir=$2 ca
  shift 2
  local bundle="$WORK_DIR/${parameter##*/}.bundle"
  if ! ssm_get "$parameter" "$bundle"; then
    (umask 077 && for ca in "$@"; do new_ca "$ca"; done >"$bundle.created")
    if ssm_put_once "$parameter" SecureString "$bundle.created"; then
      log "created the certificate authorities $* in $parameter"
      mv "$bundle.created" "$bundle"
    else
      log "another master created $* first; using them"
      ssm_get "$parameter" "$bundle" || die "$parameter vanished right after it was created"
    fi
  fi
  mkdir -p "$dir"
  for ca in "$@"; do
    split_ca "$bundle" "$ca" || die "$parameter holds no certificate of $ca followed by its own private key (PKCS#8 PEM)"
    install -m 0644 "$WORK_DIR/$ca.crt" "$dir/$ca.crt.new"
    mv -f "$dir/$ca.crt.new" "$dir/$ca.crt"
  done
}

# ensure_etcd_cas: etcd's CAs (pki/etcd), in $ETCD_PKI.
ensure_etcd_cas() {
  ensure_cas "$(store_path pki/etcd)" "$ETCD_PKI" "${ETCD_CAS[@]}"
}

# cert_is_current CRT CA_CRT IP: the certificate exists, is signed by the CA, names IP (when given)
# and is valid for more than ETCD_CERT_RENEW_DAYS days.
cert_is_current() {
  local crt=$1 ca_crt=$2 ip=$3
  [[ -s $crt && -s ${crt%.crt}.key ]] || return 1
  openssl verify -CAfile "$ca_crt" "$crt" >/dev/null 2>&1 || return 1
  openssl x509 -in "$crt" -noout -checkend "$((ETCD_CERT_RENEW_DAYS * 86400))" >/dev/null 2>&1 || return 1
  [[ -z $ip ]] || openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | grep -qw "IP Address:$ip"
}

# issue_cert CA_CRT OUT CN USAGE SANS [ORG]: signs a new certificate (ETCD_CERT_DAYS days) and key
# into OUT.crt and OUT.key with the CA whose key ensure_cas left in $WORK_DIR. USAGE is serverAuth,
# clientAuth or both; SANS is "DNS:a,IP:b" or empty; ORG, the subject's organization, if any.
issue_cert() {
  local ca_crt=$1 out=$2 cn=$3 usage=$4 sans=$5 org=${6:-} ca_key subject="/CN=$3"
  ca_key="$WORK_DIR/$(basename "$ca_crt" .crt).key"
  [[ -s $ca_key ]] || die "the key of $ca_crt was not read from the store before issuing $out"
  [[ -z $org ]] || subject="/O=$org/CN=$cn"
  new_key "$WORK_DIR/cert.key"
  {
    printf 'basicConstraints=critical,CA:FALSE\n'
    printf 'keyUsage=critical,digitalSignature\n'
    printf 'extendedKeyUsage=%s\n' "$usage"
    [[ -z $sans ]] || printf 'subjectAltName=%s\n' "$sans"
  } >"$WORK_DIR/cert.ext"
  if ! openssl req -new -key "$WORK_DIR/cert.key" -subj "$subject" -out "$WORK_DIR/cert.csr" 2>"$WORK_DIR/err" ||
    ! openssl x509 -req -sha256 -in "$WORK_DIR/cert.csr" -CA "$ca_crt" -CAkey "$ca_key" \
      -set_serial "0x$(openssl rand -hex 16)" -days "$ETCD_CERT_DAYS" -extfile "$WORK_DIR/cert.ext" \
      -out "$WORK_DIR/cert.crt" 2>"$WORK_DIR/err"; then
    die "openssl could not sign $out: $(one_line "$WORK_DIR/err")"
  fi
  install -m 0600 "$WORK_DIR/cert.key" "$out.key.new"
  install -m 0644 "$WORK_DIR/cert.crt" "$out.crt.new"
  mv -f "$out.key.new" "$out.key"
  mv -f "$out.crt.new" "$out.crt"
  log "issued $out.crt for $cn (${sans:-no names}), valid $ETCD_CERT_DAYS days"
}

# member_names: the names this member answers to (main and events), comma-separated DNS SANs.
member_sans() {
  printf 'DNS:etcd-%s.internal.%s,DNS:etcd-events-%s.internal.%s,DNS:localhost,IP:127.0.0.1,IP:%s' \
    "$ETCD_MEMBER" "$CLUSTER_NAME" "$ETCD_MEMBER" "$CLUSTER_NAME" "$PRIVATE_IP"
}

# ensure_etcd_pki: the step. Fetches (or creates) the CAs, then issues what is missing or due.
ensure_etcd_pki() {
  local etcd
  ensure_etcd_cas
  cert_is_current "$ETCD_PKI/server.crt" "$ETCD_PKI/etcd-clients-ca.crt" "$PRIVATE_IP" ||
    issue_cert "$ETCD_PKI/etcd-clients-ca.crt" "$ETCD_PKI/server" "etcd-$ETCD_MEMBER" serverAuth,clientAuth "$(member_sans)"
  for etcd in main events; do
    local host="etcd-$ETCD_MEMBER.internal.$CLUSTER_NAME"
    [[ $etcd == events ]] && host="etcd-events-$ETCD_MEMBER.internal.$CLUSTER_NAME"
    cert_is_current "$ETCD_PKI/peer-$etcd.crt" "$ETCD_PKI/etcd-peers-ca-$etcd.crt" "$PRIVATE_IP" ||
      issue_cert "$ETCD_PKI/etcd-peers-ca-$etcd.crt" "$ETCD_PKI/peer-$etcd" "$host" serverAuth,clientAuth "DNS:$host,IP:$PRIVATE_IP"
  done
  cert_is_current "$ETCD_PKI/client.crt" "$ETCD_PKI/etcd-clients-ca.crt" "" ||
    issue_cert "$ETCD_PKI/etcd-clients-ca.crt" "$ETCD_PKI/client" "kopsform-etcd-client" clientAuth ""
}
