// Runs the guardrail rules over synthesized stacks; waivers (config/guardrail-waivers.json) let
// a named resource break a named rule, with the reason written down next to it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TerraformJson } from "../synthesized";
import { RULES, type Rule } from "./rules";

export { RULES, type Rule } from "./rules";

export interface Finding {
  stack: string;
  address: string;
  path: string;
  rule: string;
  message: string;
  fix: string;
}

export interface Waiver {
  rule: string;
  /** Construct path without the stack name; every stack's resource at that path is waived. */
  path: string;
  reason: string;
}

export interface GuardrailReport {
  findings: Finding[];
  waived: Array<Finding & { reason: string }>;
  /** Waivers that matched nothing: the resource is gone or fixed, so the waiver should go too. */
  unusedWaivers: Waiver[];
}

export const WAIVERS_PATH = fileURLToPath(new URL("../../../config/guardrail-waivers.json", import.meta.url));

export class WaiverError extends Error {
  readonly code = "WAIVER_INVALID";
}

export function loadWaivers(path = WAIVERS_PATH, rules: Rule[] = RULES): Waiver[] {
  const { waivers } = JSON.parse(readFileSync(path, "utf8")) as { waivers: Waiver[] };
  for (const [i, w] of waivers.entries()) {
    if (!rules.some((r) => r.id === w.rule)) throw new WaiverError(`${path}: waivers[${i}].rule "${w.rule}" is not a guardrail rule`);
    if (!w.path) throw new WaiverError(`${path}: waivers[${i}] names no path`);
    if (!w.reason || w.reason.trim().length < 10) throw new WaiverError(`${path}: waivers[${i}] (${w.rule} ${w.path}) needs a reason`);
  }
  return waivers;
}

export function checkStacks(stacks: Array<{ name: string; json: TerraformJson }>, waivers: Waiver[] = [], rules: Rule[] = RULES): GuardrailReport {
  const report: GuardrailReport = { findings: [], waived: [], unusedWaivers: [] };
  const used = new Set<Waiver>();
  for (const stack of stacks) {
    for (const rule of rules) {
      for (const v of rule.check(stack.json)) {
        const finding: Finding = { stack: stack.name, ...v, rule: rule.id, fix: rule.fix };
        const waiver = waivers.find((w) => w.rule === rule.id && w.path === v.path);
        if (waiver) {
          used.add(waiver);
          report.waived.push({ ...finding, reason: waiver.reason });
        } else report.findings.push(finding);
      }
    }
  }
  report.unusedWaivers = waivers.filter((w) => !used.has(w));
  return report;
}
