// Turns `terraform show -json <plan>` into what a reviewer needs: counts per action, the
// resources, and data-loss warnings first when a stateful resource would be replaced or destroyed.

export type Action = "create" | "update" | "replace" | "delete";

export interface ResourceChange {
  address: string;
  type: string;
  action: Action;
}

export interface PlanSummary {
  stack: string;
  workspace: string;
  changes: ResourceChange[];
  counts: Record<Action, number>;
  dataLoss: ResourceChange[];
}

/** Resource types whose replacement or destruction loses data (or a key nothing else can decrypt). */
export const STATEFUL_TYPES = new Set([
  "aws_dynamodb_table",
  "aws_dynamodb_table_replica",
  "aws_s3_bucket",
  "aws_kinesis_stream",
  "aws_kms_key",
  "aws_cloudwatch_log_group",
  "aws_sns_topic",
]);

interface PlanJson {
  resource_changes?: { address: string; type: string; mode: string; change: { actions: string[] } }[];
}

function actionOf(actions: string[]): Action | undefined {
  const key = [...actions].sort().join(",");
  switch (key) {
    case "create":
      return "create";
    case "update":
      return "update";
    case "delete":
      return "delete";
    case "create,delete":
      return "replace";
    default:
      return undefined; // no-op, read
  }
}

export function summarizePlan(stack: string, workspace: string, plan: PlanJson): PlanSummary {
  const changes: ResourceChange[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const action = actionOf(rc.change.actions);
    if (action) changes.push({ address: rc.address, type: rc.type, action });
  }
  const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const change of changes) counts[change.action]++;
  const dataLoss = changes.filter((c) => STATEFUL_TYPES.has(c.type) && (c.action === "replace" || c.action === "delete"));
  return { stack, workspace, changes, counts, dataLoss };
}

const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "-/+", delete: "-" };

export function renderMarkdown(summaries: PlanSummary[], heading: string): string {
  const lines = [`# ${heading}`, ""];
  const losses = summaries.flatMap((s) => s.dataLoss.map((c) => ({ ...c, where: `${s.stack} / ${s.workspace}` })));
  if (losses.length > 0) {
    lines.push("## :warning: Data loss", "", "These stateful resources would be replaced or destroyed:", "");
    for (const loss of losses) lines.push(`- **${loss.action}** \`${loss.address}\` (${loss.where})`);
    lines.push("");
  }
  lines.push("| stack | workspace | add | change | replace | destroy |", "|---|---|---:|---:|---:|---:|");
  for (const s of summaries) {
    lines.push(`| ${s.stack} | ${s.workspace} | ${s.counts.create} | ${s.counts.update} | ${s.counts.replace} | ${s.counts.delete} |`);
  }
  for (const s of summaries) {
    if (s.changes.length === 0) continue;
    lines.push("", `<details><summary>${s.stack} / ${s.workspace}: ${s.changes.length} changes</summary>`, "", "```diff");
    for (const c of s.changes) lines.push(`${SYMBOL[c.action].padEnd(3)} ${c.address}`);
    lines.push("```", "</details>");
  }
  return `${lines.join("\n")}\n`;
}
