// Applies synthesized Terraform JSON the way `terraform apply` would on an empty state: every
// variable, local, data source, resource and output becomes a node; nodes are evaluated in the
// order their references require; each resource (each count / for_each instance) is created by
// the handler of its type, `dynamic` blocks expanded into the blocks they stand for. A type
// without a handler stops the deploy and is named.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configReferences, evaluateConfig, isObject, type Scope } from "./expressions/evaluate";
import { DeployError, VariableInvalidError, type ResourceHandler } from "./types";

export interface StackToDeploy {
  name: string;
  /** Directory of `cdk.tf.json`; asset paths are relative to it. */
  dir: string;
  /** Stacks whose outputs this one reads. */
  dependencies: string[];
}

export interface DeployedStack {
  name: string;
  region: string;
  accountId: string;
  outputs: Record<string, unknown>;
  /** Every resource instance by address, with its attributes. */
  resources: Map<string, { type: string; attributes: Record<string, unknown> }>;
}

export interface DeployOptions<Services> {
  workspace: string;
  /** Values for variables, as `-var` would give them. */
  variables?: Record<string, unknown>;
  /** Services of a region: the deployer asks once per stack, for the stack's provider region. */
  servicesFor(region: string, accountId: string): Services | Promise<Services>;
  resourceHandlers: Record<string, ResourceHandler<Services>>;
  dataHandlers: Record<string, ResourceHandler<Services>>;
  /** Account used when the provider pins none with `allowed_account_ids`. */
  defaultAccountId: string;
  log?: (message: string) => void;
}

interface StackJson {
  import?: { id: unknown; to: string }[];
  variable?: Record<string, { default?: unknown; validation?: { condition: string; error_message: string }[] }>;
  locals?: Record<string, unknown>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown }>;
  provider?: { aws?: Record<string, unknown>[] };
}

type NodeKind = "variable" | "local" | "data" | "resource" | "output";

interface Node {
  key: string;
  kind: NodeKind;
  type?: string;
  name: string;
  body: unknown;
  dependsOn: Set<string>;
}

const META_ARGUMENTS = new Set(["count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection", "dynamic", "//"]);

/** Nodes of a stack, keyed as references name them: `var.x`, `local.x`, `data.t.n`, `t.n`, `output.x`. */
function nodesOf(json: StackJson): Map<string, Node> {
  const nodes = new Map<string, Node>();
  const add = (kind: NodeKind, key: string, name: string, body: unknown, type?: string) => {
    const refs = configReferences(body);
    refs.delete(key); // a variable's validation reads the variable itself
    // A dynamic block's content reads its iterator (`<block>.value`), which is no other node.
    for (const [block, spec] of Object.entries(isObject(body) && isObject(body.dynamic) ? body.dynamic : {})) {
      const iterator = String((spec as { iterator?: string }).iterator ?? block);
      for (const ref of refs) if (ref.startsWith(`${iterator}.`)) refs.delete(ref);
    }
    if (isObject(body) && Array.isArray(body.depends_on)) {
      for (const d of body.depends_on as string[]) refs.add(d.replace(/^\$\{|\}$/g, ""));
    }
    nodes.set(key, { key, kind, type, name, body, dependsOn: refs });
  };
  for (const [name, v] of Object.entries(json.variable ?? {})) add("variable", `var.${name}`, name, v);
  for (const [name, v] of Object.entries(json.locals ?? {})) add("local", `local.${name}`, name, v);
  for (const [type, byName] of Object.entries(json.data ?? {})) {
    for (const [name, body] of Object.entries(byName)) add("data", `data.${type}.${name}`, name, body, type);
  }
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) add("resource", `${type}.${name}`, name, body, type);
  }
  for (const [name, body] of Object.entries(json.output ?? {})) add("output", `output.${name}`, name, body);
  return nodes;
}

function topologicalOrder(nodes: Map<string, Node>, stack: string): Node[] {
  const ordered: Node[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: Node, path: string[]) => {
    const s = state.get(node.key);
    if (s === "done") return;
    if (s === "visiting") throw new DeployError("DEPENDENCY_CYCLE", `${stack}: dependency cycle: ${[...path, node.key].join(" -> ")}`);
    state.set(node.key, "visiting");
    for (const ref of [...node.dependsOn].sort()) {
      const target = nodes.get(ref);
      if (target) visit(target, [...path, node.key]);
      else if (!ref.startsWith("path.") && !ref.startsWith("self.")) {
        throw new DeployError("UNKNOWN_REFERENCE", `${stack}: ${node.key} refers to ${ref}, which is not declared`);
      }
    }
    state.set(node.key, "done");
    ordered.push(node);
  };
  for (const node of [...nodes.values()].sort((a, b) => a.key.localeCompare(b.key))) visit(node, []);
  return ordered;
}

/** Resource types a stack uses that no handler emulates: reported all at once, before anything is created. */
export function unsupportedTypes(json: StackJson, handlers: Record<string, unknown>, dataHandlers: Record<string, unknown>): string[] {
  const missing = new Set<string>();
  for (const type of Object.keys(json.resource ?? {})) if (!handlers[type]) missing.add(type);
  for (const type of Object.keys(json.data ?? {})) {
    // Remote state is read from the stacks deployed before, by the deployer itself.
    if (type !== "terraform_remote_state" && !dataHandlers[type]) missing.add(`data.${type}`);
  }
  return [...missing].sort();
}

/** The resource blocks without those whose `count` is known to be 0. */
function resourcesWithInstances(resources: NonNullable<StackJson["resource"]>, scope: () => Scope): NonNullable<StackJson["resource"]> {
  const countIsZero = (body: Record<string, unknown>) => {
    if (body.count === undefined) return false;
    try {
      return Number(evaluateConfig(body.count, scope())) === 0;
    } catch {
      return false;
    }
  };
  return Object.fromEntries(
    Object.entries(resources)
      .map(([type, blocks]) => [type, Object.fromEntries(Object.entries(blocks).filter(([, body]) => !countIsZero(body as Record<string, unknown>)))] as const)
      .filter(([, blocks]) => Object.keys(blocks).length > 0),
  );
}

export function readStackJson(dir: string): StackJson {
  return JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as StackJson;
}

export async function deployStack<Services>(
  stack: StackToDeploy,
  options: DeployOptions<Services>,
  /** Outputs of stacks deployed before, for `terraform_remote_state`. */
  deployed: Map<string, DeployedStack>,
): Promise<DeployedStack> {
  const log = options.log ?? (() => {});
  const json = readStackJson(stack.dir);

  const values = {
    var: {} as Record<string, unknown>,
    local: {} as Record<string, unknown>,
    data: {} as Record<string, Record<string, unknown>>,
    resources: {} as Record<string, Record<string, unknown>>,
  };
  const scope = (extra: Record<string, unknown> = {}): Scope => ({
    root(name) {
      if (name in extra) return extra[name];
      switch (name) {
        case "var":
          return values.var;
        case "local":
          return values.local;
        case "data":
          return values.data;
        case "terraform":
          return { workspace: options.workspace };
        case "path":
          return { module: stack.dir, root: stack.dir, cwd: stack.dir };
        default:
          if (name in values.resources) return values.resources[name];
          throw new DeployError("UNKNOWN_REFERENCE", `${stack.name}: reference to undeclared "${name}"`);
      }
    },
  });

  // `import` blocks: the addresses Terraform takes over instead of creating (ids evaluated in the main pass).
  const imports = new Map((json.import ?? []).map((block) => [block.to, block.id]));
  const nodes = nodesOf(json);
  const order = topologicalOrder(nodes, stack.name);
  const result: DeployedStack = { name: stack.name, region: "", accountId: "", outputs: {}, resources: new Map() };
  let services: Services | undefined;

  // Every variable has its value before anything is evaluated; its validation runs at its place
  // in the order, after what the rule reads and before anything that reads the variable.
  for (const [name, body] of Object.entries(json.variable ?? {})) {
    const given = options.variables?.[name];
    if (given === undefined && !("default" in body)) {
      throw new DeployError("VARIABLE_REQUIRED", `${stack.name}: no value for required variable "${name}"`);
    }
    values.var[name] = given ?? body.default;
  }

  const validate = (name: string) => {
    for (const rule of json.variable?.[name]?.validation ?? []) {
      if (evaluateConfig(rule.condition, scope()) !== true) {
        const message = evaluateConfig(rule.error_message, scope());
        throw new VariableInvalidError(name, `${stack.name}: invalid value for variable "${name}": ${String(message)}`);
      }
    }
  };

  // A first pass over variables and locals (those that read no resource): a workspace this stack
  // is not for fails here, and a resource whose count is 0 in this workspace (a feature switched
  // off) does not count as one to emulate.
  for (const node of order) {
    try {
      if (node.kind === "variable") validate(node.name);
      if (node.kind === "local") values.local[node.name] = evaluateConfig(node.body, scope());
    } catch (error) {
      if (error instanceof DeployError && error.code === "VARIABLE_INVALID") throw error;
      // It reads a resource: evaluated in the main pass.
    }
  }
  const existing = { ...json, resource: resourcesWithInstances(json.resource ?? {}, scope) };
  const missing = unsupportedTypes(existing, options.resourceHandlers, options.dataHandlers);
  if (missing.length > 0) {
    throw new DeployError(
      "UNSUPPORTED_RESOURCE_TYPE",
      `${stack.name}: the local cloud cannot emulate these resource types, so it will not deploy the stack: ${missing.join(", ")}`,
    );
  }

  const ensureServices = async () => {
    if (services) return services;
    const provider = evaluateConfig(json.provider?.aws?.[0] ?? {}, scope()) as Record<string, any>;
    result.region = provider.region ?? "us-east-1";
    result.accountId = provider.allowed_account_ids?.[0] ?? options.defaultAccountId;
    services = await options.servicesFor(result.region, result.accountId);
    return services;
  };

  for (const node of order) {
    if (node.kind === "variable") {
      validate(node.name);
      continue;
    }
    if (node.kind === "local") {
      values.local[node.name] = evaluateConfig(node.body, scope());
      continue;
    }
    if (node.kind === "output") {
      result.outputs[node.name] = evaluateConfig((node.body as { value: unknown }).value, scope());
      continue;
    }
    const svc = await ensureServices();
    const body = node.body as Record<string, unknown>;
    const instances = expand(node, body, scope);
    const handler = node.kind === "data" ? options.dataHandlers[node.type!] : options.resourceHandlers[node.type!];
    const created: Record<string, unknown>[] = [];
    const createdByKey: Record<string, unknown> = {};
    for (const instance of instances) {
      const arguments_ = Object.fromEntries(Object.entries(body).filter(([k]) => !META_ARGUMENTS.has(k)));
      const config = evaluateConfig(arguments_, scope(instance.extra)) as Record<string, any>;
      if (isObject(body.dynamic)) addDynamicBlocks(config, body.dynamic, (extra) => scope({ ...instance.extra, ...extra }), node.key);
      const address = `${node.kind === "data" ? "data." : ""}${node.type}.${node.name}${instance.suffix}`;
      if (node.type === "terraform_remote_state") {
        const attributes = { ...config, outputs: remoteStateOutputs(stack.name, config, deployed) };
        created.push(attributes);
        if (instance.key !== undefined) createdByKey[instance.key] = attributes;
        continue;
      }
      const importId = imports.has(address) ? String(evaluateConfig(imports.get(address), scope())) : undefined;
      const computed = await handler({
        type: node.type!,
        name: node.name,
        address,
        config,
        importId,
        stack: { name: stack.name, dir: stack.dir },
        workspace: options.workspace,
        region: result.region,
        accountId: result.accountId,
        services: svc,
        stableId: (length = 10, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789", salt = "") =>
          stableId(`${options.workspace}/${stack.name}/${address}/${salt}`, length, alphabet),
        log: (message) => log(`${stack.name}: ${address}: ${message}`),
      });
      const attributes = { ...config, ...computed };
      if (node.kind === "resource") result.resources.set(address, { type: node.type!, attributes });
      created.push(attributes);
      if (instance.key !== undefined) createdByKey[instance.key] = attributes;
    }
    const value = body.for_each !== undefined ? createdByKey : body.count !== undefined ? created : created[0];
    if (node.kind === "data") (values.data[node.type!] ??= {})[node.name] = value;
    else (values.resources[node.type!] ??= {})[node.name] = value;
  }
  return result;
}

/**
 * `dynamic "<block>" { for_each, iterator, content }`: one `<block>` per element of for_each, its
 * content evaluated with the iterator (`<iterator>.key`, `<iterator>.value`), after the static
 * blocks of the same name.
 */
function addDynamicBlocks(config: Record<string, any>, dynamic: Record<string, unknown>, scope: (extra: Record<string, unknown>) => Scope, key: string): void {
  for (const [block, raw] of Object.entries(dynamic)) {
    const spec = raw as { for_each?: unknown; iterator?: string; content?: unknown };
    const collection = evaluateConfig(spec.for_each, scope({}));
    const entries: [unknown, unknown][] = Array.isArray(collection)
      ? collection.map((value, index) => [index, value])
      : isObject(collection)
        ? Object.entries(collection)
        : (() => {
            throw new DeployError("INVALID_FOR_EACH", `${key}: the for_each of dynamic block ${block} must be a list, a set or a map`);
          })();
    const iterator = spec.iterator ?? block;
    const generated = entries.map(([k, value]) => evaluateConfig(spec.content ?? {}, scope({ [iterator]: { key: k, value } })));
    const existing = config[block];
    config[block] = [...(Array.isArray(existing) ? existing : existing === undefined || existing === null ? [] : [existing]), ...generated];
  }
}

interface Instance {
  suffix: string;
  key: string | undefined;
  extra: Record<string, unknown>;
}

function expand(node: Node, body: Record<string, unknown>, scope: (extra?: Record<string, unknown>) => Scope): Instance[] {
  if (body.count !== undefined) {
    const count = Number(evaluateConfig(body.count, scope()));
    if (!Number.isInteger(count) || count < 0) throw new DeployError("INVALID_COUNT", `${node.key}: count must be a whole number, got ${count}`);
    return Array.from({ length: count }, (_, index) => ({ suffix: `[${index}]`, key: undefined, extra: { count: { index } } }));
  }
  if (body.for_each !== undefined) {
    const collection = evaluateConfig(body.for_each, scope());
    const entries: [string, unknown][] = Array.isArray(collection)
      ? collection.map((v) => [String(v), v])
      : isObject(collection)
        ? Object.entries(collection)
        : (() => {
            throw new DeployError("INVALID_FOR_EACH", `${node.key}: for_each must be a set or a map`);
          })();
    return entries.map(([key, value]) => ({ suffix: `[${JSON.stringify(key)}]`, key, extra: { each: { key, value } } }));
  }
  return [{ suffix: "", key: undefined, extra: {} }];
}

/** `terraform_remote_state` of another stack of the same app: found by the stack name in its state key or path. */
function remoteStateOutputs(stack: string, config: Record<string, any>, deployed: Map<string, DeployedStack>): Record<string, unknown> {
  const location = String(config.config?.key ?? config.config?.path ?? "");
  const source = [...deployed.values()].find((d) => location.endsWith(`/${d.name}.tfstate`) || location.endsWith(`.${d.name}.tfstate`) || location === `${d.name}.tfstate`);
  if (!source) {
    throw new DeployError("REMOTE_STATE_MISSING", `${stack}: reads the state at "${location}", which no stack deployed before it wrote`);
  }
  return { ...(config.defaults ?? {}), ...source.outputs };
}

function stableId(seed: string, length: number, alphabet: string): string {
  const digest = createHash("sha256").update(seed).digest();
  let id = "";
  for (let i = 0; id.length < length; i++) id += alphabet[digest[i % digest.length] % alphabet.length];
  return id;
}
