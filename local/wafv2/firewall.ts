// WAF in front of an API Gateway stage: the associated web ACL's verdict on a request, its log
// record ("Log fields for protection pack (web ACL) traffic") to the web ACL's log group with the
// configured headers redacted, and its AWS/WAFV2 metrics (AllowedRequests / BlockedRequests /
// CountedRequests by WebACL, Region and Rule, Rule ALL for the web ACL as a whole).
import type { InspectedRequest, Verdict, WafState } from "./state";

export interface FirewallSinks {
  /** Epoch ms on the local clock. */
  now(): number;
  writeLog(destinationArn: string, line: string): void;
  metric(name: string, dimensions: Record<string, string>): void;
}

/** The verdict for a request to `resourceArn`, or undefined when no web ACL protects it. */
export function inspect(waf: WafState, resourceArn: string, request: InspectedRequest, sinks: FirewallSinks, httpSourceId: string): Verdict | undefined {
  const acl = waf.webAclFor(resourceArn);
  if (!acl) return undefined;
  const verdict = waf.evaluate(acl, request);
  const dimensions = (rule: string) => ({ WebACL: acl.metricName, Region: waf.region, Rule: rule });
  const outcome = verdict.action === "BLOCK" ? "BlockedRequests" : "AllowedRequests";
  sinks.metric(outcome, dimensions("ALL"));
  if (verdict.terminatingMetricName) sinks.metric(outcome, dimensions(verdict.terminatingMetricName));
  for (const counted of verdict.counted) sinks.metric("CountedRequests", dimensions(counted));

  const logging = waf.logging.get(acl.arn);
  if (logging) {
    const redacted = new Set(logging.redactedHeaders);
    sinks.writeLog(
      logging.destination,
      JSON.stringify({
        timestamp: sinks.now(),
        formatVersion: 1,
        webaclId: acl.arn,
        terminatingRuleId: verdict.terminatingRuleId,
        terminatingRuleType: verdict.terminatingRuleType,
        action: verdict.action,
        terminatingRuleMatchDetails: [],
        httpSourceName: "APIGW",
        httpSourceId,
        ruleGroupList: verdict.matchedManagedRule ? [{ ruleGroupId: `AWS#${verdict.terminatingRuleId}`, terminatingRule: { ruleId: verdict.matchedManagedRule, action: verdict.action } }] : [],
        rateBasedRuleList: verdict.terminatingRuleType === "RATE_BASED" ? [{ rateBasedRuleName: verdict.terminatingRuleId, limitKey: "IP", maxRateAllowed: null }] : [],
        nonTerminatingMatchingRules: verdict.counted.map((ruleId) => ({ ruleId, action: "COUNT" })),
        httpRequest: {
          clientIp: request.clientIp,
          country: "-",
          headers: Object.entries(request.headers).map(([name, value]) => ({ name, value: redacted.has(name.toLowerCase()) ? "REDACTED" : value })),
          uri: request.uri,
          args: request.rawQuery,
          httpVersion: request.httpVersion,
          httpMethod: request.method,
          requestId: request.requestId,
        },
      }),
    );
  }
  return verdict;
}
