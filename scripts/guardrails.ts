// npm run guardrails: synthesizes every stack (target aws: what gets deployed) and checks it
// against the guardrail rules (scripts/lib/guardrails/rules.ts). Options: npm run guardrails -- --help.
import { defineCli } from "./lib/cli";

const cli = defineCli({
  command: "npm run guardrails --",
  summary:
    "Synthesizes every stack (target aws) and checks it against the guardrail rules. Prints each finding with the stack, " +
    "the Terraform address, the rule id and the fix, and the waivers of config/guardrail-waivers.json that applied or matched nothing.",
  options: {
    outdir: { type: "string", value: "<dir>", description: "where to synthesize (default cdktf.out)" },
  },
  notes: ["exit code: 0 without findings, 1 with findings or when synth fails, 2 for a mistake on the command line"],
});

cli.main(async ({ values }) => {
  const [{ checkStacks, loadWaivers, WAIVERS_PATH }, { synth }, { readSynthesized }] = await Promise.all([
    import("./lib/guardrails"),
    import("./lib/synth"),
    import("./lib/synthesized"),
  ]);
  const { outdir } = synth({ target: "aws", outdir: values.outdir });
  const stacks = readSynthesized(outdir);
  const report = checkStacks(stacks, loadWaivers());
  for (const w of report.waived) console.log(`waived  ${w.stack} ${w.address} [${w.rule}]: ${w.reason}`);
  for (const w of report.unusedWaivers) console.log(`unused waiver [${w.rule}] ${w.path}: it matches nothing; remove it from ${WAIVERS_PATH}`);
  for (const f of report.findings) {
    console.log(`\nFINDING ${f.stack} ${f.address} [${f.rule}]\n  ${f.message}\n  fix: ${f.fix}`);
  }
  console.log(`\nguardrails: ${stacks.length} stacks, ${report.findings.length} findings, ${report.waived.length} waived`);
  return report.findings.length > 0 ? 1 : 0;
});
