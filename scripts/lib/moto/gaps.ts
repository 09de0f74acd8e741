// Judges a plan made against moto's state by the list of moto's known gaps (stacks/moto-target.ts):
// a change is accepted only when it is exactly a `not-stored` gap; anything else is a real
// difference between the configuration and what it applied, and fails the check.
import { isDeepStrictEqual } from "node:util";
import { MOTO_GAPS, type MotoGap } from "../../../stacks/moto-target";
import { stateResources, type PlanJson, type PlanResourceChange, type StateJson } from "../terraform-json";

export interface GapMatch {
  gap: MotoGap;
  address: string;
}

export interface UnexpectedChange {
  address: string;
  actions: string[];
  /** Top-level attributes that change (for an update). */
  attributes: string[];
}

/** Top-level attributes an update sets to another value, or to a value known only after apply. */
function changedAttributes(change: PlanResourceChange["change"]): string[] {
  const before = change.before ?? {};
  const after = change.after ?? {};
  const unknown = change.after_unknown ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(unknown)]);
  return [...keys].filter((k) => isUnknown(unknown[k]) || !isDeepStrictEqual(before[k] ?? null, after[k] ?? null)).sort();
}

function isUnknown(marker: unknown): boolean {
  if (marker === true) return true;
  if (Array.isArray(marker)) return marker.some(isUnknown);
  if (marker && typeof marker === "object") return Object.values(marker).some(isUnknown);
  return false;
}

export function gapsFor(type: string, handling: MotoGap["handling"]): MotoGap[] {
  return MOTO_GAPS.filter((g) => g.resourceType === type && g.handling === handling);
}

/** Splits a plan's changes into those moto's listed gaps explain and the rest. */
export function judgeChanges(plan: PlanJson): { explained: GapMatch[]; unexpected: UnexpectedChange[] } {
  const explained: GapMatch[] = [];
  const unexpected: UnexpectedChange[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change.actions;
    if (rc.mode !== "managed" || actions.every((a) => a === "no-op" || a === "read")) continue;
    const attributes = actions.join() === "update" ? changedAttributes(rc.change) : [];
    const gaps = gapsFor(rc.type, "not-stored");
    const explainedBy = (attribute: string) => gaps.find((g) => g.attribute === attribute);
    if (attributes.length > 0 && attributes.every(explainedBy)) {
      for (const attribute of attributes) explained.push({ gap: explainedBy(attribute)!, address: rc.address });
    } else {
      unexpected.push({ address: rc.address, actions, attributes: attributes.filter((a) => !explainedBy(a)) });
    }
  }
  return { explained, unexpected };
}

/**
 * `not-stored` gaps that an applied resource type should have shown and did not: moto has
 * changed, and the entry must go (or it hides nothing but will hide a real change later).
 */
export function staleGaps(appliedTypes: Set<string>, explained: GapMatch[]): MotoGap[] {
  return MOTO_GAPS.filter((g) => g.handling === "not-stored" && appliedTypes.has(g.resourceType) && !explained.some((m) => m.gap === g));
}

const dnsName = (name: unknown) => String(name).toLowerCase().replace(/\.$/, "");

/**
 * The check moto leaves out (gap `acm-dns-validation`): every DNS validation option of every
 * certificate has a Route 53 record in the applied state with its name, type and value.
 */
export function certificateValidationProblems(state: StateJson): string[] {
  const resources = stateResources(state);
  const records = resources.filter((r) => r.type === "aws_route53_record");
  const problems: string[] = [];
  for (const certificate of resources.filter((r) => r.type === "aws_acm_certificate" && r.values.validation_method === "DNS")) {
    const options = (certificate.values.domain_validation_options ?? []) as Record<string, string>[];
    if (options.length === 0) problems.push(`${certificate.address}: no domain validation options`);
    for (const option of options) {
      const found = records.some(
        (r) =>
          dnsName(r.values.name) === dnsName(option.resource_record_name) &&
          r.values.type === option.resource_record_type &&
          ((r.values.records ?? []) as string[]).map(dnsName).includes(dnsName(option.resource_record_value)),
      );
      if (!found) {
        problems.push(
          `${certificate.address}: no Route 53 record ${option.resource_record_type} ${option.resource_record_name} -> ${option.resource_record_value} validates ${option.domain_name}`,
        );
      }
    }
  }
  return problems;
}
