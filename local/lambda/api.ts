// Lambda's REST API (2015-03-31) behind the edge, over the regions' Lambda services: what
// operators do to a running platform (list functions, read a configuration, change its
// environment as the multi-region post's failover drill does, invoke). A function's resource is
// its ARN; its permissions (aws_lambda_permission) are its resource policy.
import type { PolicyDocument, PolicyStatement } from "../iam/evaluator";
import { AwsServiceError } from "../lib/aws-wire";
import { jsonResponse, type HttpResponse } from "../lib/http-serve";
import type { EdgeCall, EdgeService, Requirement } from "../edge/types";
import { LambdaServiceError, type FunctionConfig, type LambdaService } from "./service";

/** What Lambda's invoke API takes as a payload. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

function configuration(fn: FunctionConfig) {
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Role: fn.roleArn,
    Handler: fn.handler,
    Timeout: fn.timeoutSeconds,
    MemorySize: fn.memorySizeMb,
    CodeSha256: fn.sourceCodeHash,
    Version: "$LATEST",
    Environment: { Variables: fn.environment },
    State: "Active",
    LastUpdateStatus: "Successful",
    PackageType: "Zip",
    Architectures: ["arm64"],
    LoggingConfig: { LogGroup: fn.logGroupName },
  };
}

interface LambdaRoute {
  action: string;
  functionName?: string;
  run(lambda: LambdaService, call: EdgeCall): Promise<HttpResponse> | HttpResponse;
}

function route(call: EdgeCall): LambdaRoute {
  const { method, rawPath } = call.request;
  if (rawPath === "/2015-03-31/functions" || rawPath === "/2015-03-31/functions/") {
    if (method !== "GET") throw notEmulated(call);
    return { action: "lambda:ListFunctions", run: (lambda) => jsonResponse(200, { Functions: lambda.listFunctions().map(configuration) }) };
  }
  const match = /^\/2015-03-31\/functions\/([^/]+)(?:\/(configuration|invocations))?$/.exec(rawPath);
  if (!match) throw notEmulated(call);
  let name: string;
  try {
    name = decodeURIComponent(match[1]);
  } catch {
    throw new AwsServiceError("InvalidParameterValueException", `The function name in ${rawPath} is not valid percent-encoding`);
  }
  const fn = (lambda: LambdaService) => {
    const found = lambda.getFunction(name);
    if (!found) throw new AwsServiceError("ResourceNotFoundException", `Function not found: ${name}`, 404);
    return found;
  };
  if (match[2] === undefined && method === "GET") {
    return { action: "lambda:GetFunction", functionName: name, run: (lambda) => jsonResponse(200, { Configuration: configuration(fn(lambda)) }) };
  }
  if (match[2] === "configuration" && method === "GET") {
    return { action: "lambda:GetFunctionConfiguration", functionName: name, run: (lambda) => jsonResponse(200, configuration(fn(lambda))) };
  }
  if (match[2] === "configuration" && method === "PUT") {
    return { action: "lambda:UpdateFunctionConfiguration", functionName: name, run: async (lambda) => jsonResponse(200, configuration(await lambda.updateEnvironment(fn(lambda).name, environmentUpdate(call)))) };
  }
  if (match[2] === "invocations" && method === "POST") {
    return { action: "lambda:InvokeFunction", functionName: name, run: (lambda) => invoke(lambda, fn(lambda).name, call) };
  }
  throw notEmulated(call);
}

function environmentUpdate(call: EdgeCall): Record<string, string> {
  let update: Record<string, any>;
  try {
    update = JSON.parse(call.request.body.toString("utf8") || "{}");
  } catch {
    throw new AwsServiceError("InvalidRequestContentException", "Could not parse request body into json");
  }
  const unsupported = Object.keys(update ?? {}).filter((k) => k !== "Environment" && k !== "FunctionName");
  if (unsupported.length > 0) throw new AwsServiceError("InvalidParameterValueException", `The local cloud changes only Environment, not ${unsupported.join(", ")}`);
  const variables = update?.Environment?.Variables;
  if (variables === undefined || typeof variables !== "object" || variables === null) throw new AwsServiceError("InvalidParameterValueException", "Environment.Variables is required");
  for (const [key, value] of Object.entries(variables)) {
    if (!/^[a-zA-Z][a-zA-Z0-9_]+$/.test(key) || typeof value !== "string") {
      throw new AwsServiceError("InvalidParameterValueException", `Environment variable ${key} must have a name of letters, digits and _ and a string value`);
    }
  }
  return variables as Record<string, string>;
}

async function invoke(lambda: LambdaService, name: string, call: EdgeCall): Promise<HttpResponse> {
  if (call.request.body.length > MAX_PAYLOAD_BYTES) throw new AwsServiceError("RequestTooLargeException", `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`, 413);
  let event: unknown;
  try {
    event = call.request.body.length === 0 ? {} : JSON.parse(call.request.body.toString("utf8"));
  } catch {
    throw new AwsServiceError("InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json", 400);
  }
  const result = await lambda.invoke(name, event);
  return {
    status: 200,
    headers: {
      "content-type": "application/json",
      "x-amz-executed-version": "$LATEST",
      "x-amzn-requestid": result.requestId,
      ...(result.ok ? {} : { "x-amz-function-error": "Unhandled" }),
    },
    body: result.ok ? result.payload : JSON.stringify(result.error),
  };
}

function notEmulated(call: EdgeCall): AwsServiceError {
  return new AwsServiceError("UnknownOperationException", `The local cloud does not emulate ${call.request.method} ${call.request.rawPath}`, 404);
}

export class LambdaApi implements EdgeService {
  readonly protocol = { kind: "rest-json" } as const;

  constructor(private readonly services: (region: string) => LambdaService | undefined) {}

  requirements(call: EdgeCall): Requirement[] {
    const r = route(call);
    const resource = r.functionName ? this.functionArn(call, r.functionName) : "*";
    return [{ action: r.action, resource }];
  }

  /** aws_lambda_permission statements as the function's resource-based policy. */
  resourcePolicy(resource: string, call: EdgeCall) {
    const fn = this.services(call.region)?.getFunction(resource);
    if (!fn) return undefined;
    const statements = this.services(call.region)!.permissionsOf(fn.name).map(
      (p): PolicyStatement => ({
        Sid: p.sid,
        Effect: "Allow",
        Principal: p.principal.includes(".amazonaws.com") ? { Service: p.principal } : { AWS: p.principal },
        Action: p.action,
        Resource: fn.arn,
        ...(p.sourceArn ? { Condition: { ArnLike: { "aws:SourceArn": p.sourceArn } } } : {}),
      }),
    );
    return statements.length ? { documents: [{ Statement: statements } as PolicyDocument], account: fn.accountId } : undefined;
  }

  async handle(call: EdgeCall): Promise<HttpResponse> {
    const lambda = this.services(call.region);
    if (!lambda) throw new AwsServiceError("ResourceNotFoundException", `No Lambda in region ${call.region} of the local cloud`, 404);
    try {
      return await route(call).run(lambda, call);
    } catch (error) {
      if (error instanceof LambdaServiceError) throw new AwsServiceError(error.code, error.message, error.statusCode);
      throw error;
    }
  }

  /** The function's ARN, whether the path names it by name, ARN or partial ARN. */
  private functionArn(call: EdgeCall, nameOrArn: string): string {
    const fn = this.services(call.region)?.getFunction(nameOrArn);
    if (fn) return fn.arn;
    const name = nameOrArn.startsWith("arn:") ? nameOrArn.split(":")[6] : nameOrArn;
    return `arn:aws:lambda:${call.region}:${call.caller!.accountId}:function:${name}`;
  }
}
