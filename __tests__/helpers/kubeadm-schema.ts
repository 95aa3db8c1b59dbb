/**
 * Checks a kubeadm configuration file (the multi-document YAML the boot scripts hand to
 * `kubeadm init phase ... --config` or `kubeadm join --config`) against JSON Schemas written from the
 * Kubernetes API reference (`__tests__/fixtures/kubeadm/`, see its README for sources and limits).
 * Why: the boot scripts cannot run kubeadm here, so the simulation needs an independent judge of the
 * configuration's structure; comparing the output with a copy of itself would prove nothing.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import { parseAllDocuments } from "yaml";

/** Where the schema files live (the compiled helper sits next to this source). */
const SCHEMA_DIR = path.join(__dirname, "..", "fixtures", "kubeadm");

/** The annotation on fields and values that a Kubernetes minor after the first one added. */
const SINCE_KEYWORD = "x-kopsform-since";

/** kubeadm serves kubeadm.k8s.io/v1beta4 from this minor on (1.31). */
export const FIRST_V1BETA4_MINOR = 31;

/** The documents there is a schema for, by "apiVersion kind". */
const SCHEMA_FILES: Readonly<Record<string, string>> = {
  "kubeadm.k8s.io/v1beta4 InitConfiguration": "init-configuration.schema.json",
  "kubeadm.k8s.io/v1beta4 ClusterConfiguration": "cluster-configuration.schema.json",
  "kubeadm.k8s.io/v1beta4 JoinConfiguration": "join-configuration.schema.json",
  "kubelet.config.k8s.io/v1beta1 KubeletConfiguration": "kubelet-configuration.schema.json",
};

/** Options of {@link validateKubeadmDocuments}. */
export interface KubeadmValidationOptions {
  /**
   * The Kubernetes version the configuration is for ("1.33", "v1.33.5"): fields and values added
   * after that minor are refused, and a minor before 1.31 (no v1beta4) is a problem of its own.
   * @default undefined (the newest API the schemas describe, 1.36)
   */
  readonly kubernetesVersion?: string;
}

type Json = unknown;
type SchemaObject = Record<string, Json>;

const schemaCache = new Map<number | "newest", Map<string, ValidateFunction>>();

/**
 * Validates every document of a kubeadm configuration file and returns the problems, one line
 * each, naming the document and the field; an empty list means the file is valid. YAML is read as
 * YAML 1.1, as kubeadm's decoder reads it (so `yes`/`no`/`on`/`off` are booleans).
 */
export function validateKubeadmDocuments(yamlText: string, options: KubeadmValidationOptions = {}): string[] {
  const problems: string[] = [];
  let minor: number | undefined;
  if (options.kubernetesVersion !== undefined) {
    minor = parseMinor(options.kubernetesVersion);
    if (minor === undefined) {
      return [`kubernetesVersion ${JSON.stringify(options.kubernetesVersion)} is not a version like 1.33 or v1.33.5`];
    }
    if (minor < FIRST_V1BETA4_MINOR) {
      return [
        `Kubernetes 1.${minor} has no kubeadm.k8s.io/v1beta4 (kubeadm serves it from 1.${FIRST_V1BETA4_MINOR}): use 1.${FIRST_V1BETA4_MINOR} or later`,
      ];
    }
  }
  const validators = validatorsFor(minor);
  const seen = new Map<string, number>();
  const documents = parseAllDocuments(yamlText, { version: "1.1", uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [documents];
  let count = 0;
  list.forEach((doc, index) => {
    const label = `document ${index + 1}`;
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        problems.push(`${label}: YAML error: ${error.message.split("\n")[0]}`);
      }
      return;
    }
    const value: Json = doc.toJS();
    if (value === null || value === undefined) {
      return; // an empty document (a trailing ---) is allowed, as kubeadm allows it
    }
    count += 1;
    if (!isObject(value)) {
      problems.push(`${label}: is not a mapping`);
      return;
    }
    const apiVersion = value.apiVersion;
    const kind = value.kind;
    if (typeof apiVersion !== "string" || typeof kind !== "string") {
      problems.push(`${label}: apiVersion and kind are required strings`);
      return;
    }
    const key = `${apiVersion} ${kind}`;
    const named = `${label} (${kind})`;
    const validate = validators.get(key);
    if (!validate) {
      problems.push(
        `${named}: no schema for apiVersion ${apiVersion} kind ${kind}; expected one of: ${Object.keys(SCHEMA_FILES).join(", ")}`,
      );
      return;
    }
    const earlier = seen.get(kind);
    if (earlier !== undefined) {
      problems.push(`${named}: kind ${kind} appears twice (also document ${earlier}); kubeadm refuses that`);
    }
    seen.set(kind, index + 1);
    if (!validate(value)) {
      for (const error of validate.errors ?? []) {
        problems.push(`${named}: ${describe(error)}`);
      }
    }
  });
  if (count === 0 && problems.length === 0) {
    problems.push("no configuration document found");
  }
  return problems;
}

/** "1.33", "v1.33.5", "1.33.0-rc.1" -> 33; anything else -> undefined. */
function parseMinor(version: string): number | undefined {
  const match = /^v?1\.(\d+)(\.\d+)?([-+].*)?$/.exec(version.trim());
  return match ? Number(match[1]) : undefined;
}

/** Compiled validators for a minor (undefined: the newest), compiled once. */
function validatorsFor(minor: number | undefined): Map<string, ValidateFunction> {
  const cacheKey = minor ?? "newest";
  const cached = schemaCache.get(cacheKey);
  if (cached) {
    return cached;
  }
  // strict: an unknown keyword or a mistyped schema fails loudly instead of checking nothing. Only
  // strictRequired is off: cross-field rules (not both ttl and expires, certFile needs keyFile) name
  // in not/if/then properties that the enclosing object defines. Union types are the API's own
  // (a Time may be null, a Quantity a number or a string).
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  ajv.addKeyword({ keyword: SINCE_KEYWORD, schemaType: "string" });
  const files = fs.readdirSync(SCHEMA_DIR).filter((name) => name.endsWith(".schema.json"));
  for (const file of files) {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, file), "utf8")) as SchemaObject;
    ajv.addSchema(minor === undefined ? schema : pruneNewer(schema, minor) as SchemaObject);
  }
  const validators = new Map<string, ValidateFunction>();
  for (const [key, file] of Object.entries(SCHEMA_FILES)) {
    const validate = ajv.getSchema(`https://schemas.kopsform.invalid/kubeadm/${file}`);
    if (!validate) {
      throw new Error(`schema ${file} did not load from ${SCHEMA_DIR}`);
    }
    validators.set(key, validate);
  }
  schemaCache.set(cacheKey, validators);
  return validators;
}

/**
 * A copy of a schema without the properties and anyOf/oneOf branches marked as added after
 * `minor`, so that closed objects refuse them.
 */
export function pruneNewer(schema: Json, minor: number): Json {
  if (Array.isArray(schema)) {
    return schema.map((item) => pruneNewer(item, minor));
  }
  if (!isObject(schema)) {
    return schema;
  }
  const out: SchemaObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" && isObject(value)) {
      const kept: SchemaObject = {};
      for (const [name, sub] of Object.entries(value)) {
        if (!isNewer(sub, minor)) {
          kept[name] = pruneNewer(sub, minor);
        }
      }
      out[key] = kept;
    } else if ((key === "anyOf" || key === "oneOf") && Array.isArray(value)) {
      out[key] = value.filter((sub) => !isNewer(sub, minor)).map((sub) => pruneNewer(sub, minor));
    } else {
      out[key] = pruneNewer(value, minor);
    }
  }
  return out;
}

function isNewer(schema: Json, minor: number): boolean {
  if (!isObject(schema) || typeof schema[SINCE_KEYWORD] !== "string") {
    return false;
  }
  const since = parseMinor(schema[SINCE_KEYWORD] as string);
  if (since === undefined) {
    throw new Error(`bad ${SINCE_KEYWORD} value ${JSON.stringify(schema[SINCE_KEYWORD])}`);
  }
  return since > minor;
}

function isObject(value: Json): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One ajv error as "field.path: message", the way a kubeadm user reads field names. */
function describe(error: ErrorObject): string {
  const where = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  let message = error.message ?? "is invalid";
  if (error.keyword === "additionalProperties") {
    message = `unknown field ${JSON.stringify(params.additionalProperty)}`;
  } else if (error.keyword === "enum") {
    message = `must be one of ${JSON.stringify(params.allowedValues)}`;
  } else if (error.keyword === "dependentRequired") {
    message = `must have ${params.missingProperty} when ${params.property} is set`;
  } else if (error.keyword === "const") {
    message = `must be ${JSON.stringify(params.allowedValue)}`;
  }
  return `${where || "(document)"}: ${message}`;
}

/** "/apiServer/extraArgs/0/name" -> "apiServer.extraArgs[0].name". */
function fieldPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), "");
}
