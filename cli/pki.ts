/**
 * Short-lived admin client certificates signed by the cluster's Kubernetes CA, as kops's
 * `export kubecfg --admin` issues them: ECDSA P-256 keys made here, X.509 through @peculiar/x509 on
 * Node's WebCrypto. The CA comes from the run-time store (docs/runtime.md: one PEM certificate
 * followed by its PKCS#8 PEM private key).
 */
import "reflect-metadata"; // @peculiar/x509's dependency injection needs the Reflect metadata API
import { randomBytes, webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";
import { UserError } from "../spec/problems";

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;

/** ECDSA on P-256 with SHA-256: the algorithm of the cluster's CAs (docs/runtime.md). */
const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/**
 * How far a certificate's validity starts before now: a laptop's clock may run ahead of the masters'
 * (kubeadm and kops backdate certificates for the same reason).
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The cluster CA: its certificate (PEM and parsed) and its private key (usable for signing only). */
export interface ClusterCa {
  readonly certificatePem: string;
  readonly certificate: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

/** A client certificate and its key, both PEM. */
export interface ClientCredential {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Reads a CA bundle: one PEM certificate, then its PKCS#8 private key. Refuses anything else (another
 * key type, a certificate that is not a CA, a key that does not match), naming `source`.
 */
export async function parseCaBundle(text: string, source: string): Promise<ClusterCa> {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g)];
  const cert = blocks.filter((b) => b[1] === "CERTIFICATE");
  const key = blocks.filter((b) => b[1] === "PRIVATE KEY");
  const bad = (why: string) =>
    new UserError([`${source}: ${why}; it should hold one PEM certificate and its PKCS#8 EC P-256 private key (docs/runtime.md).`]);
  if (cert.length !== 1 || key.length !== 1) {
    throw bad(`holds ${cert.length} certificates and ${key.length} PKCS#8 private keys`);
  }
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(cert[0][0]);
  } catch {
    throw bad("its certificate does not parse");
  }
  const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) {
    throw bad(`its certificate (${certificate.subject}) is not a CA certificate`);
  }
  let privateKey: CryptoKey;
  let publicFromKey: ArrayBuffer;
  try {
    const der = x509.PemConverter.decodeFirst(key[0][0]);
    const extractable = await webcrypto.subtle.importKey("pkcs8", der, EC_P256, true, ["sign"]);
    // The public half, to check that the key belongs to the certificate.
    const jwk = await webcrypto.subtle.exportKey("jwk", extractable);
    const pub = await webcrypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, EC_P256, true, ["verify"]);
    publicFromKey = await webcrypto.subtle.exportKey("spki", pub);
    privateKey = await webcrypto.subtle.importKey("pkcs8", der, EC_P256, false, ["sign"]);
  } catch {
    throw bad("its private key is not a PKCS#8 EC P-256 key");
  }
  if (!Buffer.from(publicFromKey).equals(Buffer.from(certificate.publicKey.rawData))) {
    throw bad("its private key does not belong to its certificate");
  }
  return { certificatePem: certificate.toString("pem"), certificate, privateKey };
}

/** What to put in a client certificate. */
export interface ClientCertificateRequest {
  /** The user name Kubernetes sees (`kubecfg-alice`). */
  readonly commonName: string;
  /** Groups (`system:masters` for an admin, as kops's `--admin`). */
  readonly organizations: readonly string[];
  /** How long the certificate is valid from now, in ms. */
  readonly ttlMs: number;
  /** @default the current time */
  readonly now?: Date;
}

/**
 * Issues a client certificate signed by `ca`, for a key pair made here: the private key exists only in
 * the result. Refuses a lifetime that would outlast the CA.
 */
export async function issueClientCertificate(ca: ClusterCa, request: ClientCertificateRequest): Promise<ClientCredential> {
  const now = request.now ?? new Date();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + request.ttlMs);
  if (notAfter > ca.certificate.notAfter) {
    throw new UserError([
      `--ttl: a certificate valid until ${notAfter.toISOString()} would outlast the cluster CA (valid until ` +
        `${ca.certificate.notAfter.toISOString()}); choose a shorter --ttl.`,
    ]);
  }
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  // A positive serial of 128 random bits (RFC 5280: at most 20 octets, unique per CA).
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString("hex"),
    // Structured, so that a user name with commas or equals signs stays one common name.
    subject: [...request.organizations.map((o) => ({ O: [o] })), { CN: [request.commonName] }],
    issuer: ca.certificate.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certificatePem: certificate.toString("pem"),
    privateKeyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    notBefore,
    notAfter,
  };
}
