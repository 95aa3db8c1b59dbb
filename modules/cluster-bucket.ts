/**
 * The cluster's bucket: the boot scripts instances fetch at first boot (`NAME/boot/`,
 * modules/boot-bundle.ts) and etcd's backups (`NAME/backups/etcd/{main,events}/TIMESTAMP/`, written
 * by each etcd cluster's leader), unless the spec names another bucket for the backups. Hardened as
 * the scanner rules ask of a state or backup bucket (KSEC-S3-001..003): no public access and no
 * ACLs, encrypted with the cluster's key (S3 bucket keys on), versioned, TLS only. Old backups
 * expire after `backupRetentionDays`; replaced boot archives after 30 days.
 *
 * The name is generated (`kopsform-SLUG-…`, unique in S3's global namespace) and reaches instances
 * through the run-time store (config/bucket), never through user data.
 */
import { Fn } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { clusterSlug } from "./names";

/** Days a replaced boot archive (a noncurrent version under `NAME/boot/`) is kept. */
export const BOOT_ARCHIVE_RETENTION_DAYS = 30;

/** The longest `bucket_prefix` AWS allows (Terraform appends a unique suffix). */
const BUCKET_PREFIX_MAX = 37;

/** Props of {@link ClusterBucket}. */
export interface ClusterBucketProps {
  readonly clusterName: string;
  /** The cluster's KMS key (modules/cluster-key.ts). */
  readonly kmsKeyArn: string;
  /** Days etcd backups are kept in this bucket. */
  readonly backupRetentionDays: number;
}

/** The bucket and its settings. */
export class ClusterBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: ClusterBucketProps) {
    super(scope, id);
    const slug = clusterSlug(props.clusterName);
    const name = `kopsform-${slug}`;
    this.bucket = new S3Bucket(this, name, {
      bucketPrefix: `${`kopsform-${slug}`.slice(0, BUCKET_PREFIX_MAX - 1).replace(/[-.]+$/, "")}-`,
      tags: { Name: `kopsform.${props.clusterName}` },
    });
    const bucket = this.bucket.id;
    new S3BucketOwnershipControls(this, `${name}-ownership`, {
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketPublicAccessBlock(this, `${name}-public-access`, {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfigurationA(this, `${name}-encryption`, {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn }, bucketKeyEnabled: true }],
    });
    new S3BucketVersioningA(this, `${name}-versioning`, {
      bucket,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketLifecycleConfiguration(this, `${name}-lifecycle`, {
      bucket,
      rule: [
        {
          id: "etcd-backups",
          status: "Enabled",
          filter: [{ prefix: `${props.clusterName}/backups/` }],
          expiration: [{ days: props.backupRetentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
        },
        {
          id: "replaced-boot-archives",
          status: "Enabled",
          filter: [{ prefix: `${props.clusterName}/boot/` }],
          noncurrentVersionExpiration: [{ noncurrentDays: BOOT_ARCHIVE_RETENTION_DAYS }],
        },
        {
          id: "incomplete-uploads",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    // Only TLS: a request over plain HTTP is refused whoever makes it (CKV_AWS_379).
    new S3BucketPolicy(this, `${name}-policy`, {
      bucket,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
  }
}
