/**
 * The LaunchTemplateChecks aspect: the last line of defence that refuses, at synthesis, a launch template
 * without IMDSv2 (hop limit 1) or with an unencrypted disk, whichever construct made it.
 *
 * Which synthesis fails: the aspect reports problems as error annotations. cdktf turns error annotations
 * into a failure only in the stack synthesizer, i.e. `app.synth()` (what `kopsform synth`, `npm run synth`
 * and `cdktf synth` run) or `Testing.fullSynth(stack)`. `Testing.synth(stack, true)` runs aspects and
 * `node.addValidation` checks but ignores annotations, so it would not fail here (and neither would the
 * `synthJson` helper, which uses it). These tests therefore synthesize with `app.synth()`.
 */
import * as fs from "fs";
import { AnnotationMetadataEntryType, App, Aspects, TerraformStack, Testing } from "cdktf";
import { LaunchTemplate, LaunchTemplateConfig } from "@cdktf/provider-aws/lib/launch-template";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LaunchTemplateChecks } from "../modules/launch-template-checks";
import { ClusterStack } from "../stacks/cluster-stack";
import { SEED_1, tempDir, validSpec } from "./helpers/cluster";

const COMPLIANT: LaunchTemplateConfig = {
  name: "compliant",
  imageId: "ami-0123456789abcdef0",
  instanceType: "t3.micro",
  metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
  blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 20, volumeType: "gp3", encrypted: "true" } }],
};

const IMDSV2 = /set metadataOptions\.httpTokens "required"/;
const HOP_LIMIT = /set metadataOptions\.httpPutResponseHopLimit 1/;
const UNENCRYPTED = /has an unencrypted disk \(\/dev\/sd[a-z]1?\): set ebs\.encrypted "true"/;
const NO_ROOT_MAPPING = /map the root device with ebs\.encrypted true/;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A test app writing into a temporary directory removed after the tests. */
function newApp(): App {
  const outdir = tempDir("lt-checks");
  dirs.push(outdir);
  return Testing.app({ outdir, stackTraces: false });
}

/** A stack with the aspect and one launch template named `id`. */
function stackWith(id: string, config: LaunchTemplateConfig): App {
  const app = newApp();
  const stack = new TerraformStack(app, "checks");
  new AwsProvider(stack, "aws", { region: "us-west-2" });
  new LaunchTemplate(stack, id, config);
  Aspects.of(stack).add(new LaunchTemplateChecks());
  return app;
}

/** The message synthesis fails with, or undefined when it succeeds. */
function synthesisError(app: App): string | undefined {
  try {
    app.synth();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const { metadataOptions: _m, ...withoutMetadata } = COMPLIANT;
const { blockDeviceMappings: _b, ...withoutDevices } = COMPLIANT;

describe.each([
  // [what, config, messages expected, messages not expected]
  ["lacks metadata_options", withoutMetadata, [IMDSV2, HOP_LIMIT], [UNENCRYPTED, NO_ROOT_MAPPING]],
  ["has http_tokens optional", { ...COMPLIANT, metadataOptions: { httpEndpoint: "enabled", httpTokens: "optional", httpPutResponseHopLimit: 1 } }, [IMDSV2], [HOP_LIMIT]],
  ["has a hop limit of 2", { ...COMPLIANT, metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 2 } }, [HOP_LIMIT], [IMDSV2]],
  ["has metadata_options without a hop limit", { ...COMPLIANT, metadataOptions: { httpEndpoint: "enabled", httpTokens: "required" } }, [HOP_LIMIT], [IMDSV2]],
  ["has an unencrypted block device", { ...COMPLIANT, blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 20, encrypted: "false" } }] }, [UNENCRYPTED], [IMDSV2, HOP_LIMIT]],
  ["has a block device that does not say encrypted", { ...COMPLIANT, blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 20 } }] }, [UNENCRYPTED], [NO_ROOT_MAPPING]],
  [
    "has an encrypted root and an unencrypted data disk",
    {
      ...COMPLIANT,
      blockDeviceMappings: [
        { deviceName: "/dev/sda1", ebs: { volumeSize: 20, encrypted: "true" } },
        { deviceName: "/dev/sdf", ebs: { volumeSize: 100, encrypted: "false" } },
      ],
    },
    [/has an unencrypted disk \(\/dev\/sdf\)/],
    [/unencrypted disk \(\/dev\/sda1\)/],
  ],
  ["has no block device mappings", withoutDevices, [NO_ROOT_MAPPING], [IMDSV2, HOP_LIMIT]],
] as [string, LaunchTemplateConfig, RegExp[], RegExp[]][])(
  "a launch template that %s",
  (_what, config, expected, unexpected) => {
    it("fails synthesis with a message naming the template and what to set", () => {
      const message = synthesisError(stackWith("rogue-template", config));
      expect(message).toBeDefined();
      for (const pattern of expected) {
        expect(message).toMatch(new RegExp(`launch template rogue-template [^\\n]*${pattern.source}`));
      }
      for (const pattern of unexpected) {
        expect(message).not.toMatch(pattern);
      }
    });
  },
);

describe("a compliant launch template", () => {
  it("synthesizes", () => {
    expect(synthesisError(stackWith("good-template", COMPLIANT))).toBeUndefined();
  });
});

describe("in a kopsform cluster stack", () => {
  /** Error annotations on any construct of the stack (after synthesis ran the aspects). */
  const errorAnnotations = (stack: TerraformStack) =>
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === AnnotationMetadataEntryType.ERROR).map((m) => `${c.node.path}: ${String(m.data)}`));

  it.each([
    // [what, spec, launch templates: three masters, the nodes, and the bastion if any]
    ["seed example 1", SEED_1, 4],
    ["a public cluster", { ...SEED_1, topology: "public" }, 4],
    ["a private cluster with a bastion", { ...SEED_1, bastion: true, sshAccess: ["203.0.113.0/24"] }, 5],
  ] as [string, Record<string, unknown>, number][])("every launch template of %s passes the checks", (_what, fields, count) => {
    const app = newApp();
    const stack = new ClusterStack(app, { spec: validSpec(fields).spec });
    expect(synthesisError(app)).toBeUndefined();
    expect(errorAnnotations(stack)).toEqual([]);
    const templates = stack.node.findAll().filter((c) => c instanceof LaunchTemplate);
    expect(templates).toHaveLength(count);
  });

  it("refuses a non-compliant template that another construct adds to the stack (the aspect is wired in)", () => {
    const app = newApp();
    const stack = new ClusterStack(app, { spec: validSpec(SEED_1).spec });
    new LaunchTemplate(stack, "rogue", withoutMetadata);
    const message = synthesisError(app);
    expect(message).toMatch(new RegExp(`launch template rogue [^\\n]*${IMDSV2.source}`));
    expect(message).not.toMatch(/launch template (master-|nodes)/);
  });
});
