// Load generation for the benchmarks: sequential latency percentiles and concurrent throughput
// of a call, and HTTP calls that must answer the expected status (a broken route cannot look fast).

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

/** Calls per second for `seconds` with `concurrency` callers. */
export async function throughput(call: Call, seconds: number, concurrency: number): Promise<number> {
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
