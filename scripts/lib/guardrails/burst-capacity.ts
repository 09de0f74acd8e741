// Whether every route can serve the burst API Gateway admits to it. A method's admitted burst is
// the smaller of the stage's (or the method's own) throttle burst and, for a method that needs an
// API key, the bursts of the usage plans on its stage (each per key). When the Lambda behind the
// method has reserved concurrency below that, a burst the gateway admits is throttled by Lambda,
// and API Gateway answers those requests with 500: clients see a server error for traffic the
// platform promised to take. Values that come from the environment config
// (`${local.environment.x.y}`) are checked in every environment the stack can be deployed to.
import type { TerraformJson } from "../synthesized";

type Resource = Record<string, any>;

export interface BurstViolation {
  type: string;
  id: string;
  resource: Resource;
  message: string;
}

const LOCAL_ENVIRONMENT = /^\$\{local\.environment\.([\w.]+)\}$/;
const REFERENCE = /^\$\{([\w-]+)\.([\w-]+)\.\w+\}$/;

/** A number as written, or read from one environment of `local.environments`. */
function valueIn(value: unknown, environment: Record<string, unknown>): number | undefined {
  const path = LOCAL_ENVIRONMENT.exec(String(value ?? ""))?.[1];
  const resolved = path ? path.split(".").reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], environment) : value;
  const n = Number(resolved);
  return resolved === undefined || resolved === null || resolved === "" || Number.isNaN(n) ? undefined : n;
}

/** `${aws_x.y.id}` -> the resource `y` of type `aws_x`. */
function referenced(stack: TerraformJson, value: unknown): [string, Resource] | undefined {
  const match = REFERENCE.exec(String(value ?? ""));
  const resource = match && (stack.resource?.[match[1]]?.[match[2]] as Resource | undefined);
  return match && resource ? [match[2], resource] : undefined;
}

/** The resource path of a method as method settings name it: `mars` for /mars, `a/{id}` for /a/{id}. */
function resourcePath(stack: TerraformJson, resourceId: unknown): string {
  const parts: string[] = [];
  const resource = (ref: unknown) => (/^\$\{aws_api_gateway_resource\./.test(String(ref)) ? referenced(stack, ref) : undefined);
  for (let at = resource(resourceId); at; at = resource(at[1].parent_id)) parts.unshift(String(at[1].path_part));
  return parts.join("/");
}

function each(stack: TerraformJson, type: string): Array<[string, Resource]> {
  return Object.entries(stack.resource?.[type] ?? {}) as Array<[string, Resource]>;
}

export function burstViolations(stack: TerraformJson): BurstViolation[] {
  const environments = Object.entries((stack.locals?.environments ?? { "(literal)": {} }) as Record<string, Record<string, unknown>>);
  const violations: BurstViolation[] = [];
  for (const [id, integration] of each(stack, "aws_api_gateway_integration")) {
    const fn = /^\$\{aws_lambda_function\.([\w-]+)\.invoke_arn\}$/.exec(String(integration.uri ?? ""))?.[1];
    const lambda = fn ? (stack.resource?.aws_lambda_function?.[fn] as Resource | undefined) : undefined;
    const method = referenced(stack, integration.http_method)?.[1];
    if (!lambda || lambda.reserved_concurrent_executions === undefined || !method) continue;
    const route = `${method.http_method} /${resourcePath(stack, method.resource_id)}`;
    const methodPath = `${resourcePath(stack, method.resource_id)}/${method.http_method}`;
    const settings = each(stack, "aws_api_gateway_method_settings").filter(([, s]) => s.rest_api_id === method.rest_api_id);
    const ownSettings = settings.find(([, s]) => s.method_path === methodPath) ?? settings.find(([, s]) => s.method_path === "*/*");
    const plans = method.api_key_required
      ? each(stack, "aws_api_gateway_usage_plan").filter(([, p]) => (p.api_stages ?? []).some((s: Resource) => s.api_id === method.rest_api_id))
      : [];
    for (const [workspace, environment] of environments) {
      const reserved = valueIn(lambda.reserved_concurrent_executions, environment);
      if (reserved === undefined || reserved < 0) continue;
      const limits: Array<[number, string]> = [];
      const stageBurst = valueIn(ownSettings?.[1].settings?.throttling_burst_limit, environment);
      if (stageBurst !== undefined) limits.push([stageBurst, `stage throttle ${ownSettings![1].method_path}`]);
      if (plans.length > 0) {
        const perPlan = plans.map(([planId, plan]) => {
          const keys = each(stack, "aws_api_gateway_usage_plan_key").filter(([, k]) => referenced(stack, k.usage_plan_id)?.[0] === planId).length;
          return (valueIn(plan.throttle_settings?.burst_limit, environment) ?? Infinity) * Math.max(keys, 1);
        });
        limits.push([perPlan.reduce((a, b) => a + b, 0), `usage plan ${plans.map(([, p]) => p.name).join(", ")}`]);
      }
      const admitted = limits.sort((a, b) => a[0] - b[0])[0];
      if (admitted && admitted[0] > reserved) {
        violations.push({
          type: "aws_api_gateway_integration",
          id,
          resource: integration,
          message: `${route} admits a burst of ${admitted[0]} (${admitted[1]}, workspace ${workspace}) but ${lambda.function_name} has reserved concurrency ${reserved}: the excess is throttled by Lambda and answered 500`,
        });
      }
    }
  }
  return violations;
}
