// API Gateway's integrations as AWS runs them, end to end in the local cloud on a fixture API: the
// Lambda proxy rules with a test Lambda that answers each shape a client asks for, binary bodies,
// a throttled Lambda, an integration timeout, MOCK integrations and overrides on the wire, and an
// integration the local cloud cannot run refused at deploy. Each case names its source: an AWS
// documentation page or a response LocalStack recorded on AWS (tests/aws/services/apigateway).
// The fixture API has the platform's JSON gateway responses ({message, type, requestId}): their
// message is the body AWS answers by default.
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { NodejsFunction } from "../modules/nodejs-function";
import { fixtureStack } from "./helpers/fixture-app";

const PROXY_RECORDING = "LocalStack test_apigateway_lambda.py::test_aws_proxy_response_payload_format_validation (recorded on AWS 2024-11-15)";
const PROXY_FORMAT_RECORDING = "LocalStack test_apigateway_lambda.py::test_lambda_aws_proxy_response_format (validated on AWS)";
const OUTPUT_FORMAT_DOC = "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html (Output format of a Lambda function for proxy integration: other formats answer 502)";
const LAMBDA_ERRORS_DOC = "https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html (Handling Lambda errors with an API Gateway API)";
const BINARY_DOC = "https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html (Return binary media from a Lambda proxy integration)";
const GATEWAY_RESPONSES_DOC = "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html (INTEGRATION_TIMEOUT: 504)";

function synthProxyApp(): string {
  const { app, stack, api, region, outdir } = fixtureStack("proxy");
  api.api.binaryMediaTypes = ["image/png"];
  const entry = "test/helpers/proxy-answer-lambda.ts";
  const answer = new NodejsFunction(stack, "answer", { functionName: "proxy-answer", entry, region, logRetentionDays: 1, timeoutSeconds: 10 });
  // Reserved concurrency 0: Lambda throttles every invocation.
  const throttled = new NodejsFunction(stack, "throttled", { functionName: "proxy-throttled", entry, region, logRetentionDays: 1, reservedConcurrency: 0 });
  api.addLambdaProxy({ httpMethod: "POST", path: "/answer" }, answer);
  api.addLambdaProxy({ httpMethod: "GET", path: "/throttled" }, throttled);
  api.addMethod({ httpMethod: "GET", path: "/slow", integration: { type: "AWS_PROXY", integrationHttpMethod: "POST", uri: answer.invokeArn, timeoutMilliseconds: 50 } });
  api.allowInvoke("GET/slow", answer.functionName, "GET/slow");

  api.addMethod({ httpMethod: "GET", path: "/mock/relaxed", integration: { type: "MOCK", requestTemplates: { "application/json": "{statusCode: 200}" }, responses: [{ statusCode: "200" }] } });
  api.addMethod({
    httpMethod: "GET",
    path: "/mock/override",
    integration: {
      type: "MOCK",
      requestTemplates: {
        "application/json": '#set($context.responseOverride.status = 444)\n#set($context.responseOverride.header.foo = "bar")\n{\n  "statusCode": 200\n}',
      },
      responses: [{ statusCode: "200", selectionPattern: "2\\d{2}" }],
    },
  });
  api.addMethod({
    httpMethod: "GET",
    path: "/mock/response-override",
    integration: {
      type: "MOCK",
      requestTemplates: { "application/json": '{"statusCode": 200}' },
      responses: [
        {
          statusCode: "200",
          responseTemplates: { "application/json": '#set($context.responseOverride.status = 201)\n#set($context.responseOverride.header.X-Custom = "yes")\n{"ok": true}' },
        },
      ],
    },
  });
  api.addMethod({
    httpMethod: "GET",
    path: "/mock/path/{testPath}",
    requestParameters: { "method.request.path.testPath": true },
    integration: {
      type: "MOCK",
      requestTemplates: {
        "application/json": "#set($body = $util.base64Decode($input.params('testPath')))\n#set($context.requestOverride.path.body = $body)\n{\n  \"statusCode\": 200\n}",
      },
      responses: [
        {
          statusCode: "200",
          selectionPattern: "2\\d{2}",
          responseTemplates: {
            "application/json": '#set($body = $util.parseJson($context.requestOverride.path.body))\n#if($body.message == "path1")\n{"response": "path was path one"}\n#else\n{"response": "this is the else clause"}\n#end',
          },
        },
      ],
    },
  });
  app.synth();
  return outdir;
}

let cloud: LocalCloud;

beforeAll(async () => {
  const outdir = synthProxyApp();
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "apigw-conformance-")), port: 0 });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const base = () => cloud.endpoints().regions["us-east-1"].apiUrl;

/** Asks the test Lambda to answer `answer` as its proxy response. */
function answerWith(answer: unknown, init: RequestInit = {}) {
  return fetch(`${base()}/answer`, { method: "POST", body: JSON.stringify(answer), ...init, headers: { "content-type": "application/json", ...init.headers } });
}

/** The stage's access log line of a request, once the log is flushed. */
async function accessLog(response: Response): Promise<Record<string, string>> {
  await cloud.flushLogs();
  const dir = cloud.endpoints().regions["us-east-1"].logs;
  const file = readdirSync(dir).find((f) => f.includes("access"))!;
  const requestId = response.headers.get("x-amzn-requestid");
  const line = readFileSync(join(dir, file), "utf8").trim().split("\n").map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
  expect(line, `no access log line for ${requestId}`).toBeDefined();
  return line;
}

describe("Lambda proxy responses API Gateway refuses: 502 Internal server error, the access log says why", () => {
  it.each([
    { shape: "an unknown key", answer: { statusCode: 200, wrongValue: "value" }, reason: /unknown key "wrongValue"/, source: PROXY_RECORDING },
    { shape: "a statusCode that is not a number", answer: { statusCode: "test" }, reason: /statusCode is the string "test", not an integer/, source: PROXY_RECORDING },
    { shape: "a multiValueHeaders value that is not a list", answer: { statusCode: 200, multiValueHeaders: { "test-multi-invalid": "value1" } }, reason: /multiValueHeaders "test-multi-invalid" is the string "value1", not a list/, source: PROXY_RECORDING },
    { shape: "a string instead of an object", answer: "justAString", reason: /answered the string "justAString", not an object/, source: PROXY_RECORDING },
    { shape: "a statusCode outside 100-599", answer: { statusCode: 600 }, reason: /statusCode 600 is not an HTTP status/, source: OUTPUT_FORMAT_DOC },
    { shape: "a body that is not a string", answer: { statusCode: 200, body: { message: "hi" } }, reason: /body is an object, not a string/, source: OUTPUT_FORMAT_DOC },
    { shape: "headers that are not an object", answer: { statusCode: 200, headers: ["x-a"] }, reason: /headers is a list, not an object/, source: OUTPUT_FORMAT_DOC },
    { shape: "a header value that is an object", answer: { statusCode: 200, headers: { "x-a": { b: 1 } } }, reason: /the value of header "x-a" is an object, not a string/, source: OUTPUT_FORMAT_DOC },
    { shape: "a header name that is not an HTTP token", answer: { statusCode: 200, headers: { "bad name": "v" } }, reason: /"bad name" is not a valid header name/, source: OUTPUT_FORMAT_DOC },
    { shape: "a header value with a line break", answer: { statusCode: 200, headers: { "x-a": "v\r\nx-injected: 1" } }, reason: /the value of header "x-a" holds a control character/, source: OUTPUT_FORMAT_DOC },
    { shape: "an isBase64Encoded that is not a boolean", answer: { statusCode: 200, isBase64Encoded: "yes" }, reason: /isBase64Encoded is the string "yes", not a boolean/, source: OUTPUT_FORMAT_DOC },
    { shape: "a list instead of an object", answer: [200], reason: /answered a list, not an object/, source: OUTPUT_FORMAT_DOC },
  ])("$shape [$source]", async ({ answer, reason }) => {
    const response = await answerWith(answer);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ message: "Internal server error" });
    const log = await accessLog(response);
    expect(log.status).toBe("502");
    expect(log["integration-error"]).toMatch(/Malformed Lambda proxy response/);
    expect(log["integration-error"]).toMatch(reason);
  });

  it(`a function error answers 502 and names the error [${LAMBDA_ERRORS_DOC}]`, async () => {
    const response = await fetch(`${base()}/answer`, { method: "POST", body: "not json", headers: { "content-type": "text/plain" } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ message: "Internal server error" });
    expect((await accessLog(response))["integration-error"]).toMatch(/customer function error: .*JSON/);
  });
});

describe("Lambda proxy responses API Gateway accepts", () => {
  it(`no body, and {}: 200 with an empty body and the default content type [${PROXY_RECORDING}; ${PROXY_FORMAT_RECORDING}]`, async () => {
    for (const answer of [{ statusCode: 200 }, {}]) {
      const response = await answerWith(answer);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(await response.text()).toBe("");
    }
  });

  it(`a statusCode given as a numeric string [${PROXY_RECORDING}]`, async () => {
    expect((await answerWith({ statusCode: "201" })).status).toBe(201);
  });

  it(`headers: a boolean value is sent as text, null headers are none, no statusCode is 200 [${PROXY_RECORDING}]`, async () => {
    const withBool = await answerWith({ statusCode: 200, headers: { "test-header": "value", "header-bool": true } });
    expect(withBool.headers.get("test-header")).toBe("value");
    expect(withBool.headers.get("header-bool")).toBe("true");
    expect((await answerWith({ statusCode: 200, headers: null })).status).toBe(200);
    const onlyHeaders = await answerWith({ headers: { "test-header": "value" } });
    expect(onlyHeaders.status).toBe(200);
    expect(onlyHeaders.headers.get("test-header")).toBe("value");
  });

  it(`multiValueHeaders: each value a header line; a name in both maps keeps the multi spelling, multi values first [${PROXY_RECORDING}]`, async () => {
    expect((await answerWith({ statusCode: 200, multiValueHeaders: { "test-multi": ["value1", "value2"] } })).headers.get("test-multi")).toBe("value1, value2");
    const merged = await answerWith({ statusCode: 200, multiValueHeaders: { "tesT-Multi": ["value-multi"] }, headers: { "test-multi": "value-solo" } });
    expect(merged.headers.get("test-multi")).toBe("value-multi, value-solo");
    // Several Set-Cookie lines stay several lines.
    const cookies = await answerWith({ statusCode: 200, multiValueHeaders: { "Set-Cookie": ["a=1", "b=2"] } });
    expect(cookies.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  it(`a header value beyond Latin-1 goes out as its UTF-8 bytes [${OUTPUT_FORMAT_DOC}]`, async () => {
    const response = await answerWith({ statusCode: 200, headers: { "x-currency": "€uro" } });
    expect(Buffer.from(response.headers.get("x-currency")!, "latin1").toString("utf8")).toBe("€uro");
  });

  it(`a Content-Length or Date of the function is remapped, not sent as the response's own [${OUTPUT_FORMAT_DOC}; Amazon API Gateway important notes]`, async () => {
    const response = await answerWith({ statusCode: 200, headers: { "Content-Length": "999", Date: "yesterday" }, body: "ok" });
    expect(await response.text()).toBe("ok");
    expect(response.headers.get("content-length")).toBe("2");
    expect(response.headers.get("x-amzn-remapped-content-length")).toBe("999");
    expect(response.headers.get("x-amzn-remapped-date")).toBe("yesterday");
  });
});

describe("binary bodies (isBase64Encoded)", () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

  it(`without a binary Accept type the base64 text reaches the client as it is [${PROXY_RECORDING}]`, async () => {
    const response = await answerWith({ statusCode: 200, body: Buffer.from("test-data").toString("base64"), isBase64Encoded: true });
    expect(await response.text()).toBe("dGVzdC1kYXRh");
  });

  it(`a client whose first Accept type is a binary media type gets the decoded bytes [${BINARY_DOC}]`, async () => {
    const response = await answerWith({ statusCode: 200, body: png.toString("base64"), isBase64Encoded: true, headers: { "Content-Type": "image/png" } }, { headers: { accept: "image/png" } });
    expect(Buffer.from(await response.arrayBuffer())).toEqual(png);
  });

  it(`a request body of a binary media type reaches the function base64-encoded [${BINARY_DOC}]`, async () => {
    const response = await fetch(`${base()}/answer?describe=1`, { method: "POST", body: png, headers: { "content-type": "image/png" } });
    expect(await response.json()).toEqual({ body: png.toString("base64"), isBase64Encoded: true });
  });
});

describe("invocation failures", () => {
  it(`a throttled Lambda: the Lambda API refuses the invocation, API Gateway answers 500 [${LAMBDA_ERRORS_DOC}]`, async () => {
    const response = await fetch(`${base()}/throttled`);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ message: "Internal server error" });
    const log = await accessLog(response);
    expect(log["integration-error"]).toMatch(/status: 429: TooManyRequestsException/);
    expect(log["integration-integrationStatus"]).toBe("429");
  });

  it(`a Lambda slower than the integration's timeout: 504 Endpoint request timed out [${GATEWAY_RESPONSES_DOC}]`, async () => {
    const response = await fetch(`${base()}/slow?sleepMs=3000`);
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ message: "Endpoint request timed out" });
    expect((await accessLog(response))["integration-error"]).toMatch(/timeout/);
  });
});

describe("MOCK integrations and overrides on the wire", () => {
  it("a MOCK request template that is not strict JSON, {statusCode: 200}, answers 200 [LocalStack test_integration_mock_with_path_param, recorded on AWS]", async () => {
    const response = await fetch(`${base()}/mock/relaxed`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("a response override set in the request template applies without a response template [LocalStack test_integration_mock_with_response_override_in_request_template[False]]", async () => {
    const response = await fetch(`${base()}/mock/override`);
    expect(response.status).toBe(444);
    expect(response.headers.get("foo")).toBe("bar");
    expect(await response.text()).toBe("");
  });

  it("a response template's status and header overrides set the method response [https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html]", async () => {
    const response = await fetch(`${base()}/mock/response-override`);
    expect(response.status).toBe(201);
    expect(response.headers.get("x-custom")).toBe("yes");
    expect(await response.json()).toEqual({ ok: true });
  });

  it("a request override set in the request template is read by the response template [LocalStack test_integration_mock_with_request_overrides_in_response_template]", async () => {
    const path1 = Buffer.from(JSON.stringify({ message: "path1" })).toString("base64");
    expect(await (await fetch(`${base()}/mock/path/${path1}`)).json()).toEqual({ response: "path was path one" });
    const other = Buffer.from(JSON.stringify({ message: "whatever" })).toString("base64");
    expect(await (await fetch(`${base()}/mock/path/${other}`)).json()).toEqual({ response: "this is the else clause" });
  });
});

describe("an integration the local cloud cannot run is refused at deploy", () => {
  it("an HTTP_PROXY integration stops the deploy, naming its Terraform address", async () => {
    const { app, api, outdir } = fixtureStack("httpproxy");
    api.addMethod({ httpMethod: "GET", path: "/upstream", integration: { type: "HTTP_PROXY", integrationHttpMethod: "GET", uri: "https://example.com/upstream" } });
    app.synth();
    const stackJson = JSON.parse(readFileSync(join(outdir, "stacks", "httpproxy", "cdk.tf.json"), "utf8"));
    const [logicalId] = Object.entries(stackJson.resource.aws_api_gateway_integration as Record<string, { type: string }>).find(([, r]) => r.type === "HTTP_PROXY")!;
    const started = LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "apigw-refused-")), port: 0 });
    await expect(started).rejects.toThrow(`httpproxy: aws_api_gateway_integration.${logicalId}: the local cloud cannot run this as AWS does, so it will not deploy the stack: HTTP_PROXY integrations call https://example.com/upstream beyond loopback`);
  }, 60_000);
});
