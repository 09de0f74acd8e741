// AWS WAF (v2, regional) of one account in one region: web ACLs with the rules the local cloud can
// run, the resources they are associated with (API Gateway stages), their logging configuration,
// and each web ACL's evaluation of a request ("How AWS WAF processes a web request"): rules in
// priority order, the first terminating action (Block, Allow) decides, Count goes on; no rule
// decides -> the default action.
//
// Rate-based rules (aggregate key IP) count each client address's requests in a sliding window of
// `evaluationWindowSec` on the local clock and block an address while more than `limit` of its
// requests fall in the window. AWS checks rates every few seconds and may take a while to start or
// stop blocking; the local cloud decides at each request, so it blocks at the first request over
// the limit (never later than AWS would).
//
// The managed rule group AWSManagedRulesCommonRuleSet runs the rules AWS documents exactly
// ("Core rule set (CRS) managed rule group": NoUserAgent_HEADER and the SizeRestrictions_* rules);
// the others match patterns AWS does not publish, and the deploy names them as not run.
import type { Clock } from "../lib/clock";

export type Action = "ALLOW" | "BLOCK" | "COUNT";

export interface RateBasedRule {
  kind: "rate";
  name: string;
  priority: number;
  action: Action;
  metricName: string;
  limit: number;
  windowMs: number;
}

export interface ManagedRuleGroupRule {
  kind: "managed";
  name: string;
  priority: number;
  /** `none`: the group's own actions; `count`: everything only counts. */
  overrideAction: "none" | "count";
  metricName: string;
  vendorName: string;
  groupName: string;
  /** Rules of the group whose action is replaced (by name). */
  actionOverrides: Record<string, Action>;
}

export type Rule = RateBasedRule | ManagedRuleGroupRule;

export interface WebAcl {
  id: string;
  name: string;
  arn: string;
  description: string;
  defaultAction: "ALLOW" | "BLOCK";
  metricName: string;
  rules: Rule[];
  lockToken: string;
}

/** What WAF inspects of a request. */
export interface InspectedRequest {
  clientIp: string;
  method: string;
  uri: string;
  rawQuery: string;
  httpVersion: string;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
}

export interface Verdict {
  action: "ALLOW" | "BLOCK";
  /** `Default_Action` when no rule decided. */
  terminatingRuleId: string;
  terminatingRuleType: "RATE_BASED" | "MANAGED_RULE_GROUP" | "REGULAR";
  /** Metric names of the rules whose action was Count and that matched. */
  counted: string[];
  /** The managed rule that matched inside a group, for the log. */
  matchedManagedRule?: string;
  terminatingMetricName?: string;
}

/**
 * The CRS rules whose conditions AWS documents, in the group's order. Sizes in bytes; a missing
 * User-Agent header is a match.
 */
export const CORE_RULE_SET_RULES: { name: string; matches(request: InspectedRequest): boolean }[] = [
  { name: "NoUserAgent_HEADER", matches: (r) => header(r, "user-agent") === undefined },
  { name: "SizeRestrictions_QUERYSTRING", matches: (r) => Buffer.byteLength(r.rawQuery) > 2048 },
  { name: "SizeRestrictions_Cookie_HEADER", matches: (r) => Buffer.byteLength(header(r, "cookie") ?? "") > 10240 },
  { name: "SizeRestrictions_BODY", matches: (r) => r.body.length > 8192 },
  { name: "SizeRestrictions_URIPATH", matches: (r) => Buffer.byteLength(r.uri) > 1024 },
];
/** The rules of the group the local cloud does not run (named at deploy). */
export const CORE_RULE_SET_NOT_RUN = [
  "UserAgent_BadBots_HEADER",
  "EC2MetaDataSSRF_BODY",
  "EC2MetaDataSSRF_COOKIE",
  "EC2MetaDataSSRF_URIPATH",
  "EC2MetaDataSSRF_QUERYARGUMENTS",
  "GenericLFI_QUERYARGUMENTS",
  "GenericLFI_URIPATH",
  "GenericLFI_BODY",
  "RestrictedExtensions_URIPATH",
  "RestrictedExtensions_QUERYARGUMENTS",
  "GenericRFI_QUERYARGUMENTS",
  "GenericRFI_BODY",
  "GenericRFI_URIPATH",
  "CrossSiteScripting_COOKIE",
  "CrossSiteScripting_QUERYARGUMENTS",
  "CrossSiteScripting_BODY",
  "CrossSiteScripting_URIPATH",
];
export const CORE_RULE_SET = "AWSManagedRulesCommonRuleSet";

function header(request: InspectedRequest, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** Request times per client address for one rate-based rule: the newest `limit + 1` are enough to decide. */
class RateWindow {
  private readonly clients = new Map<string, number[]>();
  private seen = 0;

  constructor(private readonly rule: RateBasedRule) {}

  /** Counts the request; whether the address is now over the limit. */
  overLimit(client: string, now: number): boolean {
    const since = now - this.rule.windowMs;
    let times = this.clients.get(client);
    if (!times) this.clients.set(client, (times = []));
    times.push(now);
    if (times.length > this.rule.limit + 1) times.splice(0, times.length - this.rule.limit - 1);
    if (++this.seen % 1000 === 0) this.forgetIdle(since);
    return times.length > this.rule.limit && times[0] > since;
  }

  private forgetIdle(since: number) {
    for (const [client, times] of this.clients) if (times[times.length - 1] <= since) this.clients.delete(client);
  }
}

export class WafState {
  readonly webAcls = new Map<string, WebAcl>();
  /** Resource ARN (an API Gateway stage) -> web ACL ARN. */
  readonly associations = new Map<string, string>();
  /** Web ACL ARN -> where its logs go and which headers are redacted. */
  readonly logging = new Map<string, { destination: string; redactedHeaders: string[] }>();
  private readonly windows = new Map<string, RateWindow>();

  constructor(
    readonly region: string,
    readonly accountId: string,
    private readonly clock: Pick<Clock, "now">,
  ) {}

  putWebAcl(acl: WebAcl): void {
    this.webAcls.set(acl.arn, acl);
    for (const rule of acl.rules) if (rule.kind === "rate") this.windows.set(`${acl.arn}/${rule.name}`, new RateWindow(rule));
  }

  webAclFor(resourceArn: string): WebAcl | undefined {
    const arn = this.associations.get(resourceArn);
    return arn ? this.webAcls.get(arn) : undefined;
  }

  /** Runs the web ACL's rules on a request. */
  evaluate(acl: WebAcl, request: InspectedRequest): Verdict {
    const now = this.clock.now();
    const counted: string[] = [];
    for (const rule of [...acl.rules].sort((a, b) => a.priority - b.priority)) {
      if (rule.kind === "rate") {
        if (!this.windows.get(`${acl.arn}/${rule.name}`)!.overLimit(request.clientIp, now)) continue;
        if (rule.action === "COUNT") counted.push(rule.metricName);
        else return { action: rule.action, terminatingRuleId: rule.name, terminatingRuleType: "RATE_BASED", counted, terminatingMetricName: rule.metricName };
        continue;
      }
      for (const managed of CORE_RULE_SET_RULES) {
        if (!managed.matches(request)) continue;
        const action = rule.overrideAction === "count" ? "COUNT" : (rule.actionOverrides[managed.name] ?? "BLOCK");
        if (action === "COUNT") {
          counted.push(rule.metricName);
          continue;
        }
        return { action, terminatingRuleId: rule.name, terminatingRuleType: "MANAGED_RULE_GROUP", counted, matchedManagedRule: managed.name, terminatingMetricName: rule.metricName };
      }
    }
    return { action: acl.defaultAction, terminatingRuleId: "Default_Action", terminatingRuleType: "REGULAR", counted };
  }
}
