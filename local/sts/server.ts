// The STS query protocol (form-encoded `Action=...&Version=2011-06-15`, XML answers) over
// StsState. AssumeRoleWithSAML is unsigned in AWS (the assertion is the credential), so no
// signature is required here either.
import { createServer, type IncomingMessage } from "node:http";
import { AwsServiceError, readBody } from "../lib/aws-wire";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";
import { escapeXml } from "../idp/saml-response";
import { newRequestId, type StsState } from "./state";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
/** STS accepts SAML assertions of up to 100,000 characters; the form is a bit larger. */
const MAX_BODY_BYTES = 150 * 1024;

async function handle(state: StsState, request: IncomingMessage, requestId: string): Promise<string> {
  if (request.method !== "POST") throw new AwsServiceError("InvalidAction", "STS takes POST requests with a form body");
  const form = new URLSearchParams((await readBody(request, MAX_BODY_BYTES)).toString("utf8"));
  const action = form.get("Action");
  if (action !== "AssumeRoleWithSAML") {
    throw new AwsServiceError("InvalidAction", `The local STS does not implement ${action ?? "(no Action)"}`);
  }
  const required = (name: string) => {
    const value = form.get(name);
    if (!value) throw new AwsServiceError("MissingParameter", `The request must contain the parameter ${name}`);
    return value;
  };
  const duration = form.get("DurationSeconds");
  const result = state.assumeRoleWithSaml({
    RoleArn: required("RoleArn"),
    PrincipalArn: required("PrincipalArn"),
    SAMLAssertion: required("SAMLAssertion"),
    DurationSeconds: duration === null ? undefined : Number(duration),
  });
  const c = result.credentials;
  return (
    `<AssumeRoleWithSAMLResponse xmlns="${XMLNS}"><AssumeRoleWithSAMLResult>` +
    `<Audience>${escapeXml(result.audience)}</Audience>` +
    `<AssumedRoleUser><AssumedRoleId>${escapeXml(result.assumedRoleId)}</AssumedRoleId><Arn>${escapeXml(c.assumedRoleArn)}</Arn></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(c.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${escapeXml(c.sessionToken)}</SessionToken><Expiration>${c.expiresAt.toISOString()}</Expiration></Credentials>` +
    `<Issuer>${escapeXml(result.issuer)}</Issuer><NameQualifier>${escapeXml(result.nameQualifier)}</NameQualifier>` +
    `<Subject>${escapeXml(result.subject)}</Subject><SubjectType>${escapeXml(result.subjectType)}</SubjectType>` +
    `</AssumeRoleWithSAMLResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></AssumeRoleWithSAMLResponse>`
  );
}

export async function startStsServer(options: { state: StsState; port?: number }): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = createServer((request, response) => {
    const requestId = newRequestId();
    handle(options.state, request, requestId).then(
      (xml) => {
        response.writeHead(200, { "content-type": "text/xml", "x-amzn-requestid": requestId });
        response.end(xml);
      },
      (error) => {
        const e = error instanceof AwsServiceError ? error : new AwsServiceError("InternalFailure", (error as Error).message, 500);
        const type = e.statusCode >= 500 ? "Receiver" : "Sender";
        response.writeHead(e.statusCode, { "content-type": "text/xml", "x-amzn-requestid": requestId });
        response.end(
          `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${e.code}</Code>` +
            `<Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      },
    );
  });
  const port = await listenOnLoopback(server, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}
