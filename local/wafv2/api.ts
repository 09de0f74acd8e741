// AWS WAF's API behind the edge (awsJson1.1, `X-Amz-Target: AWSWAF_20190729.<Operation>`): what an
// operator reads of the web ACLs of the caller's account in the region (ListWebACLs, GetWebACL,
// GetWebACLForResource), in the API's own shapes. IAM actions are `wafv2:<Operation>` on the web
// ACL's ARN (ListWebACLs: on every web ACL of the region, as the Service Authorization Reference
// names it).
import { AwsServiceError } from "../lib/aws-wire";
import { jsonProtocolService, jsonText } from "../lib/json-protocol";
import type { EdgeService } from "../edge/types";
import type { Action, Rule, WafState, WebAcl } from "./state";

const capitalized = (action: Action) => ({ [action[0] + action.slice(1).toLowerCase()]: {} });
const visibility = (metricName: string) => ({ SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: metricName });

function ruleShape(rule: Rule) {
  if (rule.kind === "rate") {
    return {
      Name: rule.name,
      Priority: rule.priority,
      Statement: { RateBasedStatement: { Limit: rule.limit, EvaluationWindowSec: rule.windowMs / 1000, AggregateKeyType: "IP" } },
      Action: capitalized(rule.action),
      VisibilityConfig: visibility(rule.metricName),
    };
  }
  return {
    Name: rule.name,
    Priority: rule.priority,
    Statement: {
      ManagedRuleGroupStatement: {
        VendorName: rule.vendorName,
        Name: rule.groupName,
        RuleActionOverrides: Object.entries(rule.actionOverrides).map(([Name, action]) => ({ Name, ActionToUse: capitalized(action) })),
      },
    },
    OverrideAction: rule.overrideAction === "count" ? { Count: {} } : { None: {} },
    VisibilityConfig: visibility(rule.metricName),
  };
}

function webAclShape(acl: WebAcl) {
  return {
    Name: acl.name,
    Id: acl.id,
    ARN: acl.arn,
    Description: acl.description,
    DefaultAction: capitalized(acl.defaultAction),
    Rules: acl.rules.map(ruleShape),
    VisibilityConfig: visibility(acl.metricName),
    Capacity: acl.rules.length * 50,
    ManagedByFirewallManager: false,
    LabelNamespace: `awswaf:${acl.arn.split(":")[4]}:webacl:${acl.name}:`,
  };
}

function regional(input: Record<string, unknown>) {
  if (input.Scope !== "REGIONAL") throw new AwsServiceError("WAFInvalidParameterException", `The local cloud holds REGIONAL web ACLs only; Scope was ${JSON.stringify(input.Scope)}`);
}

function named(waf: WafState, input: Record<string, unknown>): WebAcl {
  regional(input);
  const acl = [...waf.webAcls.values()].find((a) => a.name === input.Name && a.id === input.Id);
  if (!acl) throw new AwsServiceError("WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn’t exist.");
  return acl;
}

export function wafv2Api(wafOf: (region: string, accountId: string) => WafState): EdgeService {
  return jsonProtocolService<WafState>({
    targetPrefix: "AWSWAF_20190729",
    serviceName: "AWS WAF",
    iamPrefix: "wafv2",
    version: "1.1",
    stateFor: (call) => wafOf(call.region, call.caller!.accountId),
    operations: {
      ListWebACLs: {
        resources: (waf) => [`arn:aws:wafv2:${waf.region}:${waf.accountId}:regional/webacl/*/*`],
        run: (waf, _region, input) => {
          regional(input);
          return { WebACLs: [...waf.webAcls.values()].map((a) => ({ Name: a.name, Id: a.id, Description: a.description, LockToken: a.lockToken, ARN: a.arn })) };
        },
      },
      GetWebACL: {
        resources: (waf, _region, input) => [named(waf, input).arn],
        run: (waf, _region, input) => {
          const acl = named(waf, input);
          return { WebACL: webAclShape(acl), LockToken: acl.lockToken };
        },
      },
      GetWebACLForResource: {
        resources: (_waf, _region, input) => [jsonText(input.ResourceArn) || "*"],
        run: (waf, _region, input) => {
          const acl = waf.webAclFor(jsonText(input.ResourceArn));
          return acl ? { WebACL: webAclShape(acl) } : {};
        },
      },
    },
  });
}
