// Comments (seed "Using Amazon API Gateway as a proxy for DynamoDB"): POST /comments -> PutItem
// and GET /comments/{pageId} -> Query on the page index, straight from API Gateway with a role
// that may do nothing else. Posting needs an access token of the third-party issuer with scope
// comments:write (TOKEN authorizer, seed "Use Lambda authorizers with a third-party identity
// provider"); reading is public. The table is a global table declared by the primary region.
import { Construct } from "constructs";
import { ApiGatewayAuthorizer } from "@cdktf/provider-aws/lib/api-gateway-authorizer";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { ROUTES } from "../../schemas/routes";
import type { ApiModels } from "../api-models";
import { policyDocument, serviceTrustPolicy } from "../iam/policy";
import { NodejsFunction } from "../nodejs-function";
import { MIN_TOKEN_LIFETIME_ENV, type IntegrationResponseSpec, type RestApi } from "../rest-api";
import { PRIMARY_ONLY_SCOPE } from "../saml-federation";
import { PUT_COMMENT_RESPONSE, QUERY_COMMENTS_RESPONSE, SERVICE_ERROR_RESPONSE, putCommentRequest, queryCommentsRequest } from "./templates";

export const COMMENTS_TABLE = "Comments";
export const PAGE_INDEX = "pageId-index";
export const WRITE_SCOPE = "comments:write";
/** Seconds API Gateway reuses an authorizer decision; the authorizer refuses tokens that expire sooner. */
export const AUTHORIZER_RESULT_TTL_SECONDS = 300;
/** What a TOKEN authorizer is shown at all: a Bearer token of JWT characters. */
export const TOKEN_VALIDATION_EXPRESSION = "^Bearer [-0-9a-zA-Z._]+$";

export interface CommentsApiProps {
  api: RestApi;
  models: ApiModels;
  project: string;
  region: string;
  accountId: string;
  /** Declares the table, with a replica in each other region. */
  isPrimary: boolean;
  regions: string[];
  logRetentionDays: number;
  /** The third-party issuer whose access tokens may post comments. */
  tokens: { issuer: string; jwksUrl: string; audience: string };
}

export class CommentsApi extends Construct {
  readonly table: { name: string; arn: string };
  readonly authorizer: NodejsFunction;

  constructor(scope: Construct, id: string, props: CommentsApiProps) {
    super(scope, id);
    const { api, region } = props;
    this.table = { name: COMMENTS_TABLE, arn: `arn:aws:dynamodb:${region}:${props.accountId}:table/${COMMENTS_TABLE}` };
    if (props.isPrimary) this.globalTable(props);

    const role = new IamRole(this, "proxy-role", {
      name: `${props.project}-comments-proxy-${region}`,
      description: "API Gateway's role for the Comments routes: PutItem and Query on Comments, nothing else",
      assumeRolePolicy: serviceTrustPolicy("apigateway.amazonaws.com"),
    });
    new IamRolePolicy(this, "proxy-role-policy", {
      name: "comments-put-and-query",
      role: role.id,
      policy: policyDocument([
        { sid: "PostComments", actions: ["dynamodb:PutItem"], resources: [this.table.arn] },
        { sid: "ReadPageComments", actions: ["dynamodb:Query"], resources: [this.table.arn, `${this.table.arn}/index/${PAGE_INDEX}`] },
      ]),
    });

    this.authorizer = new NodejsFunction(this, "authorizer", {
      functionName: `${props.project}-comments-authorizer`,
      description: "TOKEN authorizer of POST /comments: third-party access token with scope comments:write",
      entry: "lambdas/comments-authorizer/index.ts",
      region,
      logRetentionDays: props.logRetentionDays,
      moduleFormat: "esm",
      memorySizeMb: 256,
      timeoutSeconds: 5,
      environment: {
        JWT_ISSUER: props.tokens.issuer,
        JWT_AUDIENCE: props.tokens.audience,
        JWKS_URL: props.tokens.jwksUrl,
        REQUIRED_SCOPE: WRITE_SCOPE,
        GRANTED_ROUTES: `${ROUTES.postComment.httpMethod}${ROUTES.postComment.path}`,
        [MIN_TOKEN_LIFETIME_ENV]: String(AUTHORIZER_RESULT_TTL_SECONDS),
      },
    });
    const authorizer = new ApiGatewayAuthorizer(this, "token-authorizer", {
      name: "comments-third-party-token",
      restApiId: api.id,
      type: "TOKEN",
      authorizerUri: this.authorizer.invokeArn,
      identitySource: "method.request.header.Authorization",
      identityValidationExpression: TOKEN_VALIDATION_EXPRESSION,
      authorizerResultTtlInSeconds: AUTHORIZER_RESULT_TTL_SECONDS,
    });
    api.serve(authorizer);
    api.allowInvoke("comments-authorizer", this.authorizer.functionName, "*");

    const dynamodb = (action: string, template: string, success: string) => ({
      type: "AWS" as const,
      integrationHttpMethod: "POST",
      uri: `arn:aws:apigateway:${region}:dynamodb:action/${action}`,
      credentials: role.arn,
      requestParameters: { "integration.request.header.Content-Type": "'application/x-amz-json-1.0'" },
      requestTemplates: { "application/json": template },
      passthroughBehavior: "NEVER" as const,
      responses: [
        { statusCode: "200", responseTemplates: { "application/json": success } },
        // Without these a DynamoDB error would take the default response and come back as 200.
        { statusCode: "400", selectionPattern: "4\\d{2}", responseTemplates: { "application/json": SERVICE_ERROR_RESPONSE } },
        { statusCode: "500", selectionPattern: "5\\d{2}", responseTemplates: { "application/json": SERVICE_ERROR_RESPONSE } },
      ] satisfies IntegrationResponseSpec[],
    });
    api.addMethod({
      ...props.models.route(ROUTES.postComment),
      authorization: "CUSTOM",
      authorizerId: authorizer.id,
      integration: dynamodb("PutItem", putCommentRequest(COMMENTS_TABLE), PUT_COMMENT_RESPONSE),
    });
    api.addMethod({
      ...props.models.route(ROUTES.getComments),
      integration: dynamodb("Query", queryCommentsRequest(COMMENTS_TABLE, PAGE_INDEX), QUERY_COMMENTS_RESPONSE),
    });
  }

  private globalTable(props: CommentsApiProps): void {
    // In the scope every account-global resource of the primary region has.
    new DynamodbTable(new Construct(this, PRIMARY_ONLY_SCOPE), "table", {
      name: COMMENTS_TABLE,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "commentId",
      attribute: [
        { name: "commentId", type: "S" },
        { name: "pageId", type: "S" },
      ],
      globalSecondaryIndex: [{ name: PAGE_INDEX, hashKey: "pageId", projectionType: "INCLUDE", nonKeyAttributes: ["userName", "message"] }],
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: true },
      // Global tables replicate through the table's stream.
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
      replica: props.regions.filter((r) => r !== props.region).map((regionName) => ({ regionName, pointInTimeRecovery: true })),
      deletionProtectionEnabled: true,
    });
  }
}
