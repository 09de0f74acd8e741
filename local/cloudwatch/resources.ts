// Terraform resource types of CloudWatch (metrics and dashboards; log groups are CloudWatch Logs'),
// applied to the CloudWatch of the stack's account in its region. What the local cloud cannot
// evaluate as CloudWatch does is refused here, naming the alarm.
import type { RegionServices } from "../cloud/services";
import { DeployError, type ResourceContext, type ResourceHandler } from "../deployer/types";
import { COMPARISONS, type ComparisonOperator, type TreatMissingData } from "./alarms";
import { checkStatistic, MetricError, type Dimension } from "./metrics";
import type { MetricDataQuery } from "./metric-data";

type Handler = ResourceHandler<RegionServices>;

const TREATMENTS = ["missing", "ignore", "breaching", "notBreaching"];

function refuse(ctx: ResourceContext<RegionServices>, problem: string): never {
  throw new DeployError("UNSUPPORTED_ALARM", `${ctx.stack.name}: ${ctx.address}: the local cloud cannot evaluate this alarm as CloudWatch does, so it will not deploy the stack: ${problem}`);
}

const dimensionList = (map: unknown): Dimension[] =>
  Object.entries((map ?? {}) as Record<string, unknown>).map(([Name, Value]) => ({ Name, Value: String(Value) }));
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

function statisticOf(ctx: ResourceContext<RegionServices>, stat: string): string {
  try {
    checkStatistic(stat);
  } catch (error) {
    if (error instanceof MetricError) refuse(ctx, error.message);
    throw error;
  }
  return stat;
}

function queriesOf(ctx: ResourceContext<RegionServices>): MetricDataQuery[] {
  const queries = (ctx.config.metric_query as Record<string, any>[]).map((q) => {
    if (q.account_id) refuse(ctx, `metric_query ${q.id} reads account ${q.account_id}: cross-account metric math is not emulated`);
    const m = q.metric?.[0] ?? q.metric;
    return {
      Id: q.id,
      Expression: q.expression ?? undefined,
      Label: q.label ?? undefined,
      ReturnData: q.return_data ?? undefined,
      Period: q.period ?? undefined,
      MetricStat: m
        ? {
            Metric: { Namespace: m.namespace, MetricName: m.metric_name, Dimensions: dimensionList(m.dimensions) },
            Period: Number(m.period),
            Stat: statisticOf(ctx, m.stat),
            Unit: m.unit ?? undefined,
          }
        : undefined,
    } satisfies MetricDataQuery;
  });
  if (queries.filter((q) => q.ReturnData !== false).length !== 1) refuse(ctx, "exactly one metric_query must return data (return_data), as CloudWatch requires");
  return queries;
}

export const cloudWatchResources: Record<string, Handler> = {
  aws_cloudwatch_metric_alarm: (ctx) => {
    const { config, services, region, accountId } = ctx;
    const name = String(config.alarm_name);
    if (config.threshold_metric_id) refuse(ctx, "anomaly detection bands (threshold_metric_id) are not emulated");
    if (!(config.comparison_operator in COMPARISONS)) refuse(ctx, `comparison operator ${config.comparison_operator} is not emulated (${Object.keys(COMPARISONS).join(", ")})`);
    const treatMissingData = (config.treat_missing_data ?? "missing") as TreatMissingData;
    if (!TREATMENTS.includes(treatMissingData)) refuse(ctx, `treat_missing_data ${treatMissingData} is not one of ${TREATMENTS.join(", ")}`);
    const usesMath = Array.isArray(config.metric_query) && config.metric_query.length > 0;
    if (!usesMath && !(config.metric_name && config.namespace && config.period)) refuse(ctx, "an alarm needs metric_name, namespace and period, or metric_query");
    const statistic = usesMath ? undefined : statisticOf(ctx, config.extended_statistic ?? config.statistic);
    const evaluationPeriods = Number(config.evaluation_periods);
    const arn = `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}`;
    services.cloudwatch.alarms.put({
      name,
      arn,
      accountId,
      region,
      description: config.alarm_description ?? undefined,
      metric: usesMath
        ? undefined
        : { namespace: config.namespace, metricName: config.metric_name, dimensions: dimensionList(config.dimensions), statistic: statistic!, period: Number(config.period), unit: config.unit ?? undefined },
      queries: usesMath ? queriesOf(ctx) : undefined,
      evaluationPeriods,
      datapointsToAlarm: Number(config.datapoints_to_alarm ?? evaluationPeriods),
      threshold: Number(config.threshold),
      comparisonOperator: config.comparison_operator as ComparisonOperator,
      treatMissingData,
      actionsEnabled: config.actions_enabled !== false,
      alarmActions: strings(config.alarm_actions),
      okActions: strings(config.ok_actions),
      insufficientDataActions: strings(config.insufficient_data_actions),
      updatedAt: services.cloudwatch.now(),
    });
    return { id: name, arn };
  },

  aws_cloudwatch_dashboard: (ctx) => {
    const { config, services } = ctx;
    let body: unknown;
    try {
      body = JSON.parse(String(config.dashboard_body));
    } catch (error) {
      throw new DeployError("INVALID_DASHBOARD", `${ctx.stack.name}: ${ctx.address}: the dashboard body is not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray((body as { widgets?: unknown })?.widgets)) {
      throw new DeployError("INVALID_DASHBOARD", `${ctx.stack.name}: ${ctx.address}: the dashboard body must be an object with a widgets array`);
    }
    const dashboard = services.cloudwatch.putDashboard(config.dashboard_name, String(config.dashboard_body));
    return { id: dashboard.name, dashboard_arn: dashboard.arn };
  },
};
