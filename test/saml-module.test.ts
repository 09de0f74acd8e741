// modules/saml-federation as synthesized: global resources in the primary region only, the audit
// table global, the claim and session tables regional and written in the authority region only,
// encryption and PITR, the trust policy's SAML:aud, GET /users only for
// ADFS-Production, the three routes, authorizer TTL 0, CORS for the login site only.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../stacks/config";
import { regionalStackName } from "../stacks/outputs";
import { only, resources, synthTo, type Synthesized } from "./helpers/synth";

const config = loadConfig();
let synthesized: Synthesized;
const primary = () => synthesized.stack(regionalStackName(config.primaryRegion));
const secondary = () => synthesized.stack(regionalStackName(config.regions.find((r) => r !== config.primaryRegion)!));
/** This module's resources of a type (other modules add tables and buckets of their own). */
const ofModule = (json: any, type: string): Record<string, any> =>
  Object.fromEntries(Object.entries(resources(json, type)).filter(([, r]) => String(r["//"]?.metadata?.path ?? "").includes("/saml-federation/")));
const byName = (json: any, type: string, name: string): Record<string, any> | undefined =>
  Object.values(resources(json, type)).find((r) => r.name === name);

beforeAll(() => {
  synthesized = synthTo("offline", config);
});

describe("saml-federation", () => {
  it("declares the SAML provider, the ADFS roles and the login site in the primary region only", () => {
    expect(only(primary(), "aws_iam_saml_provider").name).toBe("ADFS");
    expect(only(primary(), "aws_iam_saml_provider").saml_metadata_document).toContain("local.environment");
    expect(resources(secondary(), "aws_iam_saml_provider")).toEqual({});
    for (const role of ["ADFS-Production", "ADFS-Dev"]) {
      expect(byName(primary(), "aws_iam_role", role)).toBeDefined();
      expect(byName(secondary(), "aws_iam_role", role)).toBeUndefined();
    }
    expect(Object.keys(resources(primary(), "aws_s3_object")).length).toBe(4);
    expect(ofModule(secondary(), "aws_s3_bucket")).toEqual({});
  });

  it("makes the audit table a global table; every region has its own session and assertion tables, with TTL", () => {
    for (const stack of [primary(), secondary()]) {
      const tables = Object.values(ofModule(stack, "aws_dynamodb_table"));
      expect(tables.map((t) => t.name).sort()).toEqual(stack === primary() ? ["SAMLAssertions", "SAMLSessions", "SAMLUsers"] : ["SAMLAssertions", "SAMLSessions"]);
      for (const table of tables) {
        expect(table.server_side_encryption).toEqual({ enabled: true });
        expect(table.point_in_time_recovery).toEqual({ enabled: true });
      }
      // A replica would let a region decide a claim alone: these two are never global tables.
      expect(byName(stack, "aws_dynamodb_table", "SAMLSessions")).toMatchObject({ hash_key: "identityhash", ttl: { attribute_name: "expiresAt", enabled: true } });
      expect(byName(stack, "aws_dynamodb_table", "SAMLSessions")!.replica).toBeUndefined();
      expect(byName(stack, "aws_dynamodb_table", "SAMLAssertions")).toMatchObject({ ttl: { attribute_name: "expiresAt", enabled: true } });
      expect(byName(stack, "aws_dynamodb_table", "SAMLAssertions")!.replica).toBeUndefined();
    }
    expect(byName(primary(), "aws_dynamodb_table", "SAMLUsers")).toMatchObject({ hash_key: "CognitoID", replica: [{ region_name: "us-west-2", point_in_time_recovery: true }] });
  });

  it.each(["primary", "secondary"])("has the %s region claim assertions, park and pick up credentials in the authority region only", (which) => {
    const stack = which === "primary" ? primary() : secondary();
    const authority = "${local.environment.saml.authorityRegion}";
    const processSaml = Object.values(resources(stack, "aws_lambda_function")).find((f) => f.function_name === "platform-process-saml")!;
    expect(processSaml.environment.variables.AUTHORITY_REGION).toBe(authority);
    const policies = Object.values(resources(stack, "aws_iam_role_policy")).map((p) => JSON.stringify(p.policy));
    const processPolicy = policies.find((p) => p.includes("ClaimAssertions"))!;
    expect(processPolicy).toContain(`arn:aws:dynamodb:${authority}:`);
    expect(processPolicy).not.toMatch(/arn:aws:dynamodb:us-[a-z]+-\d:[^"]*SAML(Sessions|Assertions)/);
    const pickup = Object.values(resources(stack, "aws_api_gateway_integration")).find((i) => String(i.uri).includes("dynamodb:action/DeleteItem"))!;
    expect(pickup.uri).toBe(`arn:aws:apigateway:${authority}:dynamodb:action/DeleteItem`);
    expect(policies.find((p) => p.includes("PickUpOnce"))).toContain(`arn:aws:dynamodb:${authority}:`);
  });

  it("lets the ADFS roles be assumed only with SAML from the provider, for assertions addressed to the platform", () => {
    const trust = JSON.stringify(byName(primary(), "aws_iam_role", "ADFS-Production")!.assume_role_policy);
    expect(trust).toContain("sts:AssumeRoleWithSAML");
    expect(trust).toContain("aws_iam_saml_provider.");
    expect(trust).toContain('\\"SAML:aud\\"');
    expect(trust).toContain("/v1/saml");
  });

  it("allows ADFS-Production execute-api:Invoke on GET /users of stage prod only, in every region", () => {
    const policy = Object.values(resources(primary(), "aws_iam_role_policy")).find((p) => p.name === "invoke-get-users")!;
    expect(JSON.stringify(policy.policy)).toContain("execute-api:Invoke");
    expect(JSON.stringify(policy.policy)).toContain("/prod/GET/users");
    expect(JSON.stringify(policy.policy)).not.toMatch(/"Action":\s*\[?"\*"/);
  });

  it.each(["primary", "secondary"])("gives the %s region its routes, a REQUEST authorizer with TTL 0 and its own JWT key", (which) => {
    const stack = which === "primary" ? primary() : secondary();
    const authorizers = Object.values(ofModule(stack, "aws_api_gateway_authorizer"));
    expect(authorizers).toHaveLength(1);
    const authorizer = authorizers[0];
    expect(authorizer).toMatchObject({
      type: "REQUEST",
      authorizer_result_ttl_in_seconds: 0,
      identity_source: "method.request.header.Authorization,method.request.header.X-Identity-Id,method.request.header.X-Relay-Code",
    });
    const methods = Object.values(resources(stack, "aws_api_gateway_method")).map((m) => `${m.http_method} ${m.authorization}`);
    expect(methods).toEqual(expect.arrayContaining(["POST NONE", "GET CUSTOM", "GET AWS_IAM", "OPTIONS NONE"]));
    const integrations = Object.values(resources(stack, "aws_api_gateway_integration"));
    const pickup = integrations.find((i) => String(i.uri).includes("dynamodb:action/DeleteItem"))!;
    expect(pickup.request_templates["application/json"]).toContain("$context.authorizer.principalId");
    expect(pickup.request_templates["application/json"]).toContain('"ALL_OLD"');
    const login = integrations.find((i) => i.request_templates?.["application/x-www-form-urlencoded"])!;
    expect(login).toMatchObject({ type: "AWS", passthrough_behavior: "NEVER" });
    expect(login.request_templates["application/x-www-form-urlencoded"]).toContain("$util.base64Encode($input.body)");
    const redirects = Object.values(resources(stack, "aws_api_gateway_method_response")).filter((r) => r.response_parameters?.["method.response.header.Location"] === false);
    expect(redirects.map((r) => r.status_code).sort()).toEqual(["302", "303"]);
    const location = Object.values(resources(stack, "aws_api_gateway_integration_response")).filter((r) => r.response_parameters?.["method.response.header.Location"]);
    expect(location.map((r) => r.response_parameters["method.response.header.Location"])).toContain("integration.response.body.location");
    expect(only(stack, "aws_kms_key")).toMatchObject({ customer_master_key_spec: "ECC_NIST_P256", key_usage: "SIGN_VERIFY" });
  });

  it("answers CORS for the login site's origin only", () => {
    const origins = new Set(
      Object.values(resources(primary(), "aws_api_gateway_integration_response")).flatMap((r) =>
        Object.entries(r.response_parameters ?? {}).filter(([k]) => k.endsWith("Access-Control-Allow-Origin")).map(([, v]) => v),
      ),
    );
    expect([...origins]).toEqual(["'${local.environment.saml.loginSiteOrigin}'"]);
  });

  it("bundles the SAML handlers as ES modules under 1 MiB, with the configuration in their environment", () => {
    const functions = Object.values(resources(primary(), "aws_lambda_function"));
    const processSaml = functions.find((f) => f.function_name === "platform-process-saml")!;
    expect(Object.keys(processSaml.environment.variables)).toEqual(
      expect.arrayContaining(["IDP_ENTITY_ID", "IDP_SIGNING_CERTIFICATES", "ACS_URLS", "SAML_PROVIDER_ARN", "ROLE_NAME_CONTAINS", "JWT_KEY_ID", "LOGIN_PAGE_URL"]),
    );
    const authorizer = functions.find((f) => f.function_name === "platform-saml-authorizer")!;
    expect(authorizer.environment.variables.JWT_KEY_REGIONS).toBe("us-east-1,us-west-2");
    for (const name of ["process-saml", "saml-authorizer"]) {
      const zip = readdirSync(join(synthesized.outdir, ".bundles")).find((f) => f.startsWith(`${name}-`))!;
      expect(statSync(join(synthesized.outdir, ".bundles", zip)).size).toBeLessThan(1024 * 1024);
    }
  });
});
