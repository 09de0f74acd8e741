// SNS state for the local cloud: topics, subscriptions, and every delivery recorded, since no
// e-mail or SMS leaves this machine. Lambda subscriptions are invoked with SNS's event shape.
import { randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { AwsServiceError } from "../lib/aws-wire";

export interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
}

export interface Delivery {
  deliveredAt: string;
  region: string;
  topicArn: string;
  messageId: string;
  subject?: string;
  message: string;
  protocol: string;
  endpoint: string;
  /** For lambda subscriptions: whether the invocation succeeded. */
  status: "delivered" | "failed";
  error?: string;
}

export interface SnsOptions {
  region: string;
  accountId: string;
  /** JSON Lines file every delivery is appended to. */
  deliveryLog: string;
  /** Invokes a Lambda subscription; resolves with an error message on failure. */
  invokeLambda: (functionArn: string, event: unknown) => Promise<string | undefined>;
  onDelivery?: (delivery: Delivery) => void;
  /** The local cloud's clock (epoch ms); the machine's when absent. */
  now?: () => number;
}

export class SnsState {
  private readonly topics = new Map<string, { arn: string; name: string; policy?: string }>();
  private readonly subscriptions = new Map<string, Subscription>();
  readonly deliveries: Delivery[] = [];

  constructor(private readonly options: SnsOptions) {
    mkdirSync(dirname(options.deliveryLog), { recursive: true });
  }

  createTopic(name: string): string {
    if (!/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name)) throw new AwsServiceError("InvalidParameter", `Invalid parameter: Topic Name`);
    const arn = `arn:aws:sns:${this.options.region}:${this.options.accountId}:${name}`;
    if (!this.topics.has(arn)) this.topics.set(arn, { arn, name });
    return arn;
  }

  setTopicPolicy(topicArn: string, policy: string) {
    this.topic(topicArn).policy = policy;
  }

  /** The topic's policy (JSON text), when `aws_sns_topic_policy` set one; none for a topic this state does not hold. */
  topicPolicy(arn: string): string | undefined {
    return this.topics.get(arn)?.policy;
  }

  topic(arn: string) {
    const topic = this.topics.get(arn);
    if (!topic) throw new AwsServiceError("NotFound", "Topic does not exist", 404);
    return topic;
  }

  listTopics(): string[] {
    return [...this.topics.keys()];
  }

  subscribe(topicArn: string, protocol: string, endpoint: string): string {
    this.topic(topicArn);
    if (!["email", "email-json", "sms", "lambda", "http", "https", "sqs"].includes(protocol)) {
      throw new AwsServiceError("InvalidParameter", `Invalid parameter: Does not support this protocol string: ${protocol}`);
    }
    const existing = [...this.subscriptions.values()].find((s) => s.topicArn === topicArn && s.protocol === protocol && s.endpoint === endpoint);
    if (existing) return existing.arn;
    const arn = `${topicArn}:${randomUUID()}`;
    this.subscriptions.set(arn, { arn, topicArn, protocol, endpoint });
    return arn;
  }

  unsubscribe(arn: string) {
    this.subscriptions.delete(arn);
  }

  subscriptionsOf(topicArn: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.topicArn === topicArn);
  }

  async publish(topicArn: string, message: string, subject?: string): Promise<string> {
    this.topic(topicArn);
    if (message.length === 0) throw new AwsServiceError("InvalidParameter", "Invalid parameter: Empty message");
    if (Buffer.byteLength(message) > 256 * 1024) throw new AwsServiceError("InvalidParameter", "Invalid parameter: Message too long");
    if (subject !== undefined && (subject.length > 100 || /[\r\n]/.test(subject))) throw new AwsServiceError("InvalidParameter", "Invalid parameter: Subject");
    const messageId = randomUUID();
    for (const subscription of this.subscriptionsOf(topicArn)) {
      let error: string | undefined;
      if (subscription.protocol === "lambda") {
        error = await this.options.invokeLambda(subscription.endpoint, {
          Records: [
            {
              EventSource: "aws:sns",
              EventVersion: "1.0",
              EventSubscriptionArn: subscription.arn,
              Sns: {
                Type: "Notification",
                MessageId: messageId,
                TopicArn: topicArn,
                Subject: subject ?? null,
                Message: message,
                Timestamp: this.timestamp(),
                MessageAttributes: {},
              },
            },
          ],
        });
      }
      this.record({
        deliveredAt: this.timestamp(),
        region: this.options.region,
        topicArn,
        messageId,
        subject,
        message,
        protocol: subscription.protocol,
        endpoint: subscription.endpoint,
        status: error ? "failed" : "delivered",
        error,
      });
    }
    return messageId;
  }

  private timestamp(): string {
    return new Date((this.options.now ?? Date.now)()).toISOString();
  }

  private record(delivery: Delivery) {
    this.deliveries.push(delivery);
    appendFileSync(this.options.deliveryLog, `${JSON.stringify(delivery)}\n`);
    this.options.onDelivery?.(delivery);
  }
}
