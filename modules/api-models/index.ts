// API Gateway models, request validators and the validation gateway responses of one REST API,
// all from `schemas/` (one source for API Gateway models and ajv). A route of
// `schemas/routes.ts` becomes the validation part of a method spec here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import { ApiGatewayGatewayResponse } from "@cdktf/provider-aws/lib/api-gateway-gateway-response";
import { ApiGatewayModel } from "@cdktf/provider-aws/lib/api-gateway-model";
import { ApiGatewayRequestValidator } from "@cdktf/provider-aws/lib/api-gateway-request-validator";
import { MODEL_NAMES, VALIDATORS, type ModelName, type RouteContract, type ValidatorName } from "../../schemas/routes";
import { REPO_ROOT } from "../nodejs-function/bundle";
import type { MethodSpec, RestApi } from "../rest-api";

/** `schemas/<name>.json` as parsed JSON. */
export function loadSchema(name: ModelName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(REPO_ROOT, "schemas", `${name}.json`), "utf8"));
}

/** The models a schema refers to (`"$ref": "Order.json"`), in the order they must exist. */
export function schemaReferences(schema: unknown): ModelName[] {
  const refs = new Set<ModelName>();
  JSON.stringify(schema, (key, value) => {
    if (key === "$ref" && typeof value === "string") refs.add(refName(value));
    return value;
  });
  return [...refs];
}

function refName(ref: string): ModelName {
  const name = /^([A-Za-z]+)\.json$/.exec(ref)?.[1];
  if (!name || !(MODEL_NAMES as readonly string[]).includes(name)) {
    throw new Error(`schemas: "$ref": "${ref}" must name a sibling schema file, one of ${MODEL_NAMES.map((m) => `${m}.json`).join(", ")}`);
  }
  return name as ModelName;
}

/**
 * The validation gateway responses answer with the seed's bodies:
 * `{"message": "Invalid request body"}` and `{"message": "Missing required request parameters: [Account-Id]"}`.
 */
export const VALIDATION_RESPONSE_TEMPLATE = '{"message": $context.error.messageString}';
const VALIDATION_RESPONSE_TYPES = ["BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS"] as const;

export type RouteValidation = Pick<MethodSpec, "httpMethod" | "path" | "requestParameters" | "requestValidatorId" | "requestModels">;

export class ApiModels extends Construct {
  private readonly models = new Map<ModelName, ApiGatewayModel>();
  private readonly validators = new Map<ValidatorName, ApiGatewayRequestValidator>();

  constructor(scope: Construct, id: string, private readonly api: RestApi) {
    super(scope, id);
    for (const name of MODEL_NAMES) this.model(name);
    for (const [name, flags] of Object.entries(VALIDATORS)) {
      const validator = new ApiGatewayRequestValidator(this, `validator-${name}`, {
        restApiId: api.id,
        name,
        validateRequestBody: flags.validateRequestBody,
        validateRequestParameters: flags.validateRequestParameters,
      });
      this.validators.set(name as ValidatorName, validator);
      api.serve(validator);
    }
    for (const responseType of VALIDATION_RESPONSE_TYPES) {
      api.serve(
        new ApiGatewayGatewayResponse(this, `gateway-response-${responseType}`, {
          restApiId: api.id,
          responseType,
          responseTemplates: { "application/json": VALIDATION_RESPONSE_TEMPLATE },
        }),
      );
    }
  }

  /** Method, path, validator, body model and required parameters of a route of the table. */
  route(route: RouteContract): RouteValidation {
    return {
      httpMethod: route.httpMethod,
      path: route.path,
      requestValidatorId: this.validators.get(route.validator)!.id,
      requestParameters: route.requestParameters,
      // The model's name as a reference: the method waits for the model.
      requestModels: route.bodyModel ? { "application/json": this.modelName(route.bodyModel) } : undefined,
    };
  }

  /** A model's name as a reference (what refers to it waits for it). */
  modelName(name: ModelName): string {
    return this.models.get(name)!.name;
  }

  private model(name: ModelName): ApiGatewayModel {
    const existing = this.models.get(name);
    if (existing) return existing;
    const schema = loadSchema(name);
    const dependencies = schemaReferences(schema).map((ref) => this.model(ref));
    // API Gateway resolves a model's $ref by the other model's URL in the same API.
    const modelUrl = (ref: string) => `https://apigateway.amazonaws.com/restapis/${this.api.id}/models/${refName(ref)}`;
    const resolved = JSON.stringify(schema, (key, value) => (key === "$ref" && typeof value === "string" ? modelUrl(value) : value));
    const model = new ApiGatewayModel(this, `model-${name}`, {
      restApiId: this.api.id,
      name,
      description: String(schema.title ?? name),
      contentType: "application/json",
      schema: resolved,
      dependsOn: dependencies,
    });
    this.models.set(name, model);
    this.api.serve(model);
    return model;
  }
}
