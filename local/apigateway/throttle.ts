// Token buckets, as API Gateway throttles: `rate` requests per second refill a bucket of
// `burst` tokens; a request without a token gets 429.

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    /** Milliseconds on the gateway's clock. */
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A stage's throttling: API Gateway applies a stage's limits per method ("per-API, per-stage
 * throttling limits are applied at the API method level"), so every method has its own bucket,
 * with the limits of its method settings (`comments/POST`) or else the stage default (`*\/*`).
 */
export class MethodThrottles {
  private readonly buckets = new Map<string, TokenBucket | null>();

  constructor(
    private readonly settings: Map<string, { throttlingRateLimit?: number; throttlingBurstLimit?: number }>,
    /** The gateway's clock (epoch ms). */
    private readonly now: () => number,
  ) {}

  /** Takes a token of the method's bucket; false when it has none left. */
  take(methodPath: string): boolean {
    let bucket = this.buckets.get(methodPath);
    if (bucket === undefined) {
      const own = this.settings.get(methodPath);
      const limits = own?.throttlingRateLimit !== undefined && own.throttlingBurstLimit !== undefined ? own : this.settings.get("*/*");
      bucket = limits?.throttlingRateLimit !== undefined && limits.throttlingBurstLimit !== undefined ? new TokenBucket(limits.throttlingRateLimit, limits.throttlingBurstLimit, this.now) : null;
      this.buckets.set(methodPath, bucket);
    }
    return bucket ? bucket.take() : true;
  }
}

/** Requests counted per period for usage-plan quotas (UTC days, ISO weeks from Monday, months). */
export class QuotaCounter {
  private readonly counts = new Map<string, { period: string; count: number }>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Counts one request; false when the limit for the current period is already reached. */
  take(key: string, limit: number, period: "DAY" | "WEEK" | "MONTH"): boolean {
    const current = periodOf(this.now(), period);
    const entry = this.counts.get(key);
    const count = entry && entry.period === current ? entry.count : 0;
    if (count >= limit) return false;
    this.counts.set(key, { period: current, count: count + 1 });
    return true;
  }

  used(key: string, period: "DAY" | "WEEK" | "MONTH"): number {
    const entry = this.counts.get(key);
    return entry && entry.period === periodOf(this.now(), period) ? entry.count : 0;
  }
}

function periodOf(date: Date, period: "DAY" | "WEEK" | "MONTH"): string {
  const day = date.toISOString().slice(0, 10);
  if (period === "DAY") return day;
  if (period === "MONTH") return day.slice(0, 7);
  const monday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - ((date.getUTCDay() + 6) % 7)));
  return `W${monday.toISOString().slice(0, 10)}`;
}
