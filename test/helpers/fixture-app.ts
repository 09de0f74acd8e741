// A small app built from the platform's own modules, for exercising the local cloud's API
// Gateway on routes the platform does not have (yet): a MOCK route and a DynamoDB service
// integration whose role may or may not allow the call.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { policyDocument, serviceTrustPolicy } from "../../modules/iam/policy";
import { setLambdaDefaults } from "../../modules/nodejs-function";
import { RestApi } from "../../modules/rest-api";

export const FIXTURE_TABLE = "FixtureItems";
export const FIXTURE_ROLE = "fixture-items-proxy";

/** A stack holding one REST API of the platform's module, for a test to add routes to. */
export function fixtureStack(name: string, region = "us-east-1") {
  const outdir = mkdtempSync(join(tmpdir(), `${name}-`));
  const app = new App({ outdir, stackTraces: false });
  const stack = new TerraformStack(app, name);
  new AwsProvider(stack, "aws", { region });
  new LocalBackend(stack, { path: `terraform.${name}.tfstate` });
  setLambdaDefaults(stack, { applicationLogLevel: "INFO", systemLogLevel: "INFO", metricsNamespace: name });
  const api = new RestApi(stack, "api", {
    name: `${name}-api`,
    region,
    project: name,
    logRetentionDays: 1,
    throttle: { rateLimit: 10000, burstLimit: 5000 },
    customDomain: { domainName: `${name}.example.com`, hostedZoneId: "Z0FIXTURE" },
  });
  return { app, stack, api, region, outdir };
}

/** Synthesizes the fixture; `allowPutItem` decides whether the integration role may write. */
export function synthFixtureApp(options: { allowPutItem: boolean; region?: string }): string {
  const { app, stack, api, region, outdir } = fixtureStack("fixture", options.region);

  api.addMethod({
    httpMethod: "GET",
    path: "/mock",
    integration: {
      type: "MOCK",
      requestTemplates: { "application/json": '{"statusCode": 200}' },
      responses: [{ statusCode: "200", responseTemplates: { "application/json": '{"mock":true,"requestId":"$context.requestId"}' } }],
    },
  });

  const table = new DynamodbTable(stack, "items", {
    name: FIXTURE_TABLE,
    billingMode: "PAY_PER_REQUEST",
    hashKey: "id",
    attribute: [{ name: "id", type: "S" }],
  });
  const role = new IamRole(stack, "proxy-role", { name: FIXTURE_ROLE, assumeRolePolicy: serviceTrustPolicy("apigateway.amazonaws.com") });
  new IamRolePolicy(stack, "proxy-policy", {
    role: role.id,
    name: "items",
    policy: policyDocument([{ actions: options.allowPutItem ? ["dynamodb:PutItem"] : ["dynamodb:GetItem"], resources: [table.arn] }]),
  });
  api.addMethod({
    httpMethod: "POST",
    path: "/items",
    integration: {
      type: "AWS",
      integrationHttpMethod: "POST",
      uri: `arn:aws:apigateway:${region}:dynamodb:action/PutItem`,
      credentials: role.arn,
      requestTemplates: {
        "application/json": `{"TableName": "${FIXTURE_TABLE}", "Item": {"id": {"S": "$context.requestId"}, "text": {"S": "$util.escapeJavaScript($input.path('$.text'))"}}}`,
      },
      responses: [
        { statusCode: "200", responseTemplates: { "application/json": '{"id":"$context.requestId"}' } },
        { statusCode: "400", selectionPattern: "4\\d{2}", responseTemplates: { "application/json": '{"message":"rejected"}' } },
      ],
    },
  });
  new TerraformOutput(stack, "table_arn", { value: table.arn });
  app.synth();
  return outdir;
}
