// CloudWatch Logs' API behind the edge (awsJson1.1, `X-Amz-Target: Logs_20140328.<Operation>`):
// what operators read while the platform runs. Log groups of the caller's account in the region;
// resources are log-group ARNs as the Logs Service Authorization Reference names them.
import { AwsServiceError } from "../lib/aws-wire";
import { jsonText, jsonProtocolService } from "../lib/json-protocol";
import type { EdgeService } from "../edge/types";
import type { LogGroups } from "./state";

const groupsArn = (region: string, accountId: string) => `arn:aws:logs:${region}:${accountId}:log-group:*`;

export function logsApi(groupsOf: (region: string, accountId: string) => LogGroups): EdgeService {
  return jsonProtocolService<LogGroups>({
    targetPrefix: "Logs_20140328",
    serviceName: "CloudWatch Logs",
    iamPrefix: "logs",
    version: "1.1",
    stateFor: (call) => groupsOf(call.region, call.caller!.accountId),
    operations: {
      DescribeLogGroups: {
        resources: (groups) => [groupsArn(groups.region, groups.accountId)],
        run: (groups, _region, input) => {
          const prefix = jsonText(input.logGroupNamePrefix);
          const limit = Number(input.limit ?? 50);
          return {
            logGroups: groups
              .list()
              .filter((g) => g.name.startsWith(prefix))
              .sort((a, b) => a.name.localeCompare(b.name))
              .slice(0, limit)
              .map((g) => ({ logGroupName: g.name, arn: `${g.arn}:*`, creationTime: g.creationTime, ...(g.retentionInDays ? { retentionInDays: g.retentionInDays } : {}), storedBytes: 0 })),
          };
        },
      },
      FilterLogEvents: {
        resources: (groups, _region, input) => {
          const group = groups.group(jsonText(input.logGroupName));
          if (!group) throw new AwsServiceError("ResourceNotFoundException", "The specified log group does not exist.");
          return [`${group.arn}:*`];
        },
        run: (groups, _region, input) => {
          const name = jsonText(input.logGroupName);
          const pattern = jsonText(input.filterPattern).replace(/^"(.*)"$/, "$1");
          const start = Number(input.startTime ?? 0);
          const end = Number(input.endTime ?? Number.MAX_SAFE_INTEGER);
          const limit = Math.min(Number(input.limit ?? 10_000), 10_000);
          const events = groups
            .eventsOf(name)
            .filter((e) => e.timestamp >= start && e.timestamp <= end && (pattern === "" || e.message.includes(pattern)))
            .slice(0, limit)
            .map((e, i) => ({ logStreamName: "local", timestamp: e.timestamp, message: e.message, ingestionTime: e.timestamp, eventId: `${e.timestamp}${i}` }));
          return { events, searchedLogStreams: [{ logStreamName: "local", searchedCompletely: true }] };
        },
      },
    },
  });
}
