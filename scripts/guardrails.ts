// npm run guardrails [-- --outdir DIR]
// Synthesizes every stack (target aws: what gets deployed) and checks it against the guardrail
// rules (scripts/lib/guardrails/rules.ts). Prints each finding with the stack, the Terraform
// address, the rule id and the fix; exits 1 when there is any.
import { parseArgs } from "node:util";
import { ConfigError } from "../stacks/config";
import { checkStacks, loadWaivers, WAIVERS_PATH } from "./lib/guardrails";
import { synth } from "./lib/synth";
import { readSynthesized } from "./lib/synthesized";

const { values } = parseArgs({ options: { outdir: { type: "string" } } });
try {
  const { outdir } = synth({ target: "aws", outdir: values.outdir });
  const stacks = readSynthesized(outdir);
  const report = checkStacks(stacks, loadWaivers());
  for (const w of report.waived) console.log(`waived  ${w.stack} ${w.address} [${w.rule}]: ${w.reason}`);
  for (const w of report.unusedWaivers) console.log(`unused waiver [${w.rule}] ${w.path}: it matches nothing; remove it from ${WAIVERS_PATH}`);
  for (const f of report.findings) {
    console.log(`\nFINDING ${f.stack} ${f.address} [${f.rule}]\n  ${f.message}\n  fix: ${f.fix}`);
  }
  console.log(`\nguardrails: ${stacks.length} stacks, ${report.findings.length} findings, ${report.waived.length} waived`);
  process.exit(report.findings.length > 0 ? 1 : 0);
} catch (error) {
  console.error(`guardrails failed: ${error instanceof ConfigError ? error.message : (error as Error).stack}`);
  process.exit(2);
}
