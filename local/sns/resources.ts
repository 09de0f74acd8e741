// Terraform resource types of SNS.
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

type Handler = ResourceHandler<RegionServices>;

export const snsResources: Record<string, Handler> = {
  aws_sns_topic: ({ config, services, accountId }) => {
    const arn = services.sns.createTopic(config.name);
    return { id: arn, arn, owner: accountId };
  },
  aws_sns_topic_subscription: ({ config, services }) => {
    const arn = services.sns.subscribe(config.topic_arn, config.protocol, config.endpoint);
    return { id: arn, arn };
  },
  aws_sns_topic_policy: ({ config, services }) => {
    services.sns.setTopicPolicy(config.arn, config.policy);
    return { id: config.arn };
  },
};
