/**
 * IAM is exactly what the boot scripts call: the AWS operations each role's scripts can run are
 * derived from the scripts themselves (every `aws SERVICE OPERATION` in the files the role runs,
 * following `source` lines), mapped to IAM actions (with the KMS calls SSM and S3 make for them),
 * and compared with the actions the synthesized policy allows, both ways: a call without a right
 * fails here, and so does a right no script uses (such as ec2:DetachVolume, which nothing calls and
 * whose tag condition would also match the masters' root volumes). The add-ons' statements (the
 * controllers that run with the masters' role, the VPC CNI with the nodes') are judged apart, in
 * iam-addons.test.ts: here they are left out by their Sids, and must be exactly modules/iam-addons.ts's.
 */
import { BOOT_FILES } from "../modules/boot-bundle";
import { masterAddonStatements, nodeAddonStatements } from "../modules/iam-addons";
import { Networking } from "../spec/networking";
import { SEED_1, TerraformJson, resources, synthJson } from "./helpers/cluster";
import { parsePolicy } from "./helpers/json-expression";

const ENTRY_POINTS = {
  masters: ["loader.sh", "master.sh", "timers/hosts.sh", "timers/etcd-backup.sh", "timers/maintenance.sh", "timers/join-token.sh", "bin/kopsform-etcd-restore"],
  nodes: ["loader.sh", "node.sh"],
};

/** The files an entry point runs: itself and what it sources, transitively. */
function filesOf(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) {
    return seen;
  }
  seen.add(entry);
  const file = BOOT_FILES.find((f) => f.path === entry);
  if (!file) {
    throw new Error(`boot/${entry} does not exist`);
  }
  for (const m of file.content.matchAll(/^\s*source "\$HERE\/([^"]+)"/gm)) {
    filesOf(m[1].replace(/^\.\.\//, ""), seen);
  }
  return seen;
}

/** The IAM actions a line calling the AWS CLI needs (including KMS through SSM and S3). */
function actionsOf(line: string, where: string): string[] {
  const m = /\baws (ec2|autoscaling|ssm|s3api|s3) ([a-z0-9-]+)/.exec(line);
  if (!m) {
    return [];
  }
  const [, service, operation] = m;
  switch (`${service} ${operation}`) {
    case "ec2 describe-volumes":
      return ["ec2:DescribeVolumes"];
    case "ec2 describe-instances":
      return ["ec2:DescribeInstances"];
    case "ec2 attach-volume":
      return ["ec2:AttachVolume"];
    case "autoscaling set-instance-health":
      return ["autoscaling:SetInstanceHealth"];
    case "ssm get-parameter":
      // SecureStrings are decrypted with the cluster's key, through SSM.
      return line.includes("--with-decryption") ? ["ssm:GetParameter", "kms:Decrypt"] : ["ssm:GetParameter"];
    case "ssm put-parameter":
      // SecureStrings (the CAs) are encrypted with the cluster's key, through SSM.
      return ["ssm:PutParameter", "kms:Encrypt"];
    case "s3api list-objects-v2":
      return ["s3:ListBucket"];
    case "s3 cp": {
      const args = [...line.matchAll(/"([^"]+)"/g)].map((a) => a[1]);
      const [source, target] = args.slice(-2);
      if (target?.startsWith("$WORK_DIR")) {
        // Backups are encrypted with the cluster's key (the bucket's default); boot archives are not.
        return where === "loader.sh" ? ["s3:GetObject"] : ["s3:GetObject", "kms:Decrypt"];
      }
      if (source?.startsWith("$WORK_DIR")) {
        return ["s3:PutObject", "kms:GenerateDataKey"];
      }
      throw new Error(`${where}: cannot tell the direction of: ${line.trim()}`);
    }
    default:
      throw new Error(`${where}: no IAM mapping for aws ${service} ${operation}; add it here and to the policy`);
  }
}

function scriptActions(role: keyof typeof ENTRY_POINTS): string[] {
  const files = new Set<string>();
  for (const entry of ENTRY_POINTS[role]) {
    filesOf(entry).forEach((f) => files.add(f));
  }
  const actions = new Set<string>();
  for (const path of files) {
    const content = (BOOT_FILES.find((f) => f.path === path) as { content: string }).content;
    // Continuation lines belong to their command.
    for (const line of content.replace(/\\\n\s*/g, " ").split("\n")) {
      if (!line.trim().startsWith("#")) {
        actionsOf(line, path).forEach((a) => actions.add(a));
      }
    }
  }
  return [...actions].sort();
}

const ADDONS = { clusterName: SEED_1.name, region: "us-west-2", networking: SEED_1.networking as Networking };
/** The Sids of the add-ons' statements in each role's policy. */
const ADDON_SIDS = {
  masters: masterAddonStatements(ADDONS).map((s) => s.Sid),
  nodes: nodeAddonStatements(ADDONS).map((s) => s.Sid),
};

function roleStatements(json: TerraformJson, role: string) {
  const policy = Object.values(resources(json, "aws_iam_role_policy")).find((p) => String(p.role).includes(`aws_iam_role.${role}-`));
  return policy ? parsePolicy(String(policy.policy)).Statement : [];
}

/** The actions a role's policy allows for its scripts (the add-ons' statements left out). */
function policyActions(json: TerraformJson, role: keyof typeof ADDON_SIDS): string[] {
  const statements = roleStatements(json, role).filter((s) => !ADDON_SIDS[role].includes(s.Sid ?? ""));
  return [...new Set(statements.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action))].sort();
}

describe("IAM is what the boot scripts call", () => {
  const json = synthJson(SEED_1);

  it.each(["masters", "nodes"] as const)("the %s' policy allows exactly the operations their scripts run", (role) => {
    expect(policyActions(json, role)).toEqual(scriptActions(role));
  });

  it.each(["masters", "nodes"] as const)("the %s' other statements are exactly the add-ons'", (role) => {
    const expected = role === "masters" ? masterAddonStatements(ADDONS) : nodeAddonStatements(ADDONS);
    const others = roleStatements(json, role).filter((s) => ADDON_SIDS[role].includes(s.Sid ?? ""));
    // The policy reader gives every Resource as a list.
    expect(others).toEqual(expected.map((s) => JSON.parse(JSON.stringify({ ...s, Resource: [s.Resource].flat() }))));
  });

  it("derives something for each role (the extraction itself works)", () => {
    expect(scriptActions("masters")).toContain("ec2:AttachVolume");
    expect(scriptActions("masters")).toContain("s3:PutObject");
    expect(scriptActions("nodes")).toEqual(["autoscaling:SetInstanceHealth", "kms:Decrypt", "s3:GetObject", "ssm:GetParameter"]);
  });

  it("adds the grants EC2 needs on a customer key of the etcd volumes, and only then", () => {
    const key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const withKey = synthJson({ ...SEED_1, etcdKmsKeyId: key });
    const extra = policyActions(withKey, "masters").filter((a) => !policyActions(json, "masters").includes(a));
    expect(extra).toEqual(["kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]);
    const policy = Object.values(resources(withKey, "aws_iam_role_policy")).find((p) => String(p.role).includes("aws_iam_role.masters-"));
    const statements = parsePolicy(String(policy?.policy)).Statement;
    expect(statements.find((s) => s.Sid === "GrantEc2UseOfEtcdVolumeKey")).toEqual({
      Sid: "GrantEc2UseOfEtcdVolumeKey",
      Effect: "Allow",
      Action: ["kms:CreateGrant"],
      Resource: [key],
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    });
    expect(statements.find((s) => s.Sid === "UseEtcdVolumeKeyThroughEc2")?.Condition).toEqual({
      StringEquals: { "kms:ViaService": "ec2.us-west-2.amazonaws.com" },
    });
  });
});
