/**
 * Machine images for launch templates, from the spec's `image`:
 * - `ami-…` is used as is;
 * - `owner/name` is looked up by an `aws_ami` data source (exact name, most recent);
 * - no image: Canonical's Ubuntu 24.04 LTS, which EC2 reads from Canonical's public SSM parameter at
 *   launch (`resolve:ssm:` in `image_id`), so the default needs no lookup at plan time and plans offline.
 */
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { Construct } from "constructs";
import { isArmInstanceType } from "../spec/checks";
import { DEFAULT_IMAGE_SSM_PARAMETER } from "../spec/defaults";
import { ImageRef } from "../spec/types";

/** What a launch template needs of an image. */
export interface ResolvedImage {
  /** `image_id`: an AMI id, a data-source reference, or a `resolve:ssm:` parameter. */
  readonly imageId: string;
  /** The image's root device, so that the root-volume mapping resizes and encrypts the root disk. */
  readonly rootDeviceName: string;
}

/** Canonical's Ubuntu images boot from /dev/sda1. */
const UBUNTU_ROOT_DEVICE = "/dev/sda1";

/**
 * Resolves images for a stack, one data source per distinct image however many groups use it.
 * For `ami-…` a data source reads only the root device name: the AMI id itself is used as given, but
 * guessing its root device wrong would leave the real root disk at the image's size and settings.
 */
export class Images extends Construct {
  private readonly lookups = new Map<string, DataAwsAmi>();

  /** The image for an instance group of `instanceType` (which picks amd64 or arm64 for the default). */
  resolve(image: ImageRef, instanceType: string): ResolvedImage {
    switch (image.kind) {
      case "default": {
        const arch = isArmInstanceType(instanceType) ? "arm64" : "amd64";
        return {
          imageId: `resolve:ssm:${DEFAULT_IMAGE_SSM_PARAMETER.replace("%ARCH%", arch)}`,
          rootDeviceName: UBUNTU_ROOT_DEVICE,
        };
      }
      case "ami": {
        const ami = this.lookup(image.id, { imageId: image.id });
        return { imageId: image.id, rootDeviceName: ami.rootDeviceName };
      }
      case "lookup": {
        const ami = this.lookup(`image-${image.owner}-${image.name}`, { owner: image.owner, name: image.name });
        return { imageId: ami.id, rootDeviceName: ami.rootDeviceName };
      }
    }
  }

  /** One `aws_ami` data source per key; its Terraform name is the key with dots and slashes as dashes. */
  private lookup(key: string, by: { owner?: string; name?: string; imageId?: string }): DataAwsAmi {
    let ami = this.lookups.get(key);
    if (!ami) {
      ami = new DataAwsAmi(this, key.replace(/[^A-Za-z0-9_-]/g, "-"), {
        mostRecent: true,
        owners: by.owner ? [by.owner] : undefined,
        filter: [by.name ? { name: "name", values: [by.name] } : { name: "image-id", values: [by.imageId as string] }],
      });
      this.lookups.set(key, ami);
    }
    return ami;
  }
}
