// CloudWatch Logs for the local cloud: each log group is a file under the data directory, so
// Lambda output and API access logs can be read (and tailed) while the platform runs, and the
// recent events of each group are kept with their time for FilterLogEvents.
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";

export interface LogGroup {
  name: string;
  arn: string;
  retentionInDays?: number;
  file: string;
  creationTime: number;
}

export interface LogEvent {
  timestamp: number;
  message: string;
}

/** Events kept per group for FilterLogEvents; the file keeps everything. */
const KEPT_EVENTS = 10_000;

export class LogGroups {
  private readonly groups = new Map<string, LogGroup>();
  private readonly streams = new Map<string, Writable>();
  private readonly events = new Map<string, LogEvent[]>();

  constructor(
    readonly region: string,
    readonly accountId: string,
    private readonly dir: string,
    /** The local cloud's clock (epoch ms): log events' timestamps. */
    private readonly now: () => number = Date.now,
    /** Called with every event written to any group (CloudWatch extracts EMF metrics from them). */
    private readonly onEvent?: (message: string) => void,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  create(name: string, retentionInDays?: number): LogGroup {
    const group: LogGroup = {
      name,
      arn: `arn:aws:logs:${this.region}:${this.accountId}:log-group:${name}`,
      retentionInDays,
      file: join(this.dir, `${name.replace(/^\//, "").replace(/[^A-Za-z0-9._-]+/g, "_")}.log`),
      creationTime: this.now(),
    };
    this.groups.set(name, group);
    return group;
  }

  /** By name or ARN (`...:log-group:<name>` with or without `:*`). */
  group(nameOrArn: string): LogGroup | undefined {
    const name = nameOrArn.startsWith("arn:") ? nameOrArn.replace(/^arn:aws:logs:[^:]*:[^:]*:log-group:/, "").replace(/:\*$/, "") : nameOrArn;
    return this.groups.get(name);
  }

  private closed = false;

  list(): LogGroup[] {
    return [...this.groups.values()];
  }

  /**
   * An append stream for the group: each line is an event (kept with its time) and goes to the
   * group's file. A group Terraform did not create is created as Lambda would (no retention).
   */
  stream(nameOrArn: string): Writable {
    const group = this.group(nameOrArn) ?? this.create(nameOrArn);
    let stream = this.streams.get(group.name);
    if (!stream) {
      const file: WriteStream = createWriteStream(group.file, { flags: "a" });
      // Output a function prints while the local cloud stops arrives after the stream ended: dropped.
      file.on("error", (error) => {
        if (!this.closed) console.error(`logs: ${group.name}: ${error.message}`);
      });
      const events = this.events.get(group.name) ?? [];
      this.events.set(group.name, events);
      let partial = "";
      stream = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          const lines = (partial + chunk.toString("utf8")).split("\n");
          partial = lines.pop() ?? "";
          for (const message of lines) {
            events.push({ timestamp: this.now(), message });
            this.onEvent?.(message);
          }
          if (events.length > KEPT_EVENTS) events.splice(0, events.length - KEPT_EVENTS);
          file.write(chunk, done);
        },
        final: (done) => file.end(done),
      });
      stream.on("error", () => {});
      this.streams.set(group.name, stream);
    }
    return stream;
  }

  /** The kept events of a group, oldest first. */
  eventsOf(name: string): LogEvent[] {
    return this.events.get(name) ?? [];
  }

  write(nameOrArn: string, line: string): void {
    // A request still in flight while the local cloud stops has nowhere to log to.
    if (this.closed) return;
    this.stream(nameOrArn).write(line.endsWith("\n") ? line : `${line}\n`);
  }

  /** Resolves once every line written so far is in its file (what a reader of the files waits for). */
  async flush(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => new Promise<void>((resolve, reject) => s.write("", (error) => (error ? reject(error) : resolve())))));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.streams.values()].map((s) => new Promise<void>((resolve) => s.end(resolve))));
    this.streams.clear();
  }
}
