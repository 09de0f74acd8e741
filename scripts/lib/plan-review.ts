// Plan review between two revisions: the base revision's stacks (target moto) are applied to
// moto_server, and the working tree's stacks are planned against the state that apply left,
// offline (-refresh=false), so the plan shows the updates, replacements and destroys a merge
// would make, instead of creating everything against empty state.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkStacks, loadWaivers, type GuardrailReport } from "./guardrails";
import { gapsFor } from "./moto/gaps";
import { startMoto, type RunningMoto } from "./moto/server";
import { applyStack, createPrerequisites, environmentOf, motoEnv, selectWorkspace, writeStackOverride, type Prerequisites } from "./moto/terraform";
import { summarizePlan, type PlanSummary } from "./plan-summary";
import { readSynthesized, type SynthesizedStack } from "./synthesized";
import { terraform } from "./terraform-cli";
import type { PlanJson } from "./terraform-json";
import { inOrder, must } from "./terraform-runs";

export class PlanReviewFailed extends Error {
  readonly code = "PLAN_REVIEW_FAILED";
}

export interface PlanReviewOptions {
  /** The git repository; its working tree is the head revision. */
  repoDir: string;
  /** The base revision (any git ref). */
  base: string;
  workspaces: string[];
  /** A directory of the review's own (emptied first). */
  workdir: string;
  echo?: boolean;
  log?: (line: string) => void;
}

export interface PlanReview {
  baseCommit: string;
  summaries: PlanSummary[];
  /** Guardrail findings of the head revision, target aws (what gets deployed). */
  guardrails: GuardrailReport;
}

/** Account moto acts in for stacks that name none (no environments of their own). */
const FALLBACK_ACCOUNT = "123456789012";

function git(repoDir: string, args: string[]): string {
  const result = spawnSync("git", ["-C", repoDir, ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new PlanReviewFailed(`git ${args.join(" ")} failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout.trim();
}

/**
 * The files of `commit` in `dir`, with the working tree's node_modules (the base is synthesized
 * with them) hard-linked in: a symlink would put node_modules elsewhere relative to the sources,
 * and the Lambda zips (their source maps) would differ from the same sources in the working tree.
 */
function checkout(repoDir: string, commit: string, dir: string) {
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, "..", "base.tar");
  git(repoDir, ["archive", "--format=tar", "-o", archive, commit]);
  execFileSync("tar", ["-xf", archive, "-C", dir]);
  rmSync(archive);
  // Without node_modules of its own, the app resolves its packages from a directory above.
  if (existsSync(join(repoDir, "node_modules"))) execFileSync("cp", ["-al", join(repoDir, "node_modules"), join(dir, "node_modules")]);
}

/**
 * Synthesizes the revision in `srcDir` as `cdktf synth` does: its cdktf.json `app` command with
 * CDKTF_OUTDIR, for the deploy target given in PLATFORM_TARGET.
 */
function synthRevision(srcDir: string, outdir: string, target: string, what: string): SynthesizedStack[] {
  const app = (JSON.parse(readFileSync(join(srcDir, "cdktf.json"), "utf8")) as { app?: string }).app;
  if (!app) throw new PlanReviewFailed(`${what}: cdktf.json has no "app" command`);
  rmSync(outdir, { recursive: true, force: true });
  const result = spawnSync(app, {
    shell: true,
    cwd: srcDir,
    encoding: "utf8",
    env: { ...process.env, CDKTF_OUTDIR: outdir, PLATFORM_TARGET: target, CHECKPOINT_DISABLE: "1" },
  });
  if (result.status !== 0) {
    const output = (result.stderr || result.stdout).trim();
    const unknownTarget = output.split("\n").find((line) => /^\w*Error: .*is not a deploy target/.test(line));
    if (unknownTarget) throw new PlanReviewFailed(`${what} predates PLATFORM_TARGET=${target} (${unknownTarget.replace(/^\w*Error: /, "")}); review against a later base`);
    throw new PlanReviewFailed(`${what}: synth (${app}, PLATFORM_TARGET=${target}) failed:\n${output.split("\n").slice(-40).join("\n")}`);
  }
  return readSynthesized(outdir);
}

/** A stack without environments of its own is deployed in every workspace. */
const deployedIn = (workspace: string) => (s: SynthesizedStack) => s.workspaces.length === 0 || s.workspaces.includes(workspace);

const withEnvironment = (workspace: string) => (s: SynthesizedStack) => s.workspaces.includes(workspace);

function writeOverrides(stacks: SynthesizedStack[], workspace: string, moto: RunningMoto, prerequisites: Prerequisites) {
  for (const stack of stacks) writeStackOverride(stack, workspace, moto, prerequisites);
}

async function planAgainstState(stack: SynthesizedStack, workspace: string, moto: RunningMoto, args: string[], echo: boolean): Promise<PlanJson> {
  const run = { cwd: stack.dir, label: `${stack.name}/${workspace}`, env: motoEnv(moto), echo };
  const planFile = `${workspace}.review.tfplan`;
  await must(`terraform plan in ${run.label}`, terraform(["plan", "-input=false", "-no-color", "-refresh=false", "-lock=false", `-out=${planFile}`, ...args], run));
  const shown = await must(`terraform show in ${run.label}`, terraform(["show", "-json", "-no-color", planFile], run));
  return JSON.parse(shown.stdout) as PlanJson;
}

/** Changes moto's listed gaps explain: the base's state lacks a value moto did not store. */
function motoGap(type: string, attribute: string): string | undefined {
  const gap = gapsFor(type, "not-stored").find((g) => g.attribute === attribute);
  return gap && `moto does not store ${type}.${attribute}, so the base's state lacks it (stacks/moto-target.ts, ${gap.id})`;
}

async function reviewWorkspace(base: SynthesizedStack[], head: SynthesizedStack[], workspace: string, options: PlanReviewOptions): Promise<PlanSummary[]> {
  const log = options.log ?? console.log;
  const echo = options.echo ?? false;
  const baseStacks = base.filter(deployedIn(workspace));
  const headStacks = head.filter(deployedIn(workspace));
  const withEnv = baseStacks.filter(withEnvironment(workspace));
  const moto = await startMoto({ accountId: withEnv.length > 0 ? environmentOf(withEnv[0], workspace).accountId : FALLBACK_ACCOUNT });
  try {
    const prerequisites = await createPrerequisites(options.workdir, withEnv, workspace, moto, echo);
    writeOverrides(withEnv, workspace, moto, prerequisites);
    log(`plan: base: terraform apply of ${baseStacks.map((s) => s.name).join(", ")} (workspace ${workspace}) on moto ${moto.endpoint}`);
    await inOrder(baseStacks, (s) => s.dependencies, (stack) => applyStack(stack, workspace, moto, echo));

    writeOverrides(headStacks.filter(withEnvironment(workspace)), workspace, moto, prerequisites);
    const summaries = new Map<string, PlanSummary>();
    await inOrder(headStacks, (s) => s.dependencies, async (stack) => {
      // Initialized first: terraform init would take a state it finds for one to migrate.
      await selectWorkspace(stack, workspace, moto, echo);
      const applied = baseStacks.find((b) => b.name === stack.name);
      const state = join("terraform.tfstate.d", workspace, "terraform.tfstate");
      if (applied) copyFileSync(join(applied.dir, state), join(stack.dir, state));
      log(`plan: head: ${stack.name}/${workspace}: terraform plan -refresh=false against the base's state`);
      summaries.set(stack.name, summarizePlan(stack.name, workspace, await planAgainstState(stack, workspace, moto, [], echo), { ignore: motoGap }));
    });
    // A stack the head no longer has: everything it deployed would be destroyed.
    for (const removed of baseStacks.filter((b) => !headStacks.some((h) => h.name === b.name))) {
      log(`plan: head: ${removed.name}/${workspace}: removed; terraform plan -destroy`);
      summaries.set(removed.name, summarizePlan(`${removed.name} (removed)`, workspace, await planAgainstState(removed, workspace, moto, ["-destroy"], echo)));
    }
    return [...headStacks, ...baseStacks].map((s) => summaries.get(s.name)).filter((s, i, all): s is PlanSummary => !!s && all.indexOf(s) === i);
  } finally {
    await moto.stop();
  }
}

export async function planReview(options: PlanReviewOptions): Promise<PlanReview> {
  const log = options.log ?? console.log;
  let baseCommit: string;
  try {
    baseCommit = git(options.repoDir, ["rev-parse", "--verify", "--quiet", `${options.base}^{commit}`]);
  } catch {
    throw new PlanReviewFailed(`--base ${options.base} is not a revision of ${options.repoDir} (a branch, tag or commit; in CI, fetch it first)`);
  }
  rmSync(options.workdir, { recursive: true, force: true });
  mkdirSync(options.workdir, { recursive: true });

  const baseSrc = join(options.workdir, "base-src");
  checkout(options.repoDir, baseCommit, baseSrc);
  log(`plan: base ${options.base} (${baseCommit.slice(0, 12)}): synth, target moto`);
  const base = synthRevision(baseSrc, join(options.workdir, "base"), "moto", `base revision ${options.base}`);
  log("plan: head (working tree): synth, target moto");
  const head = synthRevision(options.repoDir, join(options.workdir, "head"), "moto", "working tree");

  const summaries: PlanSummary[] = [];
  for (const workspace of options.workspaces) summaries.push(...(await reviewWorkspace(base, head, workspace, options)));

  log("plan: head (working tree): guardrails, target aws");
  const deployed = synthRevision(options.repoDir, join(options.workdir, "head-aws"), "aws", "working tree");
  const waiversPath = join(options.repoDir, "config", "guardrail-waivers.json");
  const guardrails = checkStacks(deployed, existsSync(waiversPath) ? loadWaivers(waiversPath) : []);
  return { baseCommit, summaries, guardrails };
}
