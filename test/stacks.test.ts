// The synthesized Terraform: stacks, their key settings, and the workspace -> environment wiring.
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../stacks/config";
import { HEALTH_CHECK, LATENCY_RECORD_TTL } from "../stacks/global-dns";
import { ACCESS_LOG_FORMAT } from "../modules/rest-api/formats";
import { PRIMARY_ONLY_SCOPE } from "../modules/saml-federation";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { readSynthesized, type TerraformJson } from "../scripts/lib/synthesized";
import { fixtureStack } from "./helpers/fixture-app";
import { only, resources, synthTo, type Synthesized } from "./helpers/synth";

const config = loadConfig();
const REGIONAL = config.regions.map((r) => `platform-${r}`);

/** Resources that only the primary region's stack declares (see modules/saml-federation). */
const isPrimaryOnly = (resource: any) => String(resource["//"]?.metadata?.path ?? "").includes(`/${PRIMARY_ONLY_SCOPE}/`);

let aws: Synthesized;
let offline: Synthesized;
beforeAll(() => {
  aws = synthTo("aws");
  offline = synthTo("offline");
});

describe("stacks", () => {
  it("has one regional stack per configured region, global-dns and org-guardrails", () => {
    expect(aws.stacks.map((s) => s.name).sort()).toEqual([...REGIONAL, "global-dns", "org-guardrails"].sort());
  });

  it("deploys global-dns after the regional stacks whose outputs it reads", () => {
    const dns = aws.stacks.find((s) => s.name === "global-dns")!;
    expect(dns.dependencies.sort()).toEqual([...REGIONAL].sort());
    const order = aws.stacks.map((s) => s.name);
    for (const regional of REGIONAL) expect(order.indexOf(regional)).toBeLessThan(order.indexOf("global-dns"));
  });

  it("deploys regional stacks and global-dns in every environment, org-guardrails in one", () => {
    for (const s of aws.stacks) {
      const expected = s.name === "org-guardrails" ? [config.organization.workspace] : Object.keys(config.environments).sort();
      expect(s.workspaces, s.name).toEqual(expected);
    }
  });
});

describe("workspace selects the environment", () => {
  it("guards the lookup with a validation that names the workspace", () => {
    for (const s of aws.stacks) {
      const check = s.json.variable?.workspace_check as { validation: { condition: string; error_message: string }[] };
      expect(check.validation[0].condition).toContain("contains(keys(local.environments), terraform.workspace)");
      expect(check.validation[0].error_message).toContain('Terraform workspace "${terraform.workspace}"');
      expect(s.json.locals?.environment).toBe("${var.workspace_check ? local.environments[terraform.workspace] : null}");
    }
  });

  it("aws target: S3 state per stack with a workspace key prefix and locking, provider assumes the deploy role", () => {
    for (const s of aws.stacks) {
      const backend = (s.json.terraform as any).backend.s3;
      expect(backend).toMatchObject({
        bucket: config.stateBackend.bucket,
        key: `${config.stateBackend.keyPrefix}/${s.name}.tfstate`,
        workspace_key_prefix: `${config.stateBackend.keyPrefix}/workspaces`,
        use_lockfile: true,
        encrypt: true,
      });
      const provider = s.json.provider!.aws[0] as any;
      const expectedRole = s.name === "org-guardrails" ? config.organization.deployRoleArn : "${local.environment.deployRoleArn}";
      expect(provider.assume_role[0].role_arn).toBe(expectedRole);
      const expectedAccount = s.name === "org-guardrails" ? config.organization.managementAccountId : "${local.environment.accountId}";
      expect(provider.allowed_account_ids).toEqual([expectedAccount]);
      expect(provider.default_tags[0].tags.Environment).toBe("${terraform.workspace}");
    }
  });

  it("offline target: local state, no role to assume, no account lookups", () => {
    for (const s of offline.stacks) {
      expect((s.json.terraform as any).backend).toEqual({ local: { path: `terraform.${s.name}.tfstate` } });
      const provider = s.json.provider!.aws[0] as any;
      expect(provider.assume_role).toBeUndefined();
      expect(provider.allowed_account_ids).toBeUndefined();
      expect(provider).toMatchObject({ skip_credentials_validation: true, skip_requesting_account_id: true });
    }
  });

  it("carries every environment of the config, unchanged", () => {
    expect(aws.stack("platform-us-east-1").locals?.environments).toEqual(config.environments);
  });
});

describe("regional platform", () => {
  it.each(REGIONAL)("%s: REGIONAL REST API with stage prod, tracing, JSON access logs with the enhanced fields", (name) => {
    const json = aws.stack(name);
    expect(only(json, "aws_api_gateway_rest_api").endpoint_configuration.types).toEqual(["REGIONAL"]);
    const stage = only(json, "aws_api_gateway_stage");
    expect(stage.stage_name).toBe("prod");
    expect(stage.xray_tracing_enabled).toBe(true);
    const format = JSON.parse(stage.access_log_settings.format);
    expect(format).toEqual(ACCESS_LOG_FORMAT);
    for (const phase of ["authorizer", "integration", "error"]) {
      expect(Object.values(format).some((v) => String(v).startsWith(`$context.${phase}.`)), phase).toBe(true);
    }
    expect(JSON.stringify(format)).not.toContain("identity.apiKey\"");
    const logGroup = Object.values(resources(json, "aws_cloudwatch_log_group")).find((g) => g.name.endsWith("/access"))!;
    expect(logGroup.retention_in_days).toBe("${local.environment.logRetentionDays}");
  });

  it.each(REGIONAL)("%s: stage throttling from the environment", (name) => {
    const settings = Object.values(resources(aws.stack(name), "aws_api_gateway_method_settings")).find((s) => s.method_path === "*/*")!;
    expect(settings.settings).toMatchObject({
      throttling_rate_limit: "${local.environment.api.throttleRateLimit}",
      throttling_burst_limit: "${local.environment.api.throttleBurstLimit}",
    });
  });

  it.each(REGIONAL)("%s: the deployments (the stage's and the canary's) wait for and hash every method, integration and response", (name) => {
    const json = aws.stack(name);
    const deployments = Object.values(resources(json, "aws_api_gateway_deployment"));
    expect(deployments).toHaveLength(2);
    expect(configurationHash(json)).toMatch(/^[0-9a-f]{64}$/);
    for (const deployment of deployments) {
      expect(deployment.lifecycle).toEqual({ create_before_destroy: true });
      expect(deployment.triggers.configuration).toMatch(/^(\$\{terraform_data\.api_stage-configuration_\w+\.output\}|[0-9a-f]{64})$/);
      for (const type of ["aws_api_gateway_method", "aws_api_gateway_integration", "aws_api_gateway_resource", "aws_api_gateway_gateway_response"]) {
        for (const id of Object.keys(resources(json, type))) expect(deployment.depends_on).toContain(`${type}.${id}`);
      }
    }
  });

  it("the deployment trigger is the same for the same API: a second synth, a setting outside the API", () => {
    const hashOf = (s: Synthesized) => configurationHash(s.stack("platform-us-east-1"));
    const again = synthTo("aws");
    expect(hashOf(again)).toBe(hashOf(aws));
    const changed = structuredClone(config);
    changed.environments.dev.logRetentionDays = 30; // not part of the API's configuration
    expect(hashOf(synthTo("aws", changed))).toBe(hashOf(aws));
  });

  it("the deployment trigger changes when an integration, an integration response or a method changes, and only then", () => {
    // The REST API module with one route; each variant changes one thing.
    const trigger = (variant: { requestTemplate?: string; responseTemplate?: string; authorization?: "NONE" | "AWS_IAM"; unrelated?: boolean }) => {
      const { app, stack, api, outdir } = fixtureStack("trigger");
      api.addMethod({
        httpMethod: "GET",
        path: "/thing",
        authorization: variant.authorization,
        integration: {
          type: "MOCK",
          requestTemplates: { "application/json": variant.requestTemplate ?? '{"statusCode": 200}' },
          responses: [{ statusCode: "200", responseTemplates: { "application/json": variant.responseTemplate ?? '{"ok": true}' } }],
        },
      });
      if (variant.unrelated) new CloudwatchLogGroup(stack, "unrelated", { name: "unrelated", retentionInDays: 1 });
      app.synth();
      const [synthesized] = readSynthesized(outdir);
      return only(synthesized.json, "aws_api_gateway_deployment").triggers.configuration;
    };
    const original = trigger({});
    expect(trigger({})).toBe(original);
    expect(trigger({ unrelated: true })).toBe(original);
    expect(trigger({ requestTemplate: '{"statusCode": 201}' })).not.toBe(original);
    expect(trigger({ responseTemplate: '{"ok": false}' })).not.toBe(original);
    expect(trigger({ authorization: "AWS_IAM" })).not.toBe(original);
  });

  it.each(REGIONAL)("%s: JSON gateway responses for every 4XX and 5XX, keeping their status codes", (name) => {
    const responses = Object.values(resources(aws.stack(name), "aws_api_gateway_gateway_response"));
    // The validation failures answer with the request-validation seed's bodies (modules/api-models).
    expect(responses.map((r) => r.response_type).sort()).toEqual(["BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "DEFAULT_4XX", "DEFAULT_5XX"]);
    for (const r of responses) {
      expect(r.status_code).toBeUndefined();
      expect(r.response_templates["application/json"]).toMatch(/"message": ?\$context\.error\.messageString/);
    }
  });

  it.each(REGIONAL)("%s: custom domain with a DNS-validated certificate and base path v1 -> prod", (name) => {
    const json = aws.stack(name);
    const certificate = only(json, "aws_acm_certificate");
    expect(certificate).toMatchObject({ domain_name: "${local.environment.domainName}", validation_method: "DNS" });
    const record = only(json, "aws_route53_record");
    expect(record).toMatchObject({ zone_id: "${local.environment.hostedZone.id}", allow_overwrite: true });
    expect(record.name).toMatch(/domain_validation_options.*resource_record_name/);
    const domain = only(json, "aws_api_gateway_domain_name");
    expect(domain.endpoint_configuration.types).toEqual(["REGIONAL"]);
    expect(domain.regional_certificate_arn).toMatch(/^\$\{aws_acm_certificate_validation\..*\.certificate_arn\}$/);
    const mapping = only(json, "aws_api_gateway_base_path_mapping");
    expect(mapping.base_path).toBe("v1");
    expect(mapping.stage_name).toMatch(/aws_api_gateway_stage\..*\.stage_name/);
  });

  it.each(REGIONAL)("%s: every Lambda is nodejs22.x on arm64 with tracing, its own role and a log group with retention", (name) => {
    const json = aws.stack(name);
    const functions = Object.values(resources(json, "aws_lambda_function"));
    expect(functions.length).toBeGreaterThanOrEqual(2);
    const roles = new Set<string>();
    for (const fn of functions) {
      expect(fn).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], tracing_config: { mode: "Active" } });
      expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(fn.filename).toMatch(/^assets\/.*\.zip$/);
      roles.add(fn.role);
      const logGroupRef = fn.logging_config.log_group.match(/^\$\{aws_cloudwatch_log_group\.([^.]+)\.name\}$/)[1];
      expect(fn.depends_on).toContain(`aws_cloudwatch_log_group.${logGroupRef}`);
      const logGroup = resources(json, "aws_cloudwatch_log_group")[logGroupRef];
      expect(logGroup.name).toBe(`/aws/lambda/${fn.function_name}`);
      expect(logGroup.retention_in_days).toBe("${local.environment.logRetentionDays}");
      // No secret in the environment: no variable named as one holding a secret, no secret-looking value.
      for (const [name, value] of Object.entries<string>(fn.environment?.variables ?? {})) {
        expect(name).not.toMatch(/(SECRET|PASSWORD|TOKEN|API_KEY)$/i);
        expect(value).not.toMatch(/secret|password/i);
      }
    }
    expect(roles.size).toBe(functions.length);
  });

  it.each(REGIONAL)("%s: IAM role names carry the region (IAM is global to the account)", (name) => {
    const region = name.replace("platform-", "");
    // Roles only the primary region declares (the federation roles) exist once per account.
    const perRegion = Object.values(resources(aws.stack(name), "aws_iam_role")).filter((r) => !isPrimaryOnly(r));
    for (const role of perRegion) expect(role.name).toMatch(new RegExp(`-${region}$`));
  });

  it.each(REGIONAL)("%s: GET /helloworld and GET /healthcheck are Lambda proxies to the health functions", (name) => {
    const json = aws.stack(name);
    const fnByRef = (uri: string) => {
      const id = uri.match(/aws_lambda_function\.([^.]+)\.invoke_arn/)![1];
      return resources(json, "aws_lambda_function")[id];
    };
    const resourceByRef = (ref: string) => resources(json, "aws_api_gateway_resource")[ref.match(/aws_api_gateway_resource\.([^.]+)\.id/)![1]];
    const lambdaProxies = Object.values(resources(json, "aws_api_gateway_integration")).filter((i) => i.type === "AWS_PROXY");
    const routes = lambdaProxies.map((i) => ({
      path: resourceByRef(i.resource_id).path_part,
      type: i.type,
      fn: fnByRef(i.uri).function_name,
    }));
    expect(routes).toEqual(
      expect.arrayContaining([
        { path: "helloworld", type: "AWS_PROXY", fn: "platform-hello" },
        { path: "healthcheck", type: "AWS_PROXY", fn: "platform-healthcheck" },
      ]),
    );
    const healthcheck = Object.values(resources(json, "aws_lambda_function")).find((f) => f.function_name === "platform-healthcheck")!;
    expect(healthcheck.environment.variables.STATUS).toBe("ok");
    const permissions = Object.values(resources(json, "aws_lambda_permission")).map((p) => p.source_arn);
    expect(permissions).toEqual(expect.arrayContaining([expect.stringMatching(/\/\*\/GET\/helloworld$/), expect.stringMatching(/\/\*\/GET\/healthcheck$/)]));
  });

  it("the two regional stacks are the same apart from the region and what the primary alone declares", () => {
    const [first, ...others] = REGIONAL;
    // The state bucket's region is the same for every stack: it is not the stack's region.
    // Account-global resources are declared by the primary region only, in their own scope.
    const comparable = (name: string) => {
      const json = structuredClone(aws.stack(name)) as any;
      expect(json.terraform.backend.s3.region).toBe(config.stateBackend.region);
      delete json.terraform.backend.s3.region;
      for (const [type, byId] of Object.entries(json.resource as Record<string, Record<string, object>>)) {
        for (const [id, resource] of Object.entries(byId)) if (isPrimaryOnly(resource)) delete byId[id];
        if (Object.keys(byId).length === 0) delete json.resource[type];
      }
      return JSON.stringify(json);
    };
    // Cross-region facts (a login may be picked up in another region; the login site lives in
    // the primary) name every region in every stack: all region names are normalized.
    const normalize = (name: string) => config.regions.reduce((text, region) => text.split(region).join("<region>"), comparable(name));
    expect(normalize(first)).toContain("<region>");
    for (const other of others) expect(normalize(other)).toEqual(normalize(first));
    const primaryOnly = (name: string) => Object.values(aws.stack(name).resource ?? {}).flatMap((byId) => Object.values(byId as object)).filter(isPrimaryOnly);
    expect(primaryOnly(`platform-${config.primaryRegion}`).length).toBeGreaterThan(0);
    for (const name of REGIONAL.filter((n) => n !== `platform-${config.primaryRegion}`)) expect(primaryOnly(name)).toEqual([]);
  });
});

describe("global-dns", () => {
  const json = () => aws.stack("global-dns");

  it.each(config.regions)("%s: HTTPS_STR_MATCH health check on /prod/healthcheck of the region's execute-api host", (region) => {
    const check = Object.values(resources(json(), "aws_route53_health_check")).find((c) => c.tags.Name.endsWith(region))!;
    expect(check).toMatchObject({
      type: "HTTPS_STR_MATCH",
      port: 443,
      resource_path: "/prod/healthcheck",
      search_string: "ok",
      request_interval: 30,
      failure_threshold: 2,
    });
    expect(check.fqdn).toBe(`\${data.terraform_remote_state.state-${region}.outputs.api_execute_host}`);
    expect(HEALTH_CHECK.failureThreshold).toBe(2);
  });

  it.each(config.regions)("%s: latency CNAME for the platform domain, TTL 60, tied to its health check", (region) => {
    const records = resources(json(), "aws_route53_record");
    const [id, record] = Object.entries(records).find(([, r]) => r.set_identifier === region)!;
    expect(record).toMatchObject({
      name: "${local.environment.domainName}",
      zone_id: "${local.environment.hostedZone.id}",
      type: "CNAME",
      ttl: LATENCY_RECORD_TTL,
      latency_routing_policy: { region },
      records: [`\${data.terraform_remote_state.state-${region}.outputs.api_regional_domain_name}`],
    });
    const checkId = record.health_check_id.match(/aws_route53_health_check\.([^.]+)\.id/)[1];
    expect(resources(json(), "aws_route53_health_check")[checkId].tags.Name).toMatch(new RegExp(`${region}$`));
    expect(id).toContain(region);
  });

  it("reads each regional stack's state in the same workspace, from the same S3 bucket", () => {
    const states = (json().data as any).terraform_remote_state;
    for (const region of config.regions) {
      const state = states[`state-${region}`];
      expect(state.workspace).toBe("${terraform.workspace}");
      expect(state.backend).toBe("s3");
      expect(state.config).toMatchObject({
        bucket: config.stateBackend.bucket,
        key: `${config.stateBackend.keyPrefix}/platform-${region}.tfstate`,
        workspace_key_prefix: `${config.stateBackend.keyPrefix}/workspaces`,
      });
    }
  });

  it("the regional stacks publish the outputs global-dns reads", () => {
    const states = (json().data as any).terraform_remote_state as Record<string, unknown>;
    const read = new Set(JSON.stringify(json()).match(/outputs\.[a-z_]+/g)!.map((m) => m.slice("outputs.".length)));
    expect(Object.keys(states)).toHaveLength(config.regions.length);
    for (const region of config.regions) {
      const outputs = Object.keys(aws.stack(`platform-${region}`).output ?? {});
      for (const name of read) expect(outputs).toContain(name);
    }
  });
});

describe("org-guardrails", () => {
  it("imports the organization, enables SCPs on its root, and creates the HIPAA OU under that root", () => {
    const stack = aws.stack("org-guardrails");
    const organization = only(stack, "aws_organizations_organization");
    expect(organization).toMatchObject({
      feature_set: "ALL",
      enabled_policy_types: config.organization.enabledPolicyTypes,
      lifecycle: { prevent_destroy: true, ignore_changes: ["aws_service_access_principals"] },
    });
    expect((stack as any).import).toContainEqual({ id: config.organization.id, to: expect.stringMatching(/^aws_organizations_organization\./) });
    expect(only(stack, "aws_organizations_organizational_unit")).toMatchObject({
      name: "HIPAA-Accounts",
      parent_id: expect.stringMatching(/^\$\{aws_organizations_organization\.[\w-]+\.roots\[0\]\.id\}$/),
    });
  });
});

/** The hash of everything the REST API serves (the input the deployments' triggers follow). */
function configurationHash(json: TerraformJson): string {
  return Object.entries(resources(json, "terraform_data")).find(([id]) => id.startsWith("api_configuration_"))![1].input;
}
