// modules/comments-api, api-models and errors as synthesized: the Comments global table in the
// primary region only, the proxy role limited to PutItem/Query, the TOKEN authorizer's pinning,
// and one model per schema file with $refs resolved to model URLs.
import { beforeAll, describe, expect, it } from "vitest";
import { AUTHORIZER_RESULT_TTL_SECONDS, TOKEN_VALIDATION_EXPRESSION } from "../modules/comments-api";
import { MODEL_NAMES } from "../schemas/routes";
import { loadConfig } from "../stacks/config";
import { regionalStackName } from "../stacks/outputs";
import { resources, synthTo, type Synthesized } from "./helpers/synth";

const config = loadConfig();
let synthesized: Synthesized;
const primary = () => synthesized.stack(regionalStackName(config.primaryRegion));
const secondary = () => synthesized.stack(regionalStackName(config.regions.find((r) => r !== config.primaryRegion)!));
const byName = (json: any, type: string, name: string): any => Object.values(resources(json, type)).find((r: any) => r.name === name);

beforeAll(() => {
  synthesized = synthTo("offline", config);
});

describe("comments-api", () => {
  it("declares Comments once, as an encrypted global table with PITR and the page index", () => {
    const table = byName(primary(), "aws_dynamodb_table", "Comments");
    expect(table).toMatchObject({ hash_key: "commentId", server_side_encryption: { enabled: true }, point_in_time_recovery: { enabled: true }, stream_enabled: true });
    expect(table.global_secondary_index).toEqual([expect.objectContaining({ name: "pageId-index", hash_key: "pageId", projection_type: "INCLUDE", non_key_attributes: ["userName", "message"] })]);
    expect(table.replica.map((r: any) => r.region_name)).toEqual(config.regions.filter((r) => r !== config.primaryRegion));
    expect(byName(secondary(), "aws_dynamodb_table", "Comments")).toBeUndefined();
  });

  it("lets the proxy role do PutItem and Query on Comments and nothing else", () => {
    const policy = Object.values(resources(primary(), "aws_iam_role_policy")).find((p: any) => p.name === "comments-put-and-query") as any;
    // Rendered with jsonencode over an HCL object: read the actions and resources from the text.
    const text = String(policy.policy);
    expect([...new Set(text.match(/"?[a-z0-9-]+:[A-Za-z*]+"?(?=[,\]])/g)?.map((a) => a.replace(/"/g, "")))].sort()).toEqual(["dynamodb:PutItem", "dynamodb:Query"]);
    expect(text.match(/table\/[A-Za-z0-9/_.-]+/g)?.sort()).toEqual(["table/Comments", "table/Comments", "table/Comments/index/pageId-index"]);
  });

  it("pins the TOKEN authorizer: Authorization header, Bearer regex, TTL", () => {
    const authorizer = Object.values(resources(primary(), "aws_api_gateway_authorizer")).find((a: any) => a.name === "comments-third-party-token") as any;
    expect(authorizer).toMatchObject({ type: "TOKEN", identity_source: "method.request.header.Authorization", identity_validation_expression: TOKEN_VALIDATION_EXPRESSION, authorizer_result_ttl_in_seconds: AUTHORIZER_RESULT_TTL_SECONDS });
    const fn = byName(primary(), "aws_lambda_function", "platform-comments-authorizer") ?? Object.values(resources(primary(), "aws_lambda_function")).find((f: any) => f.function_name === "platform-comments-authorizer") as any;
    expect(fn.environment.variables).toMatchObject({ REQUIRED_SCOPE: "comments:write", GRANTED_ROUTES: "POST/comments", MIN_TOKEN_LIFETIME_SECONDS: String(AUTHORIZER_RESULT_TTL_SECONDS) });
  });

  it("has one model per schema file, $refs pointing at the sibling model's URL", () => {
    const models = Object.values(resources(primary(), "aws_api_gateway_model")) as any[];
    expect(models.map((m) => m.name).sort()).toEqual([...MODEL_NAMES].sort());
    const createOrders = models.find((m) => m.name === "CreateOrders");
    expect(createOrders.schema).toMatch(/"\$ref":"https:\/\/apigateway\.amazonaws\.com\/restapis\/\$\{aws_api_gateway_rest_api\.[^}]+\.id\}\/models\/Order"/);
    expect(createOrders.depends_on).toEqual([expect.stringMatching(/aws_api_gateway_model\..*Order/)]);
  });
});
