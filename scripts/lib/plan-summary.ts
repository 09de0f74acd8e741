// Turns `terraform show -json <plan>` into what a reviewer needs: counts per action, data-loss
// warnings first when a stateful resource would be replaced or destroyed, and per changed
// resource the attributes that change (policies as JSON diffs, sensitive values masked) and why
// a replacement is needed (replace_paths). Rendered as Markdown that fits a GitHub comment.
import { createTwoFilesPatch } from "diff";
import { isDeepStrictEqual } from "node:util";
import type { GuardrailReport } from "./guardrails";
import type { PlanJson, PlanResourceChange } from "./terraform-json";

export type Action = "create" | "update" | "replace" | "delete";

export interface AttributeChange {
  attribute: string;
  /** Masked where Terraform marks the value sensitive or the name says it is a secret. */
  before: unknown;
  /** `(known after apply)` when Terraform does not know it yet. */
  after: unknown;
}

export interface ResourceChange {
  address: string;
  type: string;
  action: Action;
  /** For updates and replacements: the attributes that change. */
  attributes: AttributeChange[];
  /** For replacements: the attributes that force it (`replace_paths`). */
  replacedBy: string[];
}

export interface PlanSummary {
  stack: string;
  workspace: string;
  changes: ResourceChange[];
  counts: Record<Action, number>;
  dataLoss: ResourceChange[];
  /** Changes left out of `changes` by `SummarizeOptions.ignore`, with the reason. */
  ignored: { address: string; attribute: string; reason: string }[];
}

export interface SummarizeOptions {
  /** A reason to leave an attribute's change out (e.g. an emulator that cannot store it). */
  ignore?: (type: string, attribute: string) => string | undefined;
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

const SENSITIVE = "(sensitive value)";
const UNKNOWN = "(known after apply)";
/** Names of values that are secrets whatever the provider's schema says. */
const SECRET_NAME = /(password|secret|token|private_?key|credential)/i;

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

/** `value` with every part Terraform marks sensitive (or a secret's name) replaced by SENSITIVE. */
function masked(value: unknown, sensitive: unknown, name = ""): unknown {
  if (sensitive === true || (SECRET_NAME.test(name) && value !== null && typeof value !== "object")) return SENSITIVE;
  if (Array.isArray(value)) return value.map((v, i) => masked(v, Array.isArray(sensitive) ? sensitive[i] : undefined, name));
  if (value && typeof value === "object") {
    const marks = (sensitive && typeof sensitive === "object" ? sensitive : {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, marks[k], k)]));
  }
  return value;
}

function attributeChanges(change: PlanResourceChange["change"]): AttributeChange[] {
  const before = change.before ?? {};
  const after = change.after ?? {};
  const unknown = (change.after_unknown ?? {}) as Record<string, unknown>;
  const beforeSensitive = (change.before_sensitive ?? {}) as Record<string, unknown>;
  const afterSensitive = (change.after_sensitive ?? {}) as Record<string, unknown>;
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter((n) => unknown[n] === true || !isDeepStrictEqual(before[n] ?? null, after[n] ?? null))
    .map((n) => ({
      attribute: n,
      before: masked(before[n] ?? null, beforeSensitive[n], n),
      after: unknown[n] === true ? UNKNOWN : masked(after[n] ?? null, afterSensitive[n], n),
    }));
}

export function summarizePlan(stack: string, workspace: string, plan: PlanJson, options: SummarizeOptions = {}): PlanSummary {
  const changes: ResourceChange[] = [];
  const ignored: PlanSummary["ignored"] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const action = actionOf(rc.change.actions);
    if (!action) continue;
    let attributes = action === "update" || action === "replace" ? attributeChanges(rc.change) : [];
    if (options.ignore) {
      const kept = attributes.filter((a) => {
        const reason = options.ignore!(rc.type, a.attribute);
        if (reason) ignored.push({ address: rc.address, attribute: a.attribute, reason });
        return !reason;
      });
      // An update of ignored attributes only is no change at all.
      if (action === "update" && kept.length === 0 && attributes.length > 0) continue;
      attributes = kept;
    }
    const replacedBy = (rc.change.replace_paths ?? []).map((path) => path.map((p) => (typeof p === "number" ? `[${p}]` : p)).join(".").replace(/\.\[/g, "["));
    changes.push({ address: rc.address, type: rc.type, action, attributes, replacedBy });
  }
  const counts: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const change of changes) counts[change.action]++;
  const dataLoss = changes.filter((c) => STATEFUL_TYPES.has(c.type) && (c.action === "replace" || c.action === "delete"));
  return { stack, workspace, changes, counts, dataLoss, ignored };
}

// --- Markdown -------------------------------------------------------------------------------

/** GitHub refuses comments over 65,536 characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface RenderOptions {
  /** Lines under the heading: how the plan was made. */
  notes?: string[];
  /** Guardrail findings of the revision planned. */
  guardrails?: GuardrailReport;
  /** Characters the Markdown may take; resources that do not fit are named in `fullSummary`. */
  maxChars?: number;
  /** Where the summary without a size cap is (a path or an artifact name). */
  fullSummary?: string;
}

const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "-/+", delete: "-" };
const VERB: Record<Action, string> = { create: "create", update: "update", replace: "replace", delete: "destroy" };

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function parsedJson(value: unknown): unknown {
  if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Objects with their keys in order, so that a diff shows what changed and nothing else. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
  return value;
}

const pretty = (value: unknown) => `${JSON.stringify(sortedKeys(value), null, 2)}\n`;

/** A unified diff of two structured values (JSON documents in strings are read as JSON). */
function structuredDiff(attribute: string, before: unknown, after: unknown): string {
  const patch = createTwoFilesPatch(attribute, attribute, pretty(parsedJson(before) ?? before), pretty(parsedJson(after) ?? after), "", "", { context: 3 });
  const body = patch.split("\n").slice(4).join("\n").trimEnd(); // without the ===/---/+++ header
  return `${code(attribute)}:\n\n\`\`\`diff\n${body}\n\`\`\``;
}

const isStructured = (value: unknown) => (value !== null && typeof value === "object") || parsedJson(value) !== undefined;

function renderAttributes(change: ResourceChange): string {
  const scalars = change.attributes.filter((a) => !isStructured(a.before) && !isStructured(a.after));
  const structured = change.attributes.filter((a) => !scalars.includes(a));
  const parts: string[] = [];
  if (scalars.length > 0) {
    const cell = (v: unknown) => (v === SENSITIVE || v === UNKNOWN ? `_${v}_` : code(JSON.stringify(v)));
    parts.push(
      ["| attribute | before | after |", "|---|---|---|", ...scalars.map((a) => `| ${code(a.attribute)}${change.replacedBy.includes(a.attribute) ? " (forces replacement)" : ""} | ${cell(a.before)} | ${cell(a.after)} |`)].join(
        "\n",
      ),
    );
  }
  for (const a of structured) parts.push(structuredDiff(a.attribute + (change.replacedBy.includes(a.attribute) ? " (forces replacement)" : ""), a.before, a.after));
  return parts.join("\n\n");
}

const replacementReason = (change: ResourceChange) =>
  change.replacedBy.length > 0 ? `: ${change.replacedBy.map(code).join(", ")} ${change.replacedBy.length > 1 ? "force" : "forces"} replacement` : "";

function resourceTitle(change: ResourceChange): string {
  return `${code(SYMBOL[change.action])} ${code(change.address)} ${VERB[change.action]}${replacementReason(change)}`;
}

/**
 * A replacement recomputes every attribute the provider sets: those, and arguments the new
 * configuration leaves unset, are counted rather than listed.
 */
function shownAttributes(change: ResourceChange): { shown: AttributeChange[]; recomputed: number } {
  if (change.action !== "replace") return { shown: change.attributes, recomputed: 0 };
  const shown = change.attributes.filter((a) => change.replacedBy.includes(a.attribute) || (a.after !== UNKNOWN && a.after !== null));
  return { shown, recomputed: change.attributes.length - shown.length };
}

function resourceDetails(change: ResourceChange): string {
  if (change.attributes.length === 0) return `- ${resourceTitle(change)}`;
  const { shown, recomputed } = shownAttributes(change);
  const note = recomputed > 0 ? `\n\n_${recomputed} more attributes are set anew by the provider or left unset._` : "";
  return `<details><summary>${resourceTitle(change)}</summary>\n\n${renderAttributes({ ...change, attributes: shown })}${note}\n\n</details>`;
}

export function renderMarkdown(summaries: PlanSummary[], heading: string, options: RenderOptions = {}): string {
  const head: string[] = [`# ${heading}`, ""];
  if (options.notes?.length) head.push(...options.notes, "");

  const losses = summaries.flatMap((s) => s.dataLoss.map((c) => ({ ...c, where: `${s.stack} / ${s.workspace}` })));
  if (losses.length > 0) {
    head.push("## :warning: Data loss", "", "These stateful resources would be replaced or destroyed, and their data with them:", "");
    for (const loss of losses) head.push(`- **${VERB[loss.action]}** ${code(loss.address)} (${loss.where})${replacementReason(loss)}`);
    head.push("");
  }

  head.push("| stack | workspace | add | change | replace | destroy |", "|---|---|---:|---:|---:|---:|");
  for (const s of summaries) {
    head.push(`| ${s.stack} | ${s.workspace} | ${s.counts.create} | ${s.counts.update} | ${s.counts.replace} | ${s.counts.delete} |`);
  }
  head.push("");

  if (options.guardrails) {
    const { findings, unusedWaivers } = options.guardrails;
    head.push(`## Guardrails: ${findings.length === 0 ? "no findings" : `${findings.length} finding${findings.length > 1 ? "s" : ""}`}`, "");
    for (const f of findings) head.push(`- **${f.rule}** ${code(f.address)} (${f.stack}): ${f.message}; fix: ${f.fix}`);
    for (const w of unusedWaivers) head.push(`- unused waiver **${w.rule}** ${code(w.path)}: it matches nothing`);
    if (findings.length + unusedWaivers.length > 0) head.push("");
  }

  const ignored = summaries.flatMap((s) => s.ignored);
  const ignoredNote =
    ignored.length > 0
      ? `_${ignored.length} attribute changes are left out: ${[...new Set(ignored.map((i) => i.reason))].join("; ")}._\n`
      : "";

  // Changes before creations; within each, by stack as planned.
  const sections = summaries
    .filter((s) => s.changes.length > 0)
    .map((s) => {
      const changed = s.changes.filter((c) => c.action !== "create");
      const created = s.changes.filter((c) => c.action === "create");
      const blocks = changed.map(resourceDetails);
      if (created.length > 0) {
        blocks.push(`<details><summary>${created.length} to add</summary>\n\n\`\`\`diff\n${created.map((c) => `+ ${c.address}`).join("\n")}\n\`\`\`\n</details>`);
      }
      return { title: `## ${s.stack} / ${s.workspace}`, blocks };
    });

  const limit = options.maxChars ?? Infinity;
  let text = `${head.join("\n")}\n`;
  const tail = ignoredNote;
  let left = sections.reduce((n, s) => n + s.blocks.length, 0);
  for (const section of sections) {
    let titled = false;
    for (const block of section.blocks) {
      const piece = `${titled ? "" : `${section.title}\n\n`}${block}\n\n`;
      const pointer = `_… ${left} more changed resources are in the full summary${options.fullSummary ? `: ${options.fullSummary}` : ""}._\n`;
      if (text.length + piece.length + tail.length + pointer.length > limit) return `${text}${pointer}${tail}`;
      text += piece;
      titled = true;
      left--;
    }
  }
  return `${text}${tail}`;
}
