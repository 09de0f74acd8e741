// AWS WAF in front of a REST API stage (post "Protecting your API using Amazon API Gateway and AWS
// WAF"): a regional web ACL whose rate-based rule blocks a client IP that sends more than
// `rateLimit` requests within the evaluation window, optionally AWS's managed core rule set, its
// requests logged to CloudWatch Logs without credentials, associated with the stage.
import { Construct } from "constructs";
import { Fn, type IResolvable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";

export const RATE_RULE_NAME = "rate-per-client-ip";
export const COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet";
/**
 * Rules of the core rule set that only count: SAML responses posted to /saml are larger than
 * SizeRestrictions_BODY's 8 KB (API Gateway's 10 MB and ProcessSAML's 100 KB limits still hold).
 */
export const COUNTED_COMMON_RULES = ["SizeRestrictions_BODY"];
/** Headers WAF logs carry that hold credentials: redacted (SigV4 signatures, API keys, bearer tokens). */
export const REDACTED_HEADERS = ["authorization", "x-api-key", "x-amz-security-token", "cookie"];

export interface WafProps {
  /** Names the web ACL (unique per region) and its log group (`aws-waf-logs-<name>`, as WAF requires). */
  name: string;
  /** The stage (`aws_api_gateway_stage.arn`) the web ACL protects. */
  stageArn: string;
  /** Requests per client IP within the window before WAF blocks it (Terraform value). */
  rateLimit: number;
  evaluationWindowSeconds: number;
  /** Whether AWSManagedRulesCommonRuleSet runs after the rate rule (Terraform value). */
  managedCommonRuleSet: IResolvable;
  logRetentionDays: number;
}

const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

export class Waf extends Construct {
  readonly webAcl: Wafv2WebAcl;
  /** The web ACL's name: its metrics' WebACL dimension. */
  readonly name: string;
  readonly logGroupName: string;

  constructor(scope: Construct, id: string, props: WafProps) {
    super(scope, id);
    this.name = props.name;
    this.webAcl = new Wafv2WebAcl(this, "web-acl", {
      name: props.name,
      description: "Rate limit per client IP and, where configured, AWS's core rule set",
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      rule: [
        {
          name: RATE_RULE_NAME,
          priority: 0,
          action: { block: {} },
          // The provider types `statement` loosely: Terraform's own (snake_case) names.
          statement: { rate_based_statement: { limit: props.rateLimit, aggregate_key_type: "IP", evaluation_window_sec: props.evaluationWindowSeconds } },
          visibilityConfig: visibility(RATE_RULE_NAME),
        },
      ],
    });
    // A switch per environment: the managed rule group is a dynamic block with zero or one rule.
    this.webAcl.addOverride("dynamic.rule", {
      for_each: Fn.conditional(props.managedCommonRuleSet, [COMMON_RULE_SET], []),
      content: {
        name: COMMON_RULE_SET,
        priority: 1,
        override_action: { none: {} },
        statement: {
          managed_rule_group_statement: {
            vendor_name: "AWS",
            name: COMMON_RULE_SET,
            rule_action_override: COUNTED_COMMON_RULES.map((name) => ({ name, action_to_use: { count: {} } })),
          },
        },
        visibility_config: { cloudwatch_metrics_enabled: true, metric_name: COMMON_RULE_SET, sampled_requests_enabled: true },
      },
    });

    const logs = new CloudwatchLogGroup(this, "logs", { name: `aws-waf-logs-${props.name}`, retentionInDays: props.logRetentionDays });
    this.logGroupName = logs.name;
    new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      logDestinationConfigs: [logs.arn],
      redactedFields: REDACTED_HEADERS.map((name) => ({ singleHeader: { name } })),
    });
    new Wafv2WebAclAssociation(this, "association", { resourceArn: props.stageArn, webAclArn: this.webAcl.arn });
  }
}
