// Terraform resource types of AWS WAF (v2), applied to the WAF of the stack's account in its
// region. A rule the local cloud cannot run as AWS does is refused here with its address; the
// rules of AWS's core rule set whose patterns AWS does not publish are named in the deploy's log.
import type { RegionServices } from "../cloud/services";
import { DeployError, type ResourceContext, type ResourceHandler } from "../deployer/types";
import { CORE_RULE_SET, CORE_RULE_SET_NOT_RUN, CORE_RULE_SET_RULES, type Action, type Rule } from "./state";

type Handler = ResourceHandler<RegionServices>;
type Block = Record<string, any>;

const ID = "abcdef0123456789";
const LOG_GROUP_ARN = /^arn:aws:logs:([a-z0-9-]+):(\d{12}):log-group:(aws-waf-logs-[A-Za-z0-9_./#-]+?)(:\*)?$/;

function refuse(ctx: ResourceContext<RegionServices>, problem: string): never {
  throw new DeployError("UNSUPPORTED_WAF_RULE", `${ctx.stack.name}: ${ctx.address}: the local cloud cannot run this as AWS WAF does, so it will not deploy the stack: ${problem}`);
}

/** A nested block as the evaluated configuration holds it: an object, or a list of one. */
const block = (value: unknown): Block | undefined => (Array.isArray(value) ? value[0] : value && typeof value === "object" ? (value as Block) : undefined);
const blocks = (value: unknown): Block[] => (Array.isArray(value) ? value : value && typeof value === "object" ? [value as Block] : []);

/** `{ block: {} }` -> BLOCK. */
function actionOf(value: unknown): Action | undefined {
  const action = block(value);
  if (!action) return undefined;
  const kind = ["allow", "block", "count"].find((k) => action[k] !== undefined && action[k] !== null && (!Array.isArray(action[k]) || action[k].length > 0));
  return kind?.toUpperCase() as Action | undefined;
}

function ruleOf(ctx: ResourceContext<RegionServices>, rule: Block): Rule {
  const statement = block(rule.statement) ?? {};
  const metricName = block(rule.visibility_config)?.metric_name ?? rule.name;
  const kinds = Object.keys(statement).filter((k) => statement[k] !== null && statement[k] !== undefined && !(Array.isArray(statement[k]) && statement[k].length === 0));
  const rate = block(statement.rate_based_statement);
  if (rate && kinds.length === 1) {
    if ((rate.aggregate_key_type ?? "IP") !== "IP") refuse(ctx, `rule ${rule.name}: rate-based rules aggregate by IP only in the local cloud, not ${rate.aggregate_key_type}`);
    if (block(rate.scope_down_statement)) refuse(ctx, `rule ${rule.name}: scope-down statements are not emulated`);
    const action = actionOf(rule.action);
    if (!action) refuse(ctx, `rule ${rule.name}: a rate-based rule needs an action (block, allow or count)`);
    return { kind: "rate", name: rule.name, priority: Number(rule.priority), action, metricName, limit: Number(rate.limit), windowMs: Number(rate.evaluation_window_sec ?? 300) * 1000 };
  }
  const managed = block(statement.managed_rule_group_statement);
  if (managed && kinds.length === 1) {
    if (managed.vendor_name !== "AWS" || managed.name !== CORE_RULE_SET) refuse(ctx, `rule ${rule.name}: of the managed rule groups the local cloud runs only AWS's ${CORE_RULE_SET}, not ${managed.vendor_name}'s ${managed.name}`);
    if (block(managed.scope_down_statement)) refuse(ctx, `rule ${rule.name}: scope-down statements are not emulated`);
    const override = block(rule.override_action);
    const overrides: Record<string, Action> = {};
    for (const o of blocks(managed.rule_action_override)) {
      const action = actionOf(o.action_to_use);
      if (!action) refuse(ctx, `rule ${rule.name}: the override of ${o.name} needs an action`);
      overrides[o.name] = action;
    }
    const runs = CORE_RULE_SET_RULES.map((r) => r.name);
    ctx.log(
      `web ACL rule ${rule.name} runs ${runs.join(", ")} of ${CORE_RULE_SET}; AWS does not publish what ${CORE_RULE_SET_NOT_RUN.join(", ")} match, and the local cloud does not run them`,
    );
    return {
      kind: "managed",
      name: rule.name,
      priority: Number(rule.priority),
      overrideAction: override?.count !== undefined && override.count !== null ? "count" : "none",
      metricName,
      vendorName: managed.vendor_name,
      groupName: managed.name,
      actionOverrides: overrides,
    };
  }
  return refuse(ctx, `rule ${rule.name}: statement ${kinds.join(" + ") || "(none)"} is not emulated (rate_based_statement and AWS's ${CORE_RULE_SET} are)`);
}

export const wafv2Resources: Record<string, Handler> = {
  aws_wafv2_web_acl: (ctx) => {
    const { config, services, region, accountId, stableId } = ctx;
    if (config.scope !== "REGIONAL") refuse(ctx, `scope ${config.scope}: only REGIONAL web ACLs (API Gateway stages) are emulated`);
    if (config.rule_json) refuse(ctx, "rules given as rule_json are not emulated: give them as rule blocks");
    const id = `${stableId(8, ID)}-${stableId(4, ID, "a")}-${stableId(4, ID, "b")}-${stableId(4, ID, "c")}-${stableId(12, ID, "d")}`;
    const arn = `arn:aws:wafv2:${region}:${accountId}:regional/webacl/${config.name}/${id}`;
    const defaultAction = actionOf(config.default_action);
    if (defaultAction !== "ALLOW" && defaultAction !== "BLOCK") refuse(ctx, "default_action must be allow or block");
    const rules = blocks(config.rule).map((rule) => ruleOf(ctx, rule));
    const lockToken = stableId(36, ID, "lock");
    services.waf.putWebAcl({ id, name: config.name, arn, description: config.description ?? "", defaultAction, metricName: block(config.visibility_config)?.metric_name ?? config.name, rules, lockToken });
    return { id, arn, lock_token: lockToken, capacity: rules.length * 50 };
  },

  aws_wafv2_web_acl_association: (ctx) => {
    const { config, services } = ctx;
    const stage = /^arn:aws:apigateway:[a-z0-9-]+::\/restapis\/([^/]+)\/stages\/([^/]+)$/.exec(String(config.resource_arn));
    if (!stage) refuse(ctx, `resource ${config.resource_arn}: the local cloud associates web ACLs with API Gateway stages only`);
    services.apigateway.stage(stage[1], stage[2]);
    if (!services.waf.webAcls.has(config.web_acl_arn)) refuse(ctx, `web ACL ${config.web_acl_arn} does not exist in ${ctx.region}`);
    services.waf.associations.set(config.resource_arn, config.web_acl_arn);
    return { id: `${config.web_acl_arn},${config.resource_arn}` };
  },

  aws_wafv2_web_acl_logging_configuration: (ctx) => {
    const { config, services } = ctx;
    const [destination] = (config.log_destination_configs ?? []) as string[];
    const group = LOG_GROUP_ARN.exec(destination ?? "");
    // AWS's own rule: a CloudWatch Logs destination's name starts with aws-waf-logs-.
    if (!group) refuse(ctx, `log destination ${destination}: the local cloud logs WAF to CloudWatch Logs groups named aws-waf-logs-..., as AWS requires of them`);
    const redacted = blocks(config.redacted_fields).map((field) => {
      const single = block(field.single_header);
      if (!single?.name) refuse(ctx, `redacted field ${JSON.stringify(field)}: the local cloud redacts single headers only`);
      return String(single.name).toLowerCase();
    });
    if (!services.waf.webAcls.has(config.resource_arn)) refuse(ctx, `web ACL ${config.resource_arn} does not exist in ${ctx.region}`);
    services.waf.logging.set(config.resource_arn, { destination: `${group[0].replace(/:\*$/, "")}`, redactedHeaders: redacted });
    return { id: config.resource_arn };
  },
};
