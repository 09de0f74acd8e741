// EventBridge scheduled rules: `rate(...)` and `cron(...)` expressions that invoke their Lambda
// targets with a Scheduled Event, on the local cloud's clock (scaled, or moved by hand).
import { randomUUID } from "node:crypto";
import type { Clock, Scheduled } from "../lib/clock";

export interface ScheduledRule {
  name: string;
  arn: string;
  scheduleExpression: string;
  enabled: boolean;
  targets: { id: string; arn: string; input?: string }[];
}

export interface ScheduleRuntime {
  region: string;
  accountId: string;
  clock: Clock;
  invoke(functionArn: string, event: unknown, ruleArn: string): Promise<void>;
  log(line: string): void;
}

const UNIT_MS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** Interval of a schedule expression in (local-cloud) milliseconds. */
export function scheduleIntervalMs(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) return Number(rate[1]) * UNIT_MS[rate[2]];
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  // Every-N-minutes crons are what the platform uses; anything finer-grained is refused, not guessed.
  if (cron && cron[2] === "*" && /^(\*|0\/\d+|\*\/\d+)$/.test(cron[1])) {
    const step = cron[1] === "*" ? 1 : Number(cron[1].split("/")[1]);
    return step * 60_000;
  }
  throw new Error(`schedule expression ${JSON.stringify(expression)} is not emulated (use rate(N unit) or cron(*/N * * * ? *))`);
}

export class Schedules {
  readonly rules = new Map<string, ScheduledRule>();
  private readonly timers = new Map<string, Scheduled>();

  constructor(private readonly runtime: ScheduleRuntime) {}

  putRule(name: string, scheduleExpression: string | undefined, enabled: boolean): ScheduledRule {
    const arn = `arn:aws:events:${this.runtime.region}:${this.runtime.accountId}:rule/${name}`;
    if (scheduleExpression) scheduleIntervalMs(scheduleExpression);
    const rule: ScheduledRule = { name, arn, scheduleExpression: scheduleExpression ?? "", enabled, targets: [] };
    this.rules.set(name, rule);
    return rule;
  }

  putTarget(ruleName: string, target: { id: string; arn: string; input?: string }) {
    const rule = this.rules.get(ruleName);
    if (!rule) throw new Error(`rule ${ruleName} does not exist`);
    rule.targets.push(target);
    this.schedule(rule);
  }

  private schedule(rule: ScheduledRule) {
    if (!rule.scheduleExpression || !rule.enabled || this.timers.has(rule.name)) return;
    this.timers.set(rule.name, this.runtime.clock.every(scheduleIntervalMs(rule.scheduleExpression), () => this.fire(rule)));
  }

  async fire(rule: ScheduledRule): Promise<void> {
    const event = {
      version: "0",
      id: randomUUID(),
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: this.runtime.accountId,
      time: new Date(this.runtime.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: this.runtime.region,
      resources: [rule.arn],
      detail: {},
    };
    for (const target of rule.targets) {
      // A throttled or failing target is logged and tried again at the next tick; one target's
      // trouble never stops the schedule (EventBridge retries and then drops the event).
      try {
        await this.runtime.invoke(target.arn, target.input ? JSON.parse(target.input) : event, rule.arn);
      } catch (error) {
        this.runtime.log(`events: ${rule.arn} -> ${target.arn}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
  }

  stop() {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
