// The mars-display module as synthesized: private encrypted bucket, the function and its least
// privilege, GET /mars with an API key behind a usage plan, the NASA key only as a sensitive
// variable -> SSM SecureString, and the outputs the firmware needs.
import { beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../lambdas/fetch-mars-data/config";
import { WEATHER_SOURCES } from "../lambdas/fetch-mars-data/weather";
import { loadConfig } from "../stacks/config";
import { only, resources, synthTo, type Synthesized } from "./helpers/synth";
import schema from "../config/environments.schema.json";

const config = loadConfig();
const REGIONAL = config.regions.map((r) => `platform-${r}`);
let aws: Synthesized;

beforeAll(() => {
  aws = synthTo("aws");
});

/** `${aws_x.y.attr}` -> the resource `aws_x.y` it names. */
function target(reference: string): string {
  return reference.replace(/^\$\{|\}$/g, "").split(".").slice(0, 2).join(".");
}

function byAddress(json: ReturnType<Synthesized["stack"]>, type: string, predicate: (r: Record<string, any>) => boolean) {
  const [name, resource] = Object.entries(resources(json, type)).find(([, r]) => predicate(r)) ?? [];
  if (!name) throw new Error(`no ${type} matches`);
  return { address: `${type}.${name}`, resource: resource! };
}

describe.each(REGIONAL)("%s: mars-display", (stackName) => {
  const region = stackName.replace("platform-", "");
  const json = () => aws.stack(stackName);
  const fn = () => byAddress(json(), "aws_lambda_function", (f) => f.function_name === "platform-fetch-mars-data");
  const bucket = () => byAddress(json(), "aws_s3_bucket", (b) => String(b.bucket).startsWith("platform-mars-"));

  it("has a private bucket: all public access blocked, KMS encryption, name unique per account and region", () => {
    const { address, resource } = bucket();
    expect(resource.bucket).toBe(`platform-mars-\${local.environment.accountId}-${region}`);
    const block = Object.values(resources(json(), "aws_s3_bucket_public_access_block")).find((b) => b.bucket === `\${${address}.id}`);
    expect(block).toMatchObject({ block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true });
    const encryption = Object.values(resources(json(), "aws_s3_bucket_server_side_encryption_configuration")).find((e) => e.bucket === `\${${address}.id}`);
    expect(encryption?.rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms" }, bucket_key_enabled: true }]);
    expect(Object.values(resources(json(), "aws_s3_bucket_policy")).some((p) => p.bucket === `\${${address}.id}`)).toBe(false);
  });

  it("runs FetchMarsData with configuration only in its environment: the NASA key stays in SSM", () => {
    const { resource } = fn();
    expect(resource).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], timeout: 25, memory_size: 1024, reserved_concurrent_executions: "${local.environment.mars.reservedConcurrency}", tracing_config: { mode: "Active" } });
    const env = resource.environment.variables as Record<string, string>;
    expect(env).toMatchObject({
      MARS_BUCKET: `\${${bucket().address}.bucket}`,
      MARS_PHOTOS_API_URL: "${local.environment.mars.photosApiUrl}",
      MARS_WEATHER_SOURCE: "${local.environment.mars.weather.source}",
      MARS_WEATHER_URL: "${local.environment.mars.weather.url}",
      MARS_IMAGE_URL_TTL_SECONDS: "900",
    });
    expect(JSON.stringify(env)).not.toMatch(/nasa_api_key|DEMO_KEY/);
    const parameter = only(json(), "aws_ssm_parameter");
    expect(parameter).toMatchObject({ type: "SecureString", value: "${var.nasa_api_key}", name: "/platform/mars-display/nasa-api-key" });
    expect(env.NASA_API_KEY_PARAMETER).toMatch(/^\$\{aws_ssm_parameter\..+\.name\}$/);
    expect(json().variable?.nasa_api_key).toMatchObject({ type: "string", sensitive: true });
  });

  it("gives the function's environment everything FetchMarsData requires, in the forms it accepts", () => {
    const env = fn().resource.environment.variables as Record<string, string>;
    const dev = config.environments.dev;
    // What Terraform would put there in the dev workspace.
    const resolved = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [
        name,
        value
          .replace("${local.environment.mars.photosApiUrl}", dev.mars.photosApiUrl)
          .replace("${local.environment.mars.weather.source}", dev.mars.weather.source)
          .replace("${local.environment.mars.weather.url}", dev.mars.weather.url)
          .replace(/^\$\{.+\}$/, "resolved-by-terraform"),
      ]),
    );
    expect(() => readConfig(resolved)).not.toThrow();
  });

  it("lets the function reach only its bucket's prefixes and its parameter, never with *", () => {
    const role = target(fn().resource.role);
    const policy = Object.values(resources(json(), "aws_iam_role_policy")).find((p) => p.role === `\${${role}.id}`)!;
    const document = policy.policy as string;
    expect(document).toContain('"Action" = ["s3:GetObject", "s3:PutObject"]');
    expect(document).toContain(`\${${bucket().address}.arn}/images/*`);
    expect(document).toContain(`\${${bucket().address}.arn}/state/*`);
    expect(document).toMatch(/"Action" = \["ssm:GetParameter"\], "Resource" = \[aws_ssm_parameter\.[^\]]+\.arn\]/);
    expect(document).not.toMatch(/"(s3|ssm|kms):\*"|"Action" = \["\*"\]/);
  });

  it("serves GET /mars through a Lambda proxy that requires an API key", () => {
    const resource = Object.entries(resources(json(), "aws_api_gateway_resource")).find(([, r]) => r.path_part === "mars")!;
    const method = Object.values(resources(json(), "aws_api_gateway_method")).find((m) => m.resource_id === `\${aws_api_gateway_resource.${resource[0]}.id}`)!;
    expect(method).toMatchObject({ http_method: "GET", api_key_required: true, authorization: "NONE" });
    const integration = Object.values(resources(json(), "aws_api_gateway_integration")).find((i) => i.resource_id === method.resource_id)!;
    expect(integration).toMatchObject({ type: "AWS_PROXY", integration_http_method: "POST", uri: `\${${fn().address}.invoke_arn}` });
  });

  it("puts the key in a usage plan with the environment's throttle and quota on the prod stage", () => {
    const plan = only(json(), "aws_api_gateway_usage_plan");
    expect(plan.throttle_settings).toEqual({ rate_limit: "${local.environment.mars.usagePlan.rateLimit}", burst_limit: "${local.environment.mars.usagePlan.burstLimit}" });
    expect(plan.quota_settings).toEqual({ limit: "${local.environment.mars.usagePlan.quotaLimit}", period: "${local.environment.mars.usagePlan.quotaPeriod}" });
    expect(plan.api_stages).toEqual([{ api_id: expect.stringMatching(/^\$\{aws_api_gateway_rest_api\./), stage: expect.stringMatching(/^\$\{aws_api_gateway_stage\..+\.stage_name\}$/) }]);
    const key = byAddress(json(), "aws_api_gateway_api_key", () => true);
    expect(only(json(), "aws_api_gateway_usage_plan_key")).toMatchObject({ key_type: "API_KEY", key_id: `\${${key.address}.id}` });
  });

  it("outputs MarsApiUrl and the API key, the key as sensitive", () => {
    const outputs = json().output as Record<string, { value: string; sensitive?: boolean }>;
    expect(outputs.MarsApiUrl.value).toMatch(/^\$\{aws_api_gateway_stage\..+\.invoke_url\}\/mars$/);
    expect(outputs.MarsApiUrl.sensitive).toBeUndefined();
    expect(outputs.MarsApiKey).toMatchObject({ value: expect.stringMatching(/^\$\{aws_api_gateway_api_key\..+\.value\}$/), sensitive: true });
  });
});

describe("mars config", () => {
  it("offers exactly the weather sources FetchMarsData implements", () => {
    const source = (schema as any).definitions.environment.properties.mars.properties.weather.properties.source;
    expect([...source.enum].sort()).toEqual(Object.keys(WEATHER_SOURCES).sort());
  });

  it("gives every environment a usage plan that a display polling hourly stays inside", () => {
    for (const env of Object.values(config.environments)) {
      expect(env.mars.usagePlan.quotaPeriod).toBe("DAY");
      expect(env.mars.usagePlan.quotaLimit).toBeGreaterThanOrEqual(24);
    }
  });
});
