// Load generation for the benchmarks: sequential latency percentiles and concurrent throughput
// of a call, and HTTP calls that must answer the expected status (a broken route cannot look fast).
import { integerOption, numberOption } from "./cli";

export type Call = () => Promise<unknown>;

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** p50/p99 in ms over `requests` sequential calls, after 50 warm-up calls. */
export async function latency(call: Call, requests: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 50; i++) await call(); // warm: containers, connections, JIT
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** Calls per second for `seconds` with `concurrency` callers, after 5 warm-up calls each (a cold start per new container is not throughput). */
export async function throughput(call: Call, seconds: number, concurrency: number): Promise<number> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < 5; i++) await call();
    }),
  );
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await call();
        done++;
      }
    }),
  );
  return done / seconds;
}

export const http = (url: string, init: RequestInit, status: number): Call => async () => {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  if (response.status !== status) throw new Error(`${init.method ?? "GET"} ${url} answered ${response.status}, expected ${status}`);
};

/** The command-line options of a load benchmark (scripts/lib/cli.ts), with its default request count. */
export function loadOptions(defaultRequests: number) {
  return {
    requests: { type: "string", value: "<n>", default: String(defaultRequests), description: "sequential requests for the latency figures" },
    seconds: { type: "string", value: "<s>", default: "3", description: "how long the throughput run lasts" },
    concurrency: { type: "string", value: "<n>", default: "16", description: "requests in flight during the throughput run" },
  } as const;
}

export function loadSettings(values: { requests: string; seconds: string; concurrency: string }) {
  return {
    requests: integerOption("requests", values.requests, { min: 1 }),
    seconds: numberOption("seconds", values.seconds, { above: 0 }),
    concurrency: integerOption("concurrency", values.concurrency, { min: 1 }),
  };
}

/** Latency, then throughput, of each case, one line each (and returned); the first case is the baseline. */
export async function measureCases(
  cases: Array<[string, Call]>,
  settings: { requests: number; seconds: number; concurrency: number },
): Promise<Record<string, { p50: number; p99: number; rps: number }>> {
  const width = Math.max(...cases.map(([name]) => name.length)) + 2;
  console.log(`${settings.requests} sequential requests for latency, ${settings.seconds} s at concurrency ${settings.concurrency} for throughput`);
  const results: Record<string, { p50: number; p99: number; rps: number }> = {};
  for (const [name, call] of cases) {
    const { p50, p99 } = await latency(call, settings.requests);
    const rps = await throughput(call, settings.seconds, settings.concurrency);
    console.log(`${name.padEnd(width)} p50 ${p50.toFixed(2).padStart(7)} ms  p99 ${p99.toFixed(2).padStart(7)} ms  ${rps.toFixed(0).padStart(6)} req/s`);
    results[name] = { p50, p99, rps };
  }
  return results;
}
