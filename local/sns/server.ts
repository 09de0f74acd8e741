// SNS's query protocol (form-encoded actions, XML answers) over the region's SnsState, plus
// `GET /deliveries` so people and tests can see what would have been e-mailed or texted.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsServiceError, readBody, regionOfRequest } from "../lib/aws-wire";
import { closeServer, LOOPBACK } from "../lib/listen";
import type { SnsState } from "./state";

const NS = "http://sns.amazonaws.com/doc/2010-03-31/";

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
}

function respond(action: string, result: string): string {
  return `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null || value === "") throw new AwsServiceError("InvalidParameter", `Invalid parameter: ${name} is required`);
  return value;
}

async function perform(state: SnsState, form: URLSearchParams): Promise<string> {
  const action = form.get("Action") ?? "";
  switch (action) {
    case "CreateTopic":
      return respond(action, `<TopicArn>${escapeXml(state.createTopic(required(form, "Name")))}</TopicArn>`);
    case "ListTopics":
      return respond(action, `<Topics>${state.listTopics().map((arn) => `<member><TopicArn>${escapeXml(arn)}</TopicArn></member>`).join("")}</Topics>`);
    case "Subscribe":
      return respond(action, `<SubscriptionArn>${escapeXml(state.subscribe(required(form, "TopicArn"), required(form, "Protocol"), required(form, "Endpoint")))}</SubscriptionArn>`);
    case "ListSubscriptionsByTopic":
      return respond(
        action,
        `<Subscriptions>${state
          .subscriptionsOf(required(form, "TopicArn"))
          .map((s) => `<member><SubscriptionArn>${escapeXml(s.arn)}</SubscriptionArn><Protocol>${s.protocol}</Protocol><Endpoint>${escapeXml(s.endpoint)}</Endpoint><TopicArn>${escapeXml(s.topicArn)}</TopicArn></member>`)
          .join("")}</Subscriptions>`,
      );
    case "Publish": {
      const messageId = await state.publish(required(form, "TopicArn"), form.get("Message") ?? "", form.get("Subject") ?? undefined);
      return respond(action, `<MessageId>${messageId}</MessageId>`);
    }
    default:
      throw new AwsServiceError("InvalidAction", `The action ${action || "(none)"} is not valid for this endpoint (the local cloud emulates CreateTopic, ListTopics, Subscribe, ListSubscriptionsByTopic, Publish)`);
  }
}

export interface RunningSns {
  endpoint: string;
  stop(): Promise<void>;
}

/** One server for every region: the region comes from each request's SigV4 credential scope. */
export async function startSnsServer(states: Map<string, SnsState>, port = 0): Promise<RunningSns> {
  const server: Server = createServer(async (req, res) => {
    try {
      if (req.method === "GET" && req.url?.startsWith("/deliveries")) {
        const region = new URL(req.url, "http://x").searchParams.get("region");
        const all = [...states.values()]
          .flatMap((s) => s.deliveries)
          .filter((d) => !region || d.region === region)
          .sort((a, b) => a.deliveredAt.localeCompare(b.deliveredAt));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(all));
        return;
      }
      const region = regionOfRequest(req.headers, req.url);
      const state = states.get(region);
      if (!state) throw new AwsServiceError("InvalidClientTokenId", `No SNS in region ${region} of the local cloud`, 403);
      const form = new URLSearchParams((await readBody(req, 512 * 1024)).toString("utf8"));
      const xml = await perform(state, form);
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(xml);
    } catch (error) {
      const e = error instanceof AwsServiceError ? error : new AwsServiceError("InternalError", (error as Error).message, 500);
      res.writeHead(e.statusCode, { "content-type": "text/xml" });
      res.end(`<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  return { endpoint: `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`, stop: () => closeServer(server) };
}
