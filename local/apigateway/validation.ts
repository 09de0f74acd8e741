// Request validators with API Gateway's models (JSON Schema draft-04) and AWS's exact messages:
// `Missing required request parameters: [a, b]` and `Invalid request body`, with the detail of a
// refused body worded as API Gateway words it (validation-messages.ts).
import Ajv, { type ValidateFunction } from "ajv-draft-04";
import type { Method, Model, RequestValidator } from "./state";
import { validationErrorString } from "./validation-messages";

export type ValidationFailure = { kind: "parameters"; message: string } | { kind: "body"; message: string; errors: string };

export class ModelValidators {
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;

  constructor(
    readonly apiId: string,
    models: Map<string, Model>,
  ) {
    // verbose: errors carry the instance and the keyword's value, which the messages quote.
    this.ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, verbose: true });
    // Models refer to each other by their API Gateway URL.
    for (const model of models.values()) {
      this.ajv.addSchema(JSON.parse(model.schema), modelUrl(apiId, model.name));
    }
  }

  validator(modelName: string): ValidateFunction {
    let validate = this.compiled.get(modelName);
    if (!validate) {
      const found = this.ajv.getSchema(modelUrl(this.apiId, modelName));
      if (!found) throw new Error(`model ${modelName} is not defined in API ${this.apiId}`);
      validate = found;
      this.compiled.set(modelName, validate);
    }
    return validate;
  }
}

export function modelUrl(apiId: string, name: string): string {
  return `https://apigateway.amazonaws.com/restapis/${apiId}/models/${name}`;
}

export interface RequestParts {
  headers: Record<string, string>;
  query: Record<string, string>;
  pathParameters: Record<string, string>;
  contentType: string;
  body: string;
}

/** Runs the method's validator; undefined when the request passes (or nothing is validated). */
export function validateRequest(
  method: Method,
  validator: RequestValidator | undefined,
  models: ModelValidators,
  request: RequestParts,
): ValidationFailure | undefined {
  if (!validator) return undefined;
  if (validator.validateRequestParameters) {
    const missing: string[] = [];
    for (const [name, required] of Object.entries(method.requestParameters)) {
      if (!required) continue;
      const match = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(name);
      if (!match) continue;
      const [, location, key] = match;
      const present =
        location === "header"
          ? Object.keys(request.headers).some((h) => h.toLowerCase() === key.toLowerCase() && request.headers[h] !== "")
          : location === "querystring"
            ? key in request.query
            : key in request.pathParameters;
      if (!present) missing.push(key);
    }
    if (missing.length > 0) return { kind: "parameters", message: `Missing required request parameters: [${missing.join(", ")}]` };
  }
  if (validator.validateRequestBody) {
    // The model is chosen by the request's content type; a type without one is not validated
    // (with passthrough NEVER the integration then refuses it with 415).
    const modelName = method.requestModels[request.contentType];
    if (modelName && modelName !== "Empty") {
      let body: unknown;
      try {
        body = JSON.parse(request.body);
      } catch {
        return { kind: "body", message: "Invalid request body", errors: "[Request body is not valid JSON]" };
      }
      const validate = models.validator(modelName);
      if (!validate(body)) return { kind: "body", message: "Invalid request body", errors: validationErrorString(validate.errors ?? []) };
    }
  }
  return undefined;
}
