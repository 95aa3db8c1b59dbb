/**
 * A fake AWS for the cluster simulation, served over HTTP to the real AWS CLI (and to curl, for the
 * instance metadata service). It keeps state as AWS does, for the calls the boot scripts make:
 *
 * - IMDS (IMDSv2 only: a PUT for a token, then GETs with it), answering for the instance whose
 *   address the request comes from, with role credentials that identify that instance later;
 * - EC2: DescribeVolumes, DescribeInstances (filters on tags, tag keys, zone, state; ids),
 *   AttachVolume (VolumeInUse when held; the device appears in the instance's /dev a moment later,
 *   as udev would make it); terminating an instance detaches its volumes after a delay;
 * - Auto Scaling: SetInstanceHealth (recorded);
 * - SSM: GetParameter (with decryption), PutParameter (create-only without Overwrite:
 *   ParameterAlreadyExists, as AWS), DeleteParameter;
 * - S3: PutObject, GetObject, HeadObject, ListObjectsV2 (prefix, delimiter), path-style;
 * - plain files under /downloads/ (the etcd release archive), like a release server.
 *
 * Every call is authorized against the IAM policies of the caller's role (the ones kopsform
 * synthesized, references resolved), with the request context AWS would give (resource tags,
 * ssm:Overwrite, s3:prefix, and the KMS calls SSM and S3 make on the caller's behalf, with
 * kms:ViaService): a call the policy does not allow fails with AccessDenied, as on AWS. Signatures are
 * not checked; the access key names the caller.
 */
import { randomBytes, randomUUID } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { AddressInfo } from "net";

/** An IAM statement, as parsed from the synthesized policies. */
export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** A fake instance. */
export interface FakeInstance {
  readonly id: string;
  readonly ip: string;
  readonly zone: string;
  /** The IAM role's policies (by role name). */
  readonly role: string;
  readonly tags: Record<string, string>;
  /** The instance's root, where its block devices appear. */
  readonly root: string;
  state: "running" | "terminated";
  health?: string;
  /** "nvme" (Nitro: /dev/disk/by-id links), "xvd" (the requested name), or "none" (never appears). */
  readonly deviceStyle: "nvme" | "xvd" | "none";
}

/** A fake EBS volume; its data lives in `dir` (meta/ for the filesystem's identity, fs/ for files). */
export interface FakeVolume {
  readonly id: string;
  readonly zone: string;
  readonly tags: Record<string, string>;
  readonly dir: string;
  state: "available" | "in-use" | "deleted";
  attachment?: { instanceId: string; device: string; state: "attaching" | "attached" | "detaching" };
  /** The next N AttachVolume calls fail with VolumeInUse, as when a detach is still settling. */
  attachFailures?: number;
}

/** A fake SSM parameter. */
export interface FakeParameter {
  readonly name: string;
  readonly type: string;
  readonly value: string;
  readonly keyId?: string;
  readonly version: number;
}

/** One call, as recorded. */
export interface FakeCall {
  readonly caller: string;
  readonly action: string;
  readonly detail: string;
  readonly denied: boolean;
  /** "ok", or the error code the call ended with (set once the call has ended). */
  outcome?: string;
}

/** Options of {@link FakeAws}. */
export interface FakeAwsOptions {
  readonly host: string;
  readonly region: string;
  readonly account: string;
  /** IAM policies by role name. */
  readonly policies: Record<string, readonly IamStatement[]>;
  /** KMS aliases -> key ARNs. */
  readonly keyAliases: Record<string, string>;
  /** Buckets and the KMS key ARN each encrypts with by default (undefined: SSE-S3). */
  readonly buckets: Record<string, string | undefined>;
  /** Where /downloads/ is served from. */
  readonly downloads: string;
  /** Milliseconds a terminated instance holds its volumes. @default 1500 */
  readonly detachDelayMs?: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export class FakeAws {
  readonly instances = new Map<string, FakeInstance>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly parameters = new Map<string, FakeParameter>();
  /** Objects by `bucket/key`, with the KMS key each was encrypted with (none: SSE-S3). */
  readonly objects = new Map<string, { body: Buffer; kmsKey?: string }>();
  readonly calls: FakeCall[] = [];
  endpoint = "";
  private server?: http.Server;
  private readonly tokens = new Set<string>();
  private readonly accessKeys = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly options: FakeAwsOptions) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const before = this.calls.length;
        try {
          this.handle(req, Buffer.concat(chunks), res);
          this.calls.slice(before).forEach((c) => (c.outcome ??= "ok"));
        } catch (e) {
          const err = e instanceof ApiError ? e : new ApiError(500, "InternalError", String((e as Error).stack));
          this.calls.slice(before).forEach((c) => (c.outcome = c.denied ? err.code : (c.outcome ?? err.code)));
          this.sendError(req, res, err);
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, this.options.host, resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.endpoint = `http://${this.options.host}:${port}`;
  }

  async stop(): Promise<void> {
    this.timers.forEach((t) => clearTimeout(t));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  // ---- state changes made by the simulation (as AWS itself or Terraform would make them) ----

  addInstance(instance: Omit<FakeInstance, "state">): FakeInstance {
    const full: FakeInstance = { ...instance, state: "running" };
    this.instances.set(instance.id, full);
    return full;
  }

  addVolume(volume: Omit<FakeVolume, "state" | "attachment" | "attachFailures">): FakeVolume {
    fs.mkdirSync(path.join(volume.dir, "fs"), { recursive: true });
    fs.mkdirSync(path.join(volume.dir, "meta"), { recursive: true });
    const full: FakeVolume = { ...volume, state: "available" };
    this.volumes.set(volume.id, full);
    return full;
  }

  putParameterAsTerraform(name: string, value: string): void {
    this.parameters.set(name, { name, type: "String", value, version: 1 });
  }

  /** An object as Terraform's aws_s3_object puts it (server_side_encryption AES256: SSE-S3). */
  putObjectAsTerraform(bucket: string, key: string, body: Buffer): void {
    this.objects.set(`${bucket}/${key}`, { body });
  }

  /** Terminates an instance: its volumes detach after the detach delay, their devices vanish. */
  terminate(instanceId: string): void {
    const instance = this.instances.get(instanceId);
    if (!instance) {
      throw new Error(`no instance ${instanceId}`);
    }
    instance.state = "terminated";
    for (const volume of this.volumes.values()) {
      if (volume.attachment?.instanceId === instanceId) {
        volume.attachment.state = "detaching";
        this.later(this.options.detachDelayMs ?? 1500, () => {
          this.removeDevice(instance, volume);
          volume.attachment = undefined;
          volume.state = "available";
        });
      }
    }
  }

  /** Attaches a volume to an instance at once (state as it was before a test begins). */
  attachNow(volumeId: string, instanceId: string, device: string): void {
    const volume = this.volumes.get(volumeId) as FakeVolume;
    volume.state = "in-use";
    volume.attachment = { instanceId, device, state: "attached" };
    const instance = this.instances.get(instanceId);
    if (instance) {
      this.makeDevice(instance, volume, device);
    }
  }

  /** Detaches a volume (its holder let go). */
  detachNow(volumeId: string): void {
    const volume = this.volumes.get(volumeId) as FakeVolume;
    const instance = volume.attachment ? this.instances.get(volume.attachment.instanceId) : undefined;
    if (instance) {
      this.removeDevice(instance, volume);
    }
    volume.attachment = undefined;
    volume.state = "available";
  }

  /** Deletes a volume (as an operator replacing it by a blank one would). */
  deleteVolume(volumeId: string): void {
    const volume = this.volumes.get(volumeId);
    if (!volume || volume.attachment) {
      throw new Error(`${volumeId} is missing or attached`);
    }
    volume.state = "deleted";
    this.volumes.delete(volumeId);
  }

  /** The calls of a caller (an instance id), or of everyone. */
  callsOf(caller?: string): FakeCall[] {
    return this.calls.filter((c) => caller === undefined || c.caller === caller);
  }

  // ---- HTTP ----

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/latest/")) {
      return this.imds(req, url, res);
    }
    if (url.pathname.startsWith("/downloads/")) {
      return this.download(url, res);
    }
    const caller = this.caller(req);
    const target = req.headers["x-amz-target"];
    if (typeof target === "string" && target.startsWith("AmazonSSM.")) {
      const result = this.ssm(caller, target.slice("AmazonSSM.".length), JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>);
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(result));
      return;
    }
    const contentType = String(req.headers["content-type"] ?? "");
    if (req.method === "POST" && contentType.startsWith("application/x-www-form-urlencoded")) {
      const params = new URLSearchParams(body.toString("utf8"));
      const xml = params.get("Version") === "2011-01-01" ? this.autoscaling(caller, params) : this.ec2(caller, params);
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(xml);
      return;
    }
    return this.s3(caller, req, url, body, res);
  }

  private sendError(req: http.IncomingMessage, res: http.ServerResponse, err: ApiError): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (typeof req.headers["x-amz-target"] === "string") {
      res.writeHead(err.status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ __type: err.code, message: err.message }));
    } else if (String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      res.writeHead(err.status, { "content-type": "text/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
      );
    } else {
      res.writeHead(err.status, { "content-type": "application/xml" });
      res.end(req.method === "HEAD" ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${err.code}</Code><Message>${xmlEscape(err.message)}</Message></Error>`);
    }
  }

  /** The instance a request comes from, by its role credentials. */
  private caller(req: http.IncomingMessage): FakeInstance {
    const auth = String(req.headers.authorization ?? "");
    const key = /Credential=([A-Z0-9]+)\//.exec(auth)?.[1];
    const id = key ? this.accessKeys.get(key) : undefined;
    const instance = id ? this.instances.get(id) : undefined;
    if (!instance) {
      throw new ApiError(403, "InvalidClientTokenId", `unknown access key ${key ?? "(none)"}`);
    }
    if (instance.state !== "running") {
      throw new ApiError(403, "ExpiredToken", `the credentials of ${instance.id} are no longer valid`);
    }
    return instance;
  }

  // ---- IMDS ----

  private imds(req: http.IncomingMessage, url: URL, res: http.ServerResponse): void {
    const ip = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const instance = [...this.instances.values()].find((i) => i.ip === ip && i.state === "running");
    if (!instance) {
      res.writeHead(404).end();
      return;
    }
    if (url.pathname === "/latest/api/token") {
      if (req.method !== "PUT" || !req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) {
        res.writeHead(400).end();
        return;
      }
      const token = randomBytes(16).toString("hex");
      this.tokens.add(token);
      res.writeHead(200, { "content-type": "text/plain" }).end(token);
      return;
    }
    if (!this.tokens.has(String(req.headers["x-aws-ec2-metadata-token"] ?? ""))) {
      res.writeHead(401).end();
      return;
    }
    const meta = url.pathname.replace(/^\/latest\/meta-data\//, "");
    const values: Record<string, string> = {
      "instance-id": instance.id,
      "placement/availability-zone": instance.zone,
      "placement/region": this.options.region,
      "local-ipv4": instance.ip,
      "iam/security-credentials/": instance.role,
    };
    if (meta === `iam/security-credentials/${instance.role}`) {
      const accessKey = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
      this.accessKeys.set(accessKey, instance.id);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          Code: "Success",
          LastUpdated: new Date().toISOString(),
          Type: "AWS-HMAC",
          AccessKeyId: accessKey,
          SecretAccessKey: randomBytes(20).toString("hex"),
          Token: randomBytes(32).toString("base64"),
          Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
        }),
      );
      return;
    }
    if (values[meta] === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain" }).end(values[meta]);
  }

  private download(url: URL, res: http.ServerResponse): void {
    const file = path.join(this.options.downloads, path.normalize(decodeURIComponent(url.pathname.slice("/downloads/".length))));
    if (!file.startsWith(this.options.downloads) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(fs.readFileSync(file));
  }

  // ---- IAM ----

  private arn(service: string, resource: string): string {
    return service === "s3"
      ? `arn:aws:s3:::${resource}`
      : `arn:aws:${service}:${this.options.region}:${this.options.account}:${resource}`;
  }

  /** Throws AccessDenied unless the caller's role allows `action` on `resource` in `context`. */
  private authorize(caller: FakeInstance, action: string, resource: string, context: Record<string, string | undefined>, detail = ""): void {
    const statements = this.options.policies[caller.role] ?? [];
    const matching = statements.filter(
      (s) =>
        s.Action.some((a) => glob(a.toLowerCase(), action.toLowerCase())) &&
        s.Resource.some((r) => glob(r, resource)) &&
        conditionsHold(s.Condition, context),
    );
    const allowed = matching.some((s) => s.Effect === "Allow") && !matching.some((s) => s.Effect === "Deny");
    this.calls.push({ caller: caller.id, action, detail: detail || resource, denied: !allowed });
    if (!allowed) {
      throw new ApiError(
        403,
        action.startsWith("ec2:") ? "UnauthorizedOperation" : action.startsWith("s3:") ? "AccessDenied" : "AccessDeniedException",
        `User: ${caller.role}/${caller.id} is not authorized to perform: ${action} on resource: ${resource}`,
      );
    }
  }

  /** The KMS call a service makes on the caller's behalf (SSM SecureString, S3 SSE-KMS). */
  private authorizeKms(caller: FakeInstance, action: string, keyArn: string, service: "ssm" | "s3"): void {
    this.authorize(caller, action, keyArn, { "kms:ViaService": `${service}.${this.options.region}.amazonaws.com` }, `${action} via ${service}`);
  }

  private keyArn(keyId: string): string {
    const arn = this.options.keyAliases[keyId] ?? (keyId.startsWith("arn:") ? keyId : undefined);
    if (!arn) {
      throw new ApiError(400, "InvalidKeyId", `no KMS key ${keyId}`);
    }
    return arn;
  }

  // ---- EC2 and Auto Scaling ----

  private ec2(caller: FakeInstance, params: URLSearchParams): string {
    const action = params.get("Action") ?? "";
    const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
    const requestId = `<requestId>${randomUUID()}</requestId>`;
    switch (action) {
      case "DescribeVolumes": {
        this.authorize(caller, "ec2:DescribeVolumes", "*", {});
        const ids = indexed(params, "VolumeId");
        const filters = parseFilters(params);
        const volumes = [...this.volumes.values()].filter(
          (v) =>
            (ids.length === 0 || ids.includes(v.id)) &&
            filters.every((f) => matchesFilter(f, { tags: v.tags, "availability-zone": v.zone, "attachment.status": v.attachment?.state })),
        );
        if (ids.length > 0 && volumes.length < ids.length) {
          throw new ApiError(400, "InvalidVolume.NotFound", `The volume '${ids.find((id) => !this.volumes.has(id))}' does not exist.`);
        }
        return `<DescribeVolumesResponse ${ns}>${requestId}<volumeSet>${volumes.map((v) => this.volumeXml(v)).join("")}</volumeSet></DescribeVolumesResponse>`;
      }
      case "DescribeInstances": {
        this.authorize(caller, "ec2:DescribeInstances", "*", {});
        const ids = indexed(params, "InstanceId");
        const filters = parseFilters(params);
        const instances = [...this.instances.values()].filter(
          (i) => (ids.length === 0 || ids.includes(i.id)) && filters.every((f) => matchesFilter(f, { tags: i.tags, "instance-state-name": i.state })),
        );
        const reservations = instances
          .map(
            (i) =>
              `<item><reservationId>r-${i.id.slice(2)}</reservationId><ownerId>${this.options.account}</ownerId><instancesSet><item>` +
              `<instanceId>${i.id}</instanceId><privateIpAddress>${i.ip}</privateIpAddress>` +
              `<instanceState><code>${i.state === "running" ? 16 : 48}</code><name>${i.state}</name></instanceState>` +
              `<placement><availabilityZone>${i.zone}</availabilityZone></placement>${tagSet(i.tags)}<blockDeviceMapping>` +
              [...this.volumes.values()]
                .filter((v) => v.attachment?.instanceId === i.id)
                .map(
                  (v) =>
                    `<item><deviceName>${v.attachment?.device}</deviceName><ebs><volumeId>${v.id}</volumeId><status>${v.attachment?.state}</status><deleteOnTermination>false</deleteOnTermination></ebs></item>`,
                )
                .join("") +
              `</blockDeviceMapping></item></instancesSet></item>`,
          )
          .join("");
        return `<DescribeInstancesResponse ${ns}>${requestId}<reservationSet>${reservations}</reservationSet></DescribeInstancesResponse>`;
      }
      case "AttachVolume": {
        const volumeId = params.get("VolumeId") ?? "";
        const instanceId = params.get("InstanceId") ?? "";
        const device = params.get("Device") ?? "";
        const volume = this.volumes.get(volumeId);
        const instance = this.instances.get(instanceId);
        if (!volume || !instance) {
          throw new ApiError(400, volume ? "InvalidInstanceID.NotFound" : "InvalidVolume.NotFound", `${volumeId} or ${instanceId} does not exist`);
        }
        for (const [arn, tags] of [
          [this.arn("ec2", `volume/${volumeId}`), volume.tags],
          [this.arn("ec2", `instance/${instanceId}`), instance.tags],
        ] as const) {
          this.authorize(caller, "ec2:AttachVolume", arn, resourceTags("aws", tags), `${volumeId} to ${instanceId}`);
        }
        if (volume.attachFailures) {
          volume.attachFailures--;
          throw new ApiError(400, "VolumeInUse", `vol ${volumeId} is still detaching`);
        }
        if (volume.state !== "available" || volume.attachment) {
          throw new ApiError(400, "VolumeInUse", `vol ${volumeId} is already attached to an instance`);
        }
        if (volume.zone !== instance.zone) {
          throw new ApiError(400, "InvalidVolume.ZoneMismatch", `The volume is not in the same availability zone as instance ${instanceId}`);
        }
        volume.state = "in-use";
        volume.attachment = { instanceId, device, state: "attaching" };
        this.later(300, () => {
          if (volume.attachment?.instanceId === instanceId && instance.state === "running") {
            volume.attachment.state = "attached";
            this.makeDevice(instance, volume, device);
          }
        });
        return `<AttachVolumeResponse ${ns}>${requestId}<volumeId>${volumeId}</volumeId><instanceId>${instanceId}</instanceId><device>${device}</device><status>attaching</status></AttachVolumeResponse>`;
      }
      default:
        throw new ApiError(400, "InvalidAction", `the fake EC2 does not implement ${action}`);
    }
  }

  private volumeXml(v: FakeVolume): string {
    const attachment = v.attachment
      ? `<item><volumeId>${v.id}</volumeId><instanceId>${v.attachment.instanceId}</instanceId><device>${v.attachment.device}</device><status>${v.attachment.state}</status><deleteOnTermination>false</deleteOnTermination></item>`
      : "";
    return `<item><volumeId>${v.id}</volumeId><size>20</size><availabilityZone>${v.zone}</availabilityZone><status>${v.state}</status><attachmentSet>${attachment}</attachmentSet>${tagSet(v.tags)}<volumeType>gp3</volumeType><encrypted>true</encrypted></item>`;
  }

  /** The block device of an attached volume: a file naming the volume's storage, as udev makes the node. */
  private makeDevice(instance: FakeInstance, volume: FakeVolume, device: string): void {
    const content = `${volume.id} ${volume.dir}\n`;
    if (instance.deviceStyle === "none") {
      return;
    }
    if (instance.deviceStyle === "xvd") {
      fs.mkdirSync(path.join(instance.root, "dev"), { recursive: true });
      fs.writeFileSync(path.join(instance.root, device), content);
      return;
    }
    const nvme = path.join(instance.root, "dev", `nvme-${volume.id}n1`);
    fs.mkdirSync(path.join(instance.root, "dev", "disk", "by-id"), { recursive: true });
    fs.writeFileSync(nvme, content);
    const link = path.join(instance.root, "dev", "disk", "by-id", `nvme-Amazon_Elastic_Block_Store_${volume.id.replace("-", "")}`);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(nvme, link);
  }

  private removeDevice(instance: FakeInstance, volume: FakeVolume): void {
    fs.rmSync(path.join(instance.root, "dev", `nvme-${volume.id}n1`), { force: true });
    fs.rmSync(path.join(instance.root, "dev", "disk", "by-id", `nvme-Amazon_Elastic_Block_Store_${volume.id.replace("-", "")}`), { force: true });
    if (volume.attachment) {
      fs.rmSync(path.join(instance.root, volume.attachment.device), { force: true });
    }
  }

  private autoscaling(caller: FakeInstance, params: URLSearchParams): string {
    const action = params.get("Action");
    if (action !== "SetInstanceHealth") {
      throw new ApiError(400, "InvalidAction", `the fake Auto Scaling does not implement ${action}`);
    }
    const instance = this.instances.get(params.get("InstanceId") ?? "");
    if (!instance) {
      throw new ApiError(400, "ValidationError", "Instance Id not found");
    }
    // The group's tags are the instance's (propagated at launch).
    this.authorize(caller, "autoscaling:SetInstanceHealth", this.arn("autoscaling", `autoScalingGroup:*:autoScalingGroupName/${instance.tags["aws:autoscaling:groupName"] ?? instance.id}`), resourceTags("autoscaling", instance.tags));
    instance.health = `${params.get("HealthStatus")} respect-grace=${params.get("ShouldRespectGracePeriod")}`;
    return `<SetInstanceHealthResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SetInstanceHealthResponse>`;
  }

  // ---- SSM ----

  private ssm(caller: FakeInstance, action: string, input: Record<string, unknown>): unknown {
    const name = String(input.Name ?? "");
    const arn = this.arn("ssm", `parameter${name}`);
    switch (action) {
      case "GetParameter": {
        this.authorize(caller, "ssm:GetParameter", arn, {}, name);
        const parameter = this.parameters.get(name);
        if (!parameter) {
          throw new ApiError(400, "ParameterNotFound", `Parameter ${name} not found.`);
        }
        if (parameter.type === "SecureString" && input.WithDecryption) {
          this.authorizeKms(caller, "kms:Decrypt", this.keyArn(parameter.keyId ?? ""), "ssm");
        }
        return {
          Parameter: {
            Name: name,
            Type: parameter.type,
            Value: parameter.type === "SecureString" && !input.WithDecryption ? "AQICAH-encrypted" : parameter.value,
            Version: parameter.version,
            ARN: arn,
            DataType: "text",
          },
        };
      }
      case "PutParameter": {
        const overwrite = input.Overwrite === true;
        this.authorize(caller, "ssm:PutParameter", arn, { "ssm:Overwrite": String(overwrite) }, name);
        const type = String(input.Type ?? "String");
        const keyId = type === "SecureString" ? String(input.KeyId ?? "alias/aws/ssm") : undefined;
        if (keyId) {
          this.authorizeKms(caller, "kms:Encrypt", this.keyArn(keyId), "ssm");
        }
        const existing = this.parameters.get(name);
        if (existing && !overwrite) {
          throw new ApiError(400, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
        }
        const version = (existing?.version ?? 0) + 1;
        this.parameters.set(name, { name, type, value: String(input.Value ?? ""), keyId, version });
        return { Version: version, Tier: "Standard" };
      }
      case "DeleteParameter": {
        this.authorize(caller, "ssm:DeleteParameter", arn, {}, name);
        if (!this.parameters.delete(name)) {
          throw new ApiError(400, "ParameterNotFound", `Parameter ${name} not found.`);
        }
        return {};
      }
      default:
        throw new ApiError(400, "InvalidAction", `the fake SSM does not implement ${action}`);
    }
  }

  // ---- S3 (path style) ----

  private s3(caller: FakeInstance, req: http.IncomingMessage, url: URL, body: Buffer, res: http.ServerResponse): void {
    const [, bucket, ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    if (!(bucket in this.options.buckets)) {
      throw new ApiError(404, "NoSuchBucket", `The specified bucket ${bucket} does not exist`);
    }
    const kmsKey = this.options.buckets[bucket];
    if (!key && req.method === "GET") {
      const prefix = url.searchParams.get("prefix") ?? "";
      this.authorize(caller, "s3:ListBucket", this.arn("s3", bucket), { "s3:prefix": prefix }, `${bucket}?prefix=${prefix}`);
      const delimiter = url.searchParams.get("delimiter") ?? "";
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).map((k) => k.slice(bucket.length + 1)).sort();
      const contents: string[] = [];
      const prefixes = new Set<string>();
      for (const k of keys) {
        const cut = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
        if (cut >= 0) {
          prefixes.add(k.slice(0, cut + 1));
        } else {
          contents.push(`<Contents><Key>${xmlEscape(k)}</Key><Size>${this.objects.get(`${bucket}/${k}`)?.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
        }
      }
      res.writeHead(200, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${contents.length + prefixes.size}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents.join("")}${[...prefixes].map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`).join("")}</ListBucketResult>`,
      );
      return;
    }
    const arn = this.arn("s3", `${bucket}/${key}`);
    if (req.method === "PUT") {
      this.authorize(caller, "s3:PutObject", arn, {}, `${bucket}/${key}`);
      if (kmsKey) {
        this.authorizeKms(caller, "kms:GenerateDataKey", kmsKey, "s3");
      }
      this.objects.set(`${bucket}/${key}`, { body, kmsKey });
      res.writeHead(200, { etag: `"${randomBytes(16).toString("hex")}"` }).end();
      return;
    }
    if (req.method === "GET" || req.method === "HEAD") {
      this.authorize(caller, "s3:GetObject", arn, {}, `${bucket}/${key}`);
      const object = this.objects.get(`${bucket}/${key}`);
      if (!object) {
        throw new ApiError(404, "NoSuchKey", "The specified key does not exist.");
      }
      if (object.kmsKey) {
        this.authorizeKms(caller, "kms:Decrypt", object.kmsKey, "s3");
      }
      res.writeHead(200, {
        "content-type": "application/octet-stream",
        "content-length": object.body.length,
        etag: '"0"',
        "last-modified": new Date().toUTCString(),
      });
      res.end(req.method === "HEAD" ? undefined : object.body);
      return;
    }
    throw new ApiError(405, "MethodNotAllowed", `${req.method} is not implemented by the fake S3`);
  }
}

// ---- helpers ----

function indexed(params: URLSearchParams, name: string): string[] {
  const values: string[] = [];
  for (let i = 1; params.has(`${name}.${i}`); i++) {
    values.push(params.get(`${name}.${i}`) as string);
  }
  return values;
}

interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

function parseFilters(params: URLSearchParams): Filter[] {
  const filters: Filter[] = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    filters.push({ name: params.get(`Filter.${i}.Name`) as string, values: indexed(params, `Filter.${i}.Value`) });
  }
  return filters;
}

function matchesFilter(filter: Filter, of: { tags: Record<string, string>; [key: string]: unknown }): boolean {
  if (filter.name === "tag-key") {
    return filter.values.some((v) => v in of.tags);
  }
  if (filter.name.startsWith("tag:")) {
    const value = of.tags[filter.name.slice(4)];
    return value !== undefined && filter.values.some((v) => glob(v, value));
  }
  if (!(filter.name in of)) {
    throw new ApiError(400, "InvalidParameterValue", `the fake does not implement the filter ${filter.name}`);
  }
  return filter.values.includes(String(of[filter.name]));
}

function tagSet(tags: Record<string, string>): string {
  return `<tagSet>${Object.entries(tags)
    .map(([k, v]) => `<item><key>${xmlEscape(k)}</key><value>${xmlEscape(v)}</value></item>`)
    .join("")}</tagSet>`;
}

function resourceTags(service: string, tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${service}:ResourceTag/${k}`, v]));
}

/** IAM's wildcard matching: `*` any run of characters, `?` one. */
export function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s");
  return re.test(value);
}

/** IAM condition operators the synthesized policies use. */
export function conditionsHold(condition: IamStatement["Condition"], context: Record<string, string | undefined>): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context[key];
      const wanted = (Array.isArray(expected) ? expected : [expected]).map(String);
      if (actual === undefined) {
        return false;
      }
      const ok =
        operator === "StringEquals" || operator === "Bool"
          ? wanted.includes(actual)
          : operator === "StringLike"
            ? wanted.some((w) => glob(w, actual))
            : (() => {
                throw new Error(`the fake IAM does not implement the condition operator ${operator}`);
              })();
      if (!ok) {
        return false;
      }
    }
  }
  return true;
}
