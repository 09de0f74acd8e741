// Lambda's REST API (2015-03-31) over the regions' Lambda services, enough for what operators do
// to a running platform: read a function's configuration, change its environment (the failover
// drill of the multi-region post), invoke it. The region comes from the SigV4 credential scope.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsServiceError, readBody, regionOfRequest, sendJson } from "../lib/aws-wire";
import { closeServer, LOOPBACK } from "../lib/listen";
import { LambdaServiceError, type FunctionConfig, type LambdaService } from "./service";

const JSON_TYPE = "application/json";

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

export interface RunningLambdaApi {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startLambdaApi(services: (region: string) => LambdaService | undefined, port = 0): Promise<RunningLambdaApi> {
  const server: Server = createServer(async (req, res) => {
    try {
      const region = regionOfRequest(req.headers, req.url);
      const lambda = services(region);
      if (!lambda) throw new AwsServiceError("ResourceNotFoundException", `No Lambda in region ${region} of the local cloud`, 404);
      const url = new URL(req.url ?? "/", "http://local");
      const match = /^\/2015-03-31\/functions\/([^/]+)\/(configuration|invocations)$/.exec(url.pathname);
      if (!match) throw new AwsServiceError("UnknownOperationException", `The local cloud does not emulate ${req.method} ${url.pathname}`, 404);
      const name = decodeURIComponent(match[1]);
      const fn = lambda.getFunction(name);
      if (!fn) throw new AwsServiceError("ResourceNotFoundException", `Function not found: ${name}`, 404);
      const body = await readBody(req, 6 * 1024 * 1024);

      if (match[2] === "configuration" && req.method === "GET") return sendJson(res, 200, configuration(fn), JSON_TYPE);
      if (match[2] === "configuration" && req.method === "PUT") {
        const update = JSON.parse(body.toString("utf8") || "{}");
        const unsupported = Object.keys(update).filter((k) => k !== "Environment" && k !== "FunctionName");
        if (unsupported.length > 0) throw new AwsServiceError("InvalidParameterValueException", `The local cloud changes only Environment, not ${unsupported.join(", ")}`);
        const variables = update.Environment?.Variables;
        if (variables === undefined || typeof variables !== "object") throw new AwsServiceError("InvalidParameterValueException", "Environment.Variables is required");
        for (const [key, value] of Object.entries(variables)) {
          if (!/^[a-zA-Z][a-zA-Z0-9_]+$/.test(key) || typeof value !== "string") {
            throw new AwsServiceError("InvalidParameterValueException", `Environment variable ${key} must have a name of letters, digits and _ and a string value`);
          }
        }
        return sendJson(res, 200, configuration(await lambda.updateEnvironment(name, variables as Record<string, string>)), JSON_TYPE);
      }
      if (match[2] === "invocations" && req.method === "POST") {
        let event: unknown;
        try {
          event = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
        } catch {
          throw new AwsServiceError("InvalidRequestContentException", "Could not parse request body into json", 400);
        }
        const result = await lambda.invoke(name, event);
        const payload = result.ok ? result.payload : JSON.stringify(result.error);
        res.writeHead(200, {
          "content-type": JSON_TYPE,
          "x-amz-executed-version": "$LATEST",
          "x-amzn-requestid": result.requestId,
          ...(result.ok ? {} : { "x-amz-function-error": "Unhandled" }),
        });
        res.end(payload);
        return;
      }
      throw new AwsServiceError("UnknownOperationException", `The local cloud does not emulate ${req.method} ${url.pathname}`, 404);
    } catch (error) {
      const e =
        error instanceof AwsServiceError
          ? error
          : error instanceof LambdaServiceError
            ? new AwsServiceError(error.code, error.message, error.statusCode)
            : new AwsServiceError("ServiceException", (error as Error).message, 500);
      res.setHeader("x-amzn-errortype", e.code);
      sendJson(res, e.statusCode, { Type: "User", Message: e.message, message: e.message }, JSON_TYPE);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  return { endpoint: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
}
