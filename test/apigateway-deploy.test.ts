// What the local cloud refuses to deploy in API Gateway, and why: an integration or a mapping
// template it cannot run as AWS does is refused with the resource's address, before anything is
// served (the end-to-end case, an HTTP_PROXY integration in a deployed stack, is in
// test/apigateway-conformance.test.ts).
import { describe, expect, it } from "vitest";
import { apiGatewayResources } from "../local/apigateway/resources";
import { ApiGatewayState } from "../local/apigateway/state";
import type { RegionServices } from "../local/cloud/services";
import { DeployError, type ResourceContext } from "../local/deployer/types";

const LAMBDA_URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:fn/invocations";

/** An API with one GET method on its root, to put integrations on. */
function deployContext(type: string, config: Record<string, unknown>): ResourceContext<RegionServices> {
  const apigateway = new ApiGatewayState("us-east-1");
  apigateway.createRestApi({ id: "api1", accountId: "000000000000", rootResourceId: "root1", name: "api" });
  apigateway.putMethod("api1", { httpMethod: "GET", resourceId: "root1", authorizationType: "NONE", apiKeyRequired: false, requestParameters: {}, requestModels: {} });
  apigateway.putMethodResponse("api1", "root1", "GET", { statusCode: "200", responseParameters: {}, responseModels: {} });
  return {
    type,
    name: "under_test",
    address: `${type}.under_test`,
    config: { rest_api_id: "api1", resource_id: "root1", http_method: "GET", ...config },
    stack: { name: "fixture", dir: "." },
    workspace: "dev",
    region: "us-east-1",
    accountId: "000000000000",
    services: { apigateway } as unknown as RegionServices,
    stableId: () => "id",
    log: () => {},
  };
}

function refusal(type: string, config: Record<string, unknown>): DeployError {
  try {
    apiGatewayResources[type](deployContext(type, config));
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).code).toBe("UNSUPPORTED_INTEGRATION");
    expect((error as DeployError).message).toMatch(new RegExp(`^fixture: ${type}\\.under_test: the local cloud cannot run this as AWS does, so it will not deploy the stack: `));
    return error as DeployError;
  }
  throw new Error(`${type} ${JSON.stringify(config)} was deployed`);
}

describe("integrations the local cloud refuses at deploy", () => {
  it.each([
    [{ type: "HTTP", uri: "https://example.com/x", integration_http_method: "GET" }, /HTTP integrations call https:\/\/example\.com\/x beyond loopback/],
    [{ type: "HTTP_PROXY", uri: "https://example.com/{proxy}", integration_http_method: "ANY" }, /HTTP_PROXY integrations call/],
    [{ type: "AWS", uri: "arn:aws:apigateway:us-east-1:s3:path/bucket/key", credentials: "arn:aws:iam::000000000000:role/r" }, /AWS integrations with s3 are not emulated \(the local cloud emulates actions of dynamodb and kinesis\)/],
    [{ type: "AWS", uri: "arn:aws:apigateway:us-east-1:sns:action/Publish", credentials: "arn:aws:iam::000000000000:role/r" }, /AWS integrations with sns are not emulated/],
    [{ type: "AWS", uri: "arn:aws:apigateway:us-east-1:dynamodb:path/tables", credentials: "arn:aws:iam::000000000000:role/r" }, /path-style AWS integrations \(dynamodb:path\/\.\.\.\) are not emulated/],
    [{ type: "AWS", uri: "not-an-arn" }, /not-an-arn is not an API Gateway service URI/],
    [{ type: "AWS_PROXY", uri: "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem" }, /an AWS_PROXY integration must invoke a Lambda function/],
    [{ type: "AWS_PROXY", uri: LAMBDA_URI.replace("function:fn", "function:${stageVariables.fn}") }, /stage variables in the integration URI .* are not emulated/],
    [{ type: "AWS_PROXY", uri: LAMBDA_URI, content_handling: "CONVERT_TO_TEXT" }, /content_handling CONVERT_TO_TEXT \(binary payload conversion\) is not emulated/],
    [{ type: "VPC_LINK_THING" }, /integration type VPC_LINK_THING is unknown/],
  ])("%j", (config, reason) => {
    expect(refusal("aws_api_gateway_integration", config).message).toMatch(reason);
  });

  it("accepts what it runs: MOCK, Lambda proxy and non-proxy, DynamoDB and Kinesis actions", () => {
    for (const config of [
      { type: "MOCK", request_templates: { "application/json": '{"statusCode": 200}' } },
      { type: "AWS_PROXY", uri: LAMBDA_URI },
      { type: "AWS", uri: LAMBDA_URI },
      { type: "AWS", uri: "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem", credentials: "arn:aws:iam::000000000000:role/r" },
      { type: "AWS", uri: "arn:aws:apigateway:us-east-1:kinesis:action/PutRecord", credentials: "arn:aws:iam::000000000000:role/r" },
    ]) {
      expect(() => apiGatewayResources.aws_api_gateway_integration(deployContext("aws_api_gateway_integration", config))).not.toThrow();
    }
  });
});

describe("mapping templates the local cloud refuses at deploy", () => {
  it.each([
    ['#include("other.vm")', /request template for application\/json: line 1, column 1: #include is not emulated by the local cloud/],
    ['#parse("other.vm")', /#parse is not emulated/],
    ['#evaluate("$x")', /#evaluate is not emulated/],
    ["#notamacro()", /#notamacro is neither a Velocity directive nor a macro of this template/],
    ["$input.json('$.pets[?(@.price > 10)]')", /\$input\.json: JSONPath "\$\.pets\[\?\(@\.price > 10\)\]" at 6: .* is not emulated by the local cloud/],
    ["$input.path('$.pets.length()')", /the JSONPath function length\(\) is not emulated/],
    ["{\n#set($b = )\n}", /invalid mapping template: line 2/],
    ["#if($a)never closed", /#if is never closed with #end/],
  ])("%s", (template, reason) => {
    expect(refusal("aws_api_gateway_integration", { type: "MOCK", request_templates: { "application/json": template } }).message).toMatch(reason);
  });

  it("a response template and a gateway response template are checked too", () => {
    expect(refusal("aws_api_gateway_integration_response", { status_code: "200", response_templates: { "application/json": "#parse('x')" } }).message).toMatch(/response template for application\/json: .*#parse/);
    expect(refusal("aws_api_gateway_integration_response", { status_code: "200", content_handling: "CONVERT_TO_BINARY" }).message).toMatch(/content_handling CONVERT_TO_BINARY/);
    expect(refusal("aws_api_gateway_gateway_response", { response_type: "DEFAULT_4XX", response_templates: { "application/json": "#foreach($x in $y)" } }).message).toMatch(/gateway response template .*#foreach is never closed/);
  });

  it("a JSONPath built at run time is not judged at deploy", () => {
    const template = '#foreach($i in [0..1])$input.path("$.items[${i}]")#end';
    expect(() => apiGatewayResources.aws_api_gateway_integration(deployContext("aws_api_gateway_integration", { type: "MOCK", request_templates: { "application/json": template } }))).not.toThrow();
  });
});
