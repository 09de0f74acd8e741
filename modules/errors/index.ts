// The error contract of non-proxy Lambda integrations (seed "Error Handling Patterns in Amazon
// API Gateway and AWS Lambda"): selection patterns on the error's httpStatus route it to
// 400/403/404/500 with the seed's response template; any other failure, contract or not, is a
// 500 (never the default 200). GET /lambda?status= is the seed's demo route.
import { Construct } from "constructs";
import { ROUTES } from "../../schemas/routes";
import type { ApiModels } from "../api-models";
import { NodejsFunction } from "../nodejs-function";
import type { IntegrationResponseSpec, RestApi } from "../rest-api";

/** The seed's template: the Lambda's errorMessage is the contract's JSON. */
export const CONTRACT_ERROR_TEMPLATE = `#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))
#set ($bodyObj = $util.parseJson($input.body))
{
  "type" : "$errorMessageObj.errorType",
  "message" : "$errorMessageObj.message",
  "request-id" : "$errorMessageObj.requestId"
}`;

/**
 * 500: the contract's 500, and every failure that is not a 400/403/404 contract (a crash, a
 * timeout message), whose errorMessage is not JSON: it gets a contract-shaped body of its own.
 */
export const UNEXPECTED_ERROR_TEMPLATE = `#set ($raw = $input.path('$.errorMessage'))
#if ($raw.matches('[\\s\\S]*"httpStatus" *: *500[,}][\\s\\S]*'))
${CONTRACT_ERROR_TEMPLATE}
#else
{
  "type" : "InternalServerError",
  "message" : "An unknown error has occurred. Please try again.",
  "request-id" : "$context.requestId"
}
#end`;

// Patterns match the whole errorMessage ([\\s\\S] rather than ., which stops at a line break).
const contractPattern = (status: number) => `[\\s\\S]*"httpStatus" *: *${status}[,}][\\s\\S]*`;
const NOT_A_CLIENT_ERROR = `(?![\\s\\S]*"httpStatus" *: *(?:400|403|404)[,}])[\\s\\S]+`;

/** Integration responses of a non-proxy Lambda integration: `success` on 200, the contract otherwise. */
export function lambdaErrorResponses(success: Omit<IntegrationResponseSpec, "statusCode" | "selectionPattern">, errorModel?: string): IntegrationResponseSpec[] {
  const json = (template: string) => ({ responseTemplates: { "application/json": template }, ...(errorModel ? { responseModels: { "application/json": errorModel } } : {}) });
  return [
    { ...success, statusCode: "200" },
    ...[400, 403, 404].map((status) => ({ statusCode: String(status), selectionPattern: contractPattern(status), ...json(CONTRACT_ERROR_TEMPLATE) })),
    { statusCode: "500", selectionPattern: NOT_A_CLIENT_ERROR, ...json(UNEXPECTED_ERROR_TEMPLATE) },
  ];
}

export interface ErrorDemoProps {
  api: RestApi;
  models: ApiModels;
  project: string;
  region: string;
  logRetentionDays: number;
}

export class ErrorDemo extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ErrorDemoProps) {
    super(scope, id);
    this.function = new NodejsFunction(this, "function", {
      functionName: `${props.project}-error-demo`,
      description: "GET /lambda?status=: fails with the platform's error contract as asked",
      entry: "lambdas/error-demo/index.ts",
      region: props.region,
      logRetentionDays: props.logRetentionDays,
      memorySizeMb: 128,
      timeoutSeconds: 3,
    });
    const route = ROUTES.lambdaError;
    props.api.addMethod({
      ...props.models.route(route),
      integration: {
        type: "AWS",
        integrationHttpMethod: "POST",
        uri: this.function.invokeArn,
        // The seed pasted the parameter into JSON unquoted; quoted and escaped, any value is JSON.
        requestTemplates: { "application/json": `{"failureStatus" : "$util.escapeJavaScript($input.params('status')).replaceAll("\\\\'","'")"}` },
        passthroughBehavior: "WHEN_NO_TEMPLATES",
        responses: lambdaErrorResponses({ responseTemplates: { "application/json": "$input.json('$')" } }, props.models.modelName("Error")),
      },
    });
    props.api.allowInvoke("error-demo", this.function.functionName, `${route.httpMethod}${route.path}`);
  }
}
