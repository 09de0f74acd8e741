// SNS's query protocol behind the edge (form-encoded actions, XML answers) over the SnsState of
// the topic's region and account. A topic's resource is its ARN; a topic policy is its resource
// policy. A refused caller gets SNS's own code, AuthorizationError.
import type { PolicyDocument } from "../iam/evaluator";
import { xmlEscape } from "../lib/aws-protocols";
import { queryProtocolService, required, type QueryAction } from "../lib/query-protocol";
import type { EdgeCall, EdgeService } from "../edge/types";
import type { SnsState } from "./state";

const NS = "http://sns.amazonaws.com/doc/2010-03-31/";

type StateOf = (region: string, accountId: string) => SnsState;

/** The topic a request names, and the ARN of a topic created by name in the caller's account. */
const topicArn = (form: URLSearchParams) => required(form, "TopicArn");
const onTopic: Pick<QueryAction<StateOf>, "resources"> = { resources: (_state, form) => [topicArn(form)] };

function stateOfTopic(stateOf: StateOf, arn: string, call: EdgeCall): SnsState {
  const [, , , region, account] = arn.split(":");
  return stateOf(region || call.region, account || call.caller!.accountId);
}

const ACTIONS: Record<string, QueryAction<StateOf>> = {
  CreateTopic: {
    resources: (_s, form, call) => [`arn:aws:sns:${call.region}:${call.caller!.accountId}:${required(form, "Name")}`],
    run: (stateOf, form, call) => `<TopicArn>${xmlEscape(stateOf(call.region, call.caller!.accountId).createTopic(required(form, "Name")))}</TopicArn>`,
  },
  ListTopics: {
    run: (stateOf, _form, call) =>
      `<Topics>${stateOf(call.region, call.caller!.accountId).listTopics().map((arn) => `<member><TopicArn>${xmlEscape(arn)}</TopicArn></member>`).join("")}</Topics>`,
  },
  Subscribe: {
    ...onTopic,
    run: (stateOf, form, call) =>
      `<SubscriptionArn>${xmlEscape(stateOfTopic(stateOf, topicArn(form), call).subscribe(topicArn(form), required(form, "Protocol"), required(form, "Endpoint")))}</SubscriptionArn>`,
  },
  ListSubscriptionsByTopic: {
    ...onTopic,
    run: (stateOf, form, call) =>
      `<Subscriptions>${stateOfTopic(stateOf, topicArn(form), call)
        .subscriptionsOf(topicArn(form))
        .map((s) => `<member><SubscriptionArn>${xmlEscape(s.arn)}</SubscriptionArn><Protocol>${s.protocol}</Protocol><Endpoint>${xmlEscape(s.endpoint)}</Endpoint><TopicArn>${xmlEscape(s.topicArn)}</TopicArn></member>`)
        .join("")}</Subscriptions>`,
  },
  Publish: {
    ...onTopic,
    run: async (stateOf, form, call) => {
      const messageId = await stateOfTopic(stateOf, topicArn(form), call).publish(topicArn(form), form.get("Message") ?? "", form.get("Subject") ?? undefined);
      return `<MessageId>${messageId}</MessageId>`;
    },
  },
};

export function snsApi(stateOf: StateOf): EdgeService {
  return queryProtocolService<StateOf>({
    xmlns: NS,
    serviceName: "SNS",
    iamPrefix: "sns",
    accessDeniedCode: "AuthorizationError",
    stateFor: () => stateOf,
    actions: ACTIONS,
    resourcePolicy: (states, resource, call) => {
      const policy = stateOfTopic(states, resource, call).topicPolicy(resource);
      return policy ? { documents: [JSON.parse(policy) as PolicyDocument], account: resource.split(":")[4] } : undefined;
    },
  });
}
