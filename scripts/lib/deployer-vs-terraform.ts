// Checks the local cloud's deployer against Terraform itself: every resource attribute whose
// value `terraform plan` knows before apply must equal what the deployer evaluated for it. The
// comparison is typed by the provider's own schema (`terraform providers schema -json`), so it
// converts as Terraform converts (a number given to a string attribute is its decimal text) and
// compares sets without order; every difference names the address and the attribute path.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { DeployedStack } from "../../local/deployer/deploy";
import { terraformJson } from "../../local/deployer/expressions/values";
import type { PlanJson } from "./terraform-json";
import type { SynthesizedStack } from "./synthesized";
import { terraform } from "./terraform-cli";
import { init, must, OFFLINE_ENV } from "./terraform-runs";

/** Terraform's JSON type notation: "string", ["list", T], ["object", {...}], ... */
export type CtyType = string | [string, unknown];

interface Attribute {
  type?: CtyType;
  nested_type?: { attributes: Record<string, Attribute>; nesting_mode: string };
}

export interface Block {
  attributes?: Record<string, Attribute>;
  block_types?: Record<string, { nesting_mode: string; block: Block }>;
}

export type ResourceSchemas = Record<string, Block>;

/** The resource schemas of the stack's providers (AWS's, and Terraform's built-in one for terraform_data), read from an initialized stack directory. */
export async function resourceSchemas(initializedDir: string): Promise<ResourceSchemas> {
  const run = await must("terraform providers schema", terraform(["providers", "schema", "-json"], { cwd: initializedDir, label: "schema" }));
  const schemas = JSON.parse(run.stdout).provider_schemas as Record<string, { resource_schemas?: Record<string, { block: Block }> }>;
  if (!Object.keys(schemas).some((source) => source.endsWith("/hashicorp/aws"))) throw new Error(`no hashicorp/aws provider schema in ${initializedDir}`);
  return Object.fromEntries(Object.values(schemas).flatMap((provider) => Object.entries(provider.resource_schemas ?? {}).map(([type, s]) => [type, s.block])));
}

export interface AttributeDifference {
  stack: string;
  address: string;
  /** `environment[0].variables.TABLE` */
  attribute: string;
  terraform: unknown;
  deployer: unknown;
}

export interface Comparison {
  /** Attribute values compared (leaves). */
  compared: number;
  differences: AttributeDifference[];
  /** Resources one side has and the other does not. */
  unmatched: string[];
}

/** The provider's structure.NormalizeJsonString: decoded and encoded again by Go's encoding/json. */
const normalizeJson = (text: string) => terraformJson(JSON.parse(text));

/**
 * The provider's verify.LegacyPolicyNormalize: normalized JSON with the Version element moved
 * first (internal/verify/json.go, hashicorp/terraform-provider-aws v5.100.0).
 */
function legacyPolicyNormalize(text: string): string {
  return normalizeJson(text).replace(/^(\{\n?)(.*?)(,\s*)?( {2})?("Version":\s*"2012-10-17")(,)?(\n)?(.*?)(\})/s, "$1$4$5$3$2$6$7$8$9");
}

/**
 * Arguments the provider rewrites before Terraform plans them (a StateFunc in the resource's
 * schema); the deployer's value is compared after the same rewrite.
 */
const PROVIDER_REWRITES: Record<string, Record<string, (text: string) => string>> = {
  // internal/service/apigateway/model.go: StateFunc structure.NormalizeJsonString
  aws_api_gateway_model: { schema: normalizeJson },
  // internal/service/iam/role_policy.go: StateFunc verify.LegacyPolicyNormalize
  aws_iam_role_policy: { policy: legacyPolicyNormalize },
};

/** Terraform's conversion of a primitive to `type`; undefined when it would refuse. */
function convert(value: unknown, type: string): unknown {
  if (value === null) return null;
  switch (type) {
    case "string":
      return typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
    case "number":
      return typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)) ? Number(value) : undefined;
    case "bool":
      return typeof value === "boolean" ? value : value === "true" ? true : value === "false" ? false : undefined;
    default:
      return value;
  }
}

/** A block given as one object in JSON stands for a list of one. */
const asList = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : value && typeof value === "object" ? [value] : undefined);

class Comparer {
  compared = 0;
  readonly differences: Omit<AttributeDifference, "stack" | "address">[] = [];

  private differ(path: string, planned: unknown, evaluated: unknown) {
    this.differences.push({ attribute: path, terraform: planned, deployer: evaluated });
  }

  /** Compares what the deployer has of a block; attributes it did not set are Terraform's defaults. */
  block(evaluated: Record<string, unknown>, planned: Record<string, unknown>, unknown: unknown, block: Block, path: string) {
    const unknowns = (unknown && typeof unknown === "object" ? unknown : {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(evaluated)) {
      if (value === undefined || !(name in planned)) continue;
      const at = path ? `${path}.${name}` : name;
      const attribute = block.attributes?.[name];
      const nested = block.block_types?.[name];
      if (attribute?.type !== undefined) this.value(value, planned[name], unknowns[name], attribute.type, at);
      else if (nested) this.nested(value, planned[name], unknowns[name], nested.nesting_mode, nested.block, at);
    }
  }

  private nested(evaluated: unknown, planned: unknown, unknown: unknown, mode: string, block: Block, path: string) {
    if (unknown === true) return;
    if (mode === "single" || mode === "group") {
      const one = Array.isArray(evaluated) ? evaluated[0] : evaluated;
      if (one && planned && typeof planned === "object") this.block(one as Record<string, unknown>, planned as Record<string, unknown>, unknown, block, path);
      else if (!isDeepStrictEqual(one ?? null, planned ?? null)) this.differ(path, planned, evaluated);
      return;
    }
    const items = asList(evaluated) ?? [];
    const plannedItems = (planned ?? []) as Record<string, unknown>[];
    if (mode === "map") {
      for (const [key, item] of Object.entries((evaluated ?? {}) as Record<string, unknown>)) {
        const other = (planned as Record<string, unknown> | null)?.[key];
        if (other === undefined) this.differ(`${path}["${key}"]`, undefined, item);
        else this.block(item as Record<string, unknown>, other as Record<string, unknown>, (unknown as Record<string, unknown>)?.[key], block, `${path}["${key}"]`);
      }
      return;
    }
    if (items.length !== plannedItems.length) {
      this.differ(`${path} (${items.length} blocks vs ${plannedItems.length})`, planned, evaluated);
      return;
    }
    if (mode === "list") {
      items.forEach((item, i) => this.block(item as Record<string, unknown>, plannedItems[i], (unknown as unknown[] | undefined)?.[i], block, `${path}[${i}]`));
      return;
    }
    // A set: every evaluated block must match one planned block, each planned block used once.
    const free = [...plannedItems.keys()];
    for (const item of items) {
      const match = free.find((i) => {
        const probe = new Comparer();
        probe.block(item as Record<string, unknown>, plannedItems[i], (unknown as unknown[] | undefined)?.[i], block, path);
        return probe.differences.length === 0;
      });
      if (match === undefined) {
        this.differ(`${path} (no planned block matches)`, planned, item);
        return;
      }
      free.splice(free.indexOf(match), 1);
      this.compared++;
    }
  }

  value(evaluated: unknown, planned: unknown, unknown: unknown, type: CtyType, path: string) {
    if (unknown === true) return;
    if (typeof type === "string") {
      this.compared++;
      const converted = type === "dynamic" ? evaluated : convert(evaluated, type);
      if (!isDeepStrictEqual(converted, planned)) this.differ(path, planned, evaluated);
      return;
    }
    const [kind, element] = type;
    if (evaluated === null || planned === null) {
      this.compared++;
      if (evaluated !== planned) this.differ(path, planned, evaluated);
      return;
    }
    if (kind === "list" || kind === "set") {
      const items = Array.isArray(evaluated) ? evaluated : undefined;
      const plannedItems = planned as unknown[];
      if (!items || items.length !== plannedItems.length) {
        this.compared++;
        this.differ(path, planned, evaluated);
        return;
      }
      if (kind === "list") {
        items.forEach((item, i) => this.value(item, plannedItems[i], (unknown as unknown[] | undefined)?.[i], element as CtyType, `${path}[${i}]`));
        return;
      }
      this.compared++;
      if (Array.isArray(unknown) && unknown.some((u) => u !== false)) return;
      const canonical = (list: unknown[], convertIt: boolean) =>
        list.map((v) => JSON.stringify(convertIt && typeof element === "string" ? convert(v, element) : v)).sort();
      if (!isDeepStrictEqual(canonical(items, true), canonical(plannedItems, false))) this.differ(path, planned, evaluated);
      return;
    }
    if (kind === "map" || kind === "object") {
      const entries = Object.entries((evaluated ?? {}) as Record<string, unknown>);
      const plannedMap = planned as Record<string, unknown>;
      const types = kind === "object" ? (element as Record<string, CtyType>) : undefined;
      if (kind === "map" && entries.length !== Object.keys(plannedMap).length) {
        this.compared++;
        this.differ(path, planned, evaluated);
        return;
      }
      for (const [key, item] of entries) {
        if (types && !(key in types)) continue;
        this.value(item, plannedMap[key], (unknown as Record<string, unknown> | undefined)?.[key], types?.[key] ?? (element as CtyType), `${path}.${key}`);
      }
      return;
    }
    this.compared++;
    if (!isDeepStrictEqual(evaluated, planned)) this.differ(path, planned, evaluated);
  }
}

/** Compares one stack's plan (offline, empty state) with the deployer's result for the same stack. */
export function compareWithPlan(stack: string, plan: PlanJson, deployed: DeployedStack, schemas: ResourceSchemas): Comparison {
  const comparison: Comparison = { compared: 0, differences: [], unmatched: [] };
  const planned = new Set<string>();
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed" || !rc.change.actions.includes("create")) continue;
    planned.add(rc.address);
    const resource = deployed.resources.get(rc.address);
    if (!resource) {
      comparison.unmatched.push(`${stack}: ${rc.address} is planned by Terraform but was not deployed by the local cloud`);
      continue;
    }
    const schema = schemas[rc.type];
    if (!schema) throw new Error(`no provider schema for ${rc.type}`);
    const comparer = new Comparer();
    const attributes = { ...resource.attributes };
    for (const [name, rewrite] of Object.entries(PROVIDER_REWRITES[rc.type] ?? {})) {
      if (typeof attributes[name] === "string") attributes[name] = rewrite(attributes[name] as string);
    }
    comparer.block(attributes, rc.change.after ?? {}, rc.change.after_unknown, schema, "");
    comparison.compared += comparer.compared;
    comparison.differences.push(...comparer.differences.map((d) => ({ stack, address: rc.address, ...d })));
  }
  for (const address of deployed.resources.keys()) {
    if (!planned.has(address)) comparison.unmatched.push(`${stack}: ${address} was deployed by the local cloud but Terraform plans no such resource`);
  }
  return comparison;
}

export function describeDifference(d: AttributeDifference): string {
  return `${d.stack}: ${d.address}: ${d.attribute}: terraform plan has ${JSON.stringify(d.terraform)}, the deployer evaluated ${JSON.stringify(d.deployer)}`;
}

/** Terraform's type of a JSON value, as a state file records an output's type. */
function ctyTypeOf(value: unknown): CtyType {
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return ["tuple", value.map(ctyTypeOf)];
  if (value && typeof value === "object") return ["object", Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ctyTypeOf(v)]))];
  return "dynamic";
}

/**
 * A state with outputs only: what `terraform_remote_state` reads of a stack the local cloud
 * deployed, so the stacks that read it plan with the same values the deployer used.
 */
function outputsOnlyState(outputs: Record<string, unknown>): string {
  const entries = Object.entries(outputs).map(([name, value]) => [name, { value, type: ctyTypeOf(value) }]);
  return `${JSON.stringify({ version: 4, terraform_version: "1.11.0", serial: 1, lineage: "local-cloud-outputs", outputs: Object.fromEntries(entries), resources: [] }, null, 2)}\n`;
}

/**
 * Plans the stacks (in dependency order) offline in `workspace` (empty state, -refresh=false) and
 * compares each plan with what the local cloud deployed; a stack's dependencies get a state
 * holding the outputs the local cloud deployed them with.
 */
export async function compareDeployerWithTerraform(stacks: SynthesizedStack[], workspace: string, deployed: Map<string, DeployedStack>): Promise<Comparison> {
  const total: Comparison = { compared: 0, differences: [], unmatched: [] };
  let schemas: ResourceSchemas | undefined;
  for (const stack of stacks) {
    const result = deployed.get(stack.name);
    if (!result) {
      total.unmatched.push(`${stack.name}: deployed in workspace ${workspace} by Terraform, not by the local cloud`);
      continue;
    }
    for (const dependency of stacks.filter((s) => stack.dependencies.includes(s.name))) {
      const dir = join(dependency.dir, "terraform.tfstate.d", workspace);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "terraform.tfstate"), outputsOnlyState(deployed.get(dependency.name)?.outputs ?? {}));
    }
    const run = { cwd: stack.dir, label: `${stack.name}/${workspace}`, env: OFFLINE_ENV };
    await init(["init", "-input=false", "-no-color"], run, `terraform init in ${stack.name}`);
    await must(`terraform workspace select in ${stack.name}`, terraform(["workspace", "select", "-or-create", workspace], run));
    await must(`terraform plan in ${stack.name}`, terraform(["plan", "-input=false", "-no-color", "-refresh=false", "-lock=false", "-out=compare.tfplan"], run));
    const shown = await must(`terraform show in ${stack.name}`, terraform(["show", "-json", "-no-color", "compare.tfplan"], run));
    schemas ??= await resourceSchemas(stack.dir);
    const comparison = compareWithPlan(stack.name, JSON.parse(shown.stdout) as PlanJson, result, schemas);
    total.compared += comparison.compared;
    total.differences.push(...comparison.differences);
    total.unmatched.push(...comparison.unmatched);
  }
  return total;
}

/**
 * Identifiers each side made up for itself (an API id, a key id, the account): where the deployer
 * has one and Terraform's state another, every occurrence must map the same way, one to one. A
 * token that appears in the configuration is a name, never made up.
 */
export class IdCorrespondence {
  private readonly forward = new Map<string, string>();
  private readonly backward = new Map<string, string>();

  constructor(seeds: [string, string][] = []) {
    for (const [a, b] of seeds) this.record(a, b);
  }

  private record(stateToken: string, localToken: string) {
    this.forward.set(stateToken, localToken);
    this.backward.set(localToken, stateToken);
  }

  /** True when `stateToken` and `localToken` can stand for the same thing. */
  match(stateToken: string, localToken: string, configText: string): boolean {
    const known = this.forward.get(stateToken);
    const knownBack = this.backward.get(localToken);
    if (known !== undefined || knownBack !== undefined) return known === localToken && knownBack === stateToken;
    if (stateToken === localToken) return true;
    const madeUp = (t: string) => (MADE_UP.test(t) || UUID.test(t)) && !configText.includes(t);
    if (!madeUp(stateToken) || !madeUp(localToken)) return false;
    this.record(stateToken, localToken);
    return true;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MADE_UP = /^[A-Za-z0-9]{6,}$/;
/** UUIDs count as one token; otherwise runs of letters and digits, and what separates them. */
const tokens = (text: string) => text.split(/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9]+)/);

function sameShape(state: unknown, local: unknown, ids: IdCorrespondence, configText: string): boolean {
  if (typeof state === "string" && typeof local === "string") {
    const a = tokens(state);
    const b = tokens(local);
    return a.length === b.length && a.every((t, i) => t === b[i] || (i % 2 === 1 && ids.match(t, b[i], configText)));
  }
  if (Array.isArray(state) && Array.isArray(local)) return state.length === local.length && state.every((v, i) => sameShape(v, local[i], ids, configText));
  if (state && local && typeof state === "object" && typeof local === "object") {
    return Object.entries(local).every(([k, v]) => v === undefined || !(k in state) || sameShape((state as Record<string, unknown>)[k], v, ids, configText));
  }
  return isDeepStrictEqual(state, convert(local, typeof state === "number" ? "number" : typeof state === "boolean" ? "bool" : "string"));
}

/** `type.name.attribute` of every resource attribute the stack's expressions read. */
function referencedAttributes(stackJson: unknown): Set<string> {
  const text = JSON.stringify(stackJson);
  return new Set([...text.matchAll(/\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)/g)].map((m) => `${m[1]}.${m[2]}.${m[3]}`));
}

/**
 * The attributes the local cloud's handlers computed (not arguments in the stack's JSON) that the
 * configuration reads elsewhere, against the state a real apply produced: equal up to the
 * identifiers each side made up, which must correspond one to one across all stacks.
 */
export function compareComputedWithState(
  stack: string,
  stackJson: { resource?: Record<string, Record<string, Record<string, unknown>>> },
  state: { address: string; type: string; name: string; values: Record<string, unknown> }[],
  deployed: DeployedStack,
  ids: IdCorrespondence,
  skip: (type: string, attribute: string) => boolean = () => false,
): Comparison {
  const comparison: Comparison = { compared: 0, differences: [], unmatched: [] };
  const configText = JSON.stringify(stackJson);
  const referenced = referencedAttributes(stackJson);
  for (const resource of state) {
    const local = deployed.resources.get(resource.address);
    if (!local) {
      comparison.unmatched.push(`${stack}: ${resource.address} is in the applied state but was not deployed by the local cloud`);
      continue;
    }
    const argumentsOf = stackJson.resource?.[resource.type]?.[resource.name] ?? {};
    for (const [attribute, value] of Object.entries(local.attributes)) {
      if (attribute in argumentsOf || !referenced.has(`${resource.type}.${resource.name}.${attribute}`) || skip(resource.type, attribute)) continue;
      comparison.compared++;
      if (!sameShape(resource.values[attribute], value, ids, configText)) {
        comparison.differences.push({ stack, address: resource.address, attribute, terraform: resource.values[attribute], deployer: value });
      }
    }
  }
  return comparison;
}
