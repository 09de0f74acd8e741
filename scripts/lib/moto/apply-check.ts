// The apply-check: every stack of a workspace applied to moto with real `terraform apply` in
// dependency order, then `terraform plan -detailed-exitcode` on every stack must find nothing to
// change except moto's listed gaps, then `terraform destroy` must remove everything.
import { rmSync } from "node:fs";
import { MOTO_GAPS } from "../../../stacks/moto-target";
import { synth } from "../synth";
import { readSynthesized, type SynthesizedStack } from "../synthesized";
import { inOrder, inParallel } from "../terraform-runs";
import { stateResources } from "../terraform-json";
import { certificateValidationProblems, judgeChanges, staleGaps, type GapMatch } from "./gaps";
import { startMoto, type RunningMoto } from "./server";
import {
  applyStack,
  cdktfDeploy,
  createPrerequisites,
  destroyPrerequisites,
  destroyStack,
  environmentOf,
  planStack,
  selectWorkspace,
  showState,
  writeStackOverride,
  type Prerequisites,
} from "./terraform";

export class ApplyCheckFailed extends Error {
  readonly code = "APPLY_CHECK_FAILED";
  constructor(readonly problems: string[]) {
    super(`apply-check failed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** What is deployed on moto while the check's `afterApply` runs. */
export interface AppliedWorkspace {
  moto: RunningMoto;
  workspace: string;
  outdir: string;
  /** In dependency order. */
  stacks: SynthesizedStack[];
}

export interface ApplyCheckOptions {
  workspace: string;
  /** Where the moto target is synthesized (a clean directory of its own). */
  outdir: string;
  echo?: boolean;
  log?: (line: string) => void;
  /**
   * `terraform` (default): terraform apply per stack, in dependency order. `cdktf`: one
   * `cdktf deploy` of every stack with the pinned CLI, which synthesizes main.ts itself.
   */
  deployWith?: "terraform" | "cdktf";
  /** Runs once the apply and the second plan are done, before the destroy. */
  afterApply?: (applied: AppliedWorkspace) => Promise<void>;
}

export interface StackTimings {
  stack: string;
  resources: number;
  /** Undefined when one `cdktf deploy` applied every stack. */
  applySeconds?: number;
  planSeconds: number;
  destroySeconds: number;
}

export interface ApplyCheckReport {
  stacks: StackTimings[];
  /** Changes the second plan showed that are moto's listed gaps. */
  explained: GapMatch[];
  /** Wall time of each phase, in seconds. */
  phases: { synth: number; moto: number; prerequisites: number; apply: number; plan: number; destroy: number; total: number };
}

const seconds = (since: number) => Number(((performance.now() - since) / 1000).toFixed(1));

export async function applyCheck(options: ApplyCheckOptions): Promise<ApplyCheckReport> {
  const log = options.log ?? console.log;
  const echo = options.echo ?? false;
  const { workspace } = options;
  const begin = performance.now();

  let t = performance.now();
  rmSync(options.outdir, { recursive: true, force: true });
  synth({ target: "moto", outdir: options.outdir });
  const stacks = readSynthesized(options.outdir).filter((s) => s.workspaces.includes(workspace));
  if (stacks.length === 0) throw new Error(`no stack is deployed in workspace ${workspace}`);
  const synthSeconds = seconds(t);
  log(`apply-check: workspace ${workspace}: ${stacks.map((s) => s.name).join(", ")} (target moto, ${synthSeconds} s)`);
  const leftOut = MOTO_GAPS.filter((g) => g.handling === "left-out");
  for (const gap of leftOut) log(`apply-check: left out by the moto target: ${gap.resourceType}.${gap.attribute} (${gap.id})`);

  t = performance.now();
  const moto = await startMoto({ accountId: environmentOf(stacks[0], workspace).accountId });
  const motoSeconds = seconds(t);
  log(`apply-check: moto_server on ${moto.endpoint}, account ${moto.accountId}`);
  const timings = new Map<string, StackTimings>(stacks.map((s) => [s.name, { stack: s.name, resources: 0, planSeconds: 0, destroySeconds: 0 }]));
  const problems: string[] = [];
  const explained: GapMatch[] = [];
  const phases = { synth: synthSeconds, moto: motoSeconds, prerequisites: 0, apply: 0, plan: 0, destroy: 0, total: 0 };
  try {
    t = performance.now();
    const prerequisites: Prerequisites = await createPrerequisites(options.outdir, stacks, workspace, moto, echo);
    phases.prerequisites = seconds(t);
    log(`apply-check: prerequisites: hosted zones ${[...prerequisites.zoneIds].map(([config, id]) => `${config} -> ${id}`).join(", ")}`);

    t = performance.now();
    const applied = async (stack: SynthesizedStack) => {
      const state = await showState(stack, workspace, moto);
      timings.get(stack.name)!.resources = stateResources(state).length;
      problems.push(...certificateValidationProblems(state).map((p) => `${stack.name}: ${p}`));
    };
    if (options.deployWith === "cdktf") {
      await inParallel(stacks, 2, async (stack) => {
        writeStackOverride(stack, workspace, moto, prerequisites);
        await selectWorkspace(stack, workspace, moto, echo);
      });
      log(`apply-check: cdktf deploy ${stacks.map((s) => s.name).join(" ")}`);
      await cdktfDeploy(options.outdir, stacks, moto, echo);
      for (const stack of stacks) await applied(stack);
      log(`apply-check: cdktf deploy: ${stacks.map((s) => `${s.name} ${timings.get(s.name)!.resources}`).join(", ")} resources in ${seconds(t)} s`);
    } else {
      await inOrder(stacks, (s) => s.dependencies, async (stack) => {
        writeStackOverride(stack, workspace, moto, prerequisites);
        const started = performance.now();
        log(`apply-check: ${stack.name}: terraform apply`);
        await applyStack(stack, workspace, moto, echo);
        await applied(stack);
        const timing = timings.get(stack.name)!;
        timing.applySeconds = seconds(started);
        log(`apply-check: ${stack.name}: ${timing.resources} resources applied in ${timing.applySeconds} s`);
      });
    }
    phases.apply = seconds(t);

    t = performance.now();
    const appliedTypes = new Set<string>();
    await inParallel(stacks, 2, async (stack) => {
      const started = performance.now();
      const { exitCode, plan } = await planStack(stack, workspace, moto, { refresh: true, echo });
      for (const type of stateResources(plan.prior_state ?? {}).map((r) => r.type)) appliedTypes.add(type);
      const judged = judgeChanges(plan);
      explained.push(...judged.explained);
      for (const change of judged.unexpected) {
        const what = change.attributes.length > 0 ? `${change.actions.join("/")} of ${change.attributes.join(", ")}` : change.actions.join("/");
        problems.push(`${stack.name}: the plan after apply wants to ${what} on ${change.address}`);
      }
      timings.get(stack.name)!.planSeconds = seconds(started);
      log(
        `apply-check: ${stack.name}: terraform plan -detailed-exitcode: exit ${exitCode}, ${judged.unexpected.length} unexpected changes, ${judged.explained.length} from moto's listed gaps`,
      );
    });
    for (const gap of staleGaps(appliedTypes, explained)) {
      problems.push(`moto gap "${gap.id}" (${gap.resourceType}.${gap.attribute}) no longer shows: remove it from stacks/moto-target.ts`);
    }
    phases.plan = seconds(t);

    if (options.afterApply) await options.afterApply({ moto, workspace, outdir: options.outdir, stacks });

    t = performance.now();
    const dependents = (stack: SynthesizedStack) => stacks.filter((s) => s.dependencies.includes(stack.name)).map((s) => s.name);
    await inOrder([...stacks].reverse(), dependents, async (stack) => {
      const started = performance.now();
      log(`apply-check: ${stack.name}: terraform destroy`);
      await destroyStack(stack, workspace, moto, echo);
      timings.get(stack.name)!.destroySeconds = seconds(started);
      log(`apply-check: ${stack.name}: destroyed in ${timings.get(stack.name)!.destroySeconds} s`);
    });
    await destroyPrerequisites(prerequisites, moto, echo);
    phases.destroy = seconds(t);
  } finally {
    await moto.stop();
  }
  phases.total = seconds(begin);
  if (problems.length > 0) throw new ApplyCheckFailed(problems);
  return { stacks: [...timings.values()], explained, phases };
}
