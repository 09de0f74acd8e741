// `terraform validate` and `terraform plan` over every synthesized stack and workspace.
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { summarizePlan, type PlanSummary } from "./plan-summary";
import { readSynthesized, type SynthesizedStack } from "./synthesized";
import { terraform, type TerraformRun } from "./terraform-cli";

export class TerraformFailed extends Error {
  readonly code = "TERRAFORM_FAILED";
  constructor(
    readonly step: string,
    readonly run: TerraformRun,
  ) {
    super(`${step} failed (exit ${run.code}):\n${(run.stderr || run.stdout).trim()}`);
  }
}

interface RunOptions {
  /** Stream terraform's output with a [stack/workspace] prefix. */
  echo?: boolean;
  log?: (line: string) => void;
}

export async function must(step: string, run: Promise<TerraformRun>): Promise<TerraformRun> {
  const result = await run;
  if (result.code !== 0) throw new TerraformFailed(step, result);
  return result;
}

// Terraform's plugin cache is not safe for concurrent `terraform init` (two inits filling an
// empty cache fail with "file exists"): inits take turns, the rest runs in parallel.
let initTurn: Promise<unknown> = Promise.resolve();
export function init(args: string[], run: Parameters<typeof terraform>[1], step: string): Promise<TerraformRun> {
  const result = initTurn.then(() => must(step, terraform(args, run)));
  initTurn = result.catch(() => undefined);
  return result;
}

/** Runs `work` for each item with at most `limit` at a time; the machine has 2 cores. */
export async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  });
  await Promise.all(workers);
  return results;
}

/**
 * Runs `work` for each stack, two at a time, each once the stacks named by `after(stack)` are
 * done; `stacks` lists every stack after those it waits for.
 */
export async function inOrder(stacks: SynthesizedStack[], after: (s: SynthesizedStack) => string[], work: (s: SynthesizedStack) => Promise<void>) {
  const done = new Map<string, Promise<void>>();
  await inParallel(stacks, 2, async (stack) => {
    const finished = Promise.all(after(stack).map((name) => done.get(name))).then(() => work(stack));
    done.set(stack.name, finished);
    await finished;
  });
}

export async function validateAll(outdir: string, options: RunOptions = {}): Promise<string[]> {
  const log = options.log ?? console.log;
  const stacks = readSynthesized(outdir);
  await inParallel(stacks, 2, async (stack) => {
    const run = { cwd: stack.dir, label: stack.name, echo: options.echo };
    log(`validate: ${stack.name}: terraform init -backend=false (offline provider mirror)`);
    await init(["init", "-backend=false", "-input=false", "-no-color"], run, `terraform init -backend=false in ${stack.name}`);
    log(`validate: ${stack.name}: terraform validate`);
    await must(`terraform validate in ${stack.name}`, terraform(["validate", "-no-color"], run));
    log(`validate: ${stack.name}: valid`);
  });
  return stacks.map((s) => s.name);
}

export interface PlanOptions extends RunOptions {
  /** Plan against the real backend with the caller's credentials instead of offline. */
  online?: boolean;
  /** Only these workspaces (default: every workspace each stack is deployed in). */
  workspaces?: string[];
  /** Only these stacks. */
  stacks?: string[];
}

/** Credentials that let the provider configure itself offline; no AWS API is called with -refresh=false. */
export const OFFLINE_ENV = {
  AWS_ACCESS_KEY_ID: "offline-plan",
  AWS_SECRET_ACCESS_KEY: "offline-plan",
  AWS_EC2_METADATA_DISABLED: "true",
};

async function planStack(stack: SynthesizedStack, workspace: string, options: PlanOptions): Promise<PlanSummary> {
  const label = `${stack.name}/${workspace}`;
  const run = { cwd: stack.dir, label, echo: options.echo, env: options.online ? {} : OFFLINE_ENV };
  await must(`terraform workspace select ${workspace} in ${stack.name}`, terraform(["workspace", "select", "-or-create", workspace], run));
  const planFile = `${workspace}.tfplan`;
  const args = ["plan", "-input=false", "-no-color", `-out=${planFile}`];
  if (!options.online) args.push("-refresh=false", "-lock=false");
  await must(`terraform plan in ${label}`, terraform(args, run));
  const shown = await must(`terraform show ${planFile} in ${label}`, terraform(["show", "-json", "-no-color", planFile], run));
  return summarizePlan(stack.name, workspace, JSON.parse(shown.stdout));
}

export async function planAll(outdir: string, options: PlanOptions = {}): Promise<PlanSummary[]> {
  const log = options.log ?? console.log;
  const all = readSynthesized(outdir);
  const stacks = all.filter((s) => !options.stacks || options.stacks.includes(s.name));
  const knownWorkspaces = new Set(all.flatMap((s) => s.workspaces));
  const summaries: PlanSummary[] = [];

  // A stack is planned once the stacks it reads state from are planned; independent ones run two at a time.
  await inOrder(stacks, (s) => s.dependencies, async (stack) => {
    // A workspace no stack is deployed in is planned anyway, so that Terraform's own guard
    // refuses it with its message; a known one is planned only where the stack is deployed.
    const workspaces = options.workspaces ? options.workspaces.filter((w) => stack.workspaces.includes(w) || !knownWorkspaces.has(w)) : stack.workspaces;
    log(`plan: ${stack.name}: terraform init (${options.online ? "S3 backend" : "local backend, offline mirror"})`);
    await init(["init", "-input=false", "-no-color"], { cwd: stack.dir, label: stack.name, echo: options.echo }, `terraform init in ${stack.name}`);
    for (const workspace of workspaces) {
      log(`plan: ${stack.name}: workspace ${workspace}: terraform plan${options.online ? "" : " -refresh=false"}`);
      const summary = await planStack(stack, workspace, options);
      const c = summary.counts;
      log(`plan: ${stack.name}/${workspace}: ${c.create} to add, ${c.update} to change, ${c.replace} to replace, ${c.delete} to destroy`);
      summaries.push(summary);
      if (!options.online) writeEmptyState(stack, workspace);
    }
  });
  const order = (s: PlanSummary) => stacks.findIndex((x) => x.name === s.stack);
  return summaries.sort((a, b) => order(a) - order(b) || a.workspace.localeCompare(b.workspace));
}

/**
 * Offline, nothing is applied, so a stack that reads another stack's outputs would find no state
 * at all and fail. An empty state says what is true offline: the other stack has no resources
 * yet, and the reader's `defaults` stand in for its outputs.
 */
function writeEmptyState(stack: SynthesizedStack, workspace: string) {
  const path = join(stack.dir, "terraform.tfstate.d", workspace, "terraform.tfstate");
  if (existsSync(path)) return;
  const state = { version: 4, serial: 0, lineage: randomUUID(), outputs: {}, resources: [] };
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`);
}

export function writeFileIn(outdir: string, name: string, text: string): string {
  const path = join(outdir, name);
  writeFileSync(path, text);
  return path;
}
