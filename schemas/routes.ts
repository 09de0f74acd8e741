// The API-Gateway-native routes of the platform and how their requests are validated: the one
// table that the modules turn into methods, validators and models (Terraform) and that the tests
// walk, so that the two cannot drift apart. Data only: nothing here imports code.

/** Request validators by name (the seed's `x-amazon-apigateway-request-validators`). */
export const VALIDATORS = {
  full: { validateRequestBody: true, validateRequestParameters: true },
  "body-only": { validateRequestBody: true, validateRequestParameters: false },
} as const;

/** Models by name; each is `schemas/<name>.json`, whose `$ref`s name sibling files. */
export const MODEL_NAMES = ["Order", "CreateOrders", "Comment", "Error"] as const;

export type ValidatorName = keyof typeof VALIDATORS;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface RouteContract {
  httpMethod: "GET" | "POST";
  path: string;
  validator: ValidatorName;
  /** The model of an `application/json` body; other content types are refused with 415. */
  bodyModel?: ModelName;
  /** `method.request.header.X` / `.querystring.x` / `.path.x` -> required. */
  requestParameters?: Record<string, boolean>;
}

export const ROUTES = {
  createOrders: { httpMethod: "POST", path: "/orders", validator: "body-only", bodyModel: "CreateOrders" },
  listOrders: {
    httpMethod: "GET",
    path: "/orders",
    validator: "full",
    requestParameters: { "method.request.header.Account-Id": true, "method.request.querystring.type": false },
  },
  postComment: { httpMethod: "POST", path: "/comments", validator: "body-only", bodyModel: "Comment" },
  getComments: { httpMethod: "GET", path: "/comments/{pageId}", validator: "full", requestParameters: { "method.request.path.pageId": true } },
  lambdaError: { httpMethod: "GET", path: "/lambda", validator: "full", requestParameters: { "method.request.querystring.status": true } },
} as const satisfies Record<string, RouteContract>;
