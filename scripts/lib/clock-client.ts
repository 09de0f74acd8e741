// The local cloud's clock, from outside: read it, and on the manual clock move it. `url` is
// `clock.url` of .local/endpoints.json (or LocalCloud.endpoints()).
//
//   await advanceClock(endpoints.clock.url, "10s");   // due work (windows, ticks, sweeps) done on return
//   await advanceClockTo(endpoints.clock.url, "2026-01-02T00:00:00Z");

export interface ClockState {
  mode: "scaled" | "manual";
  /** ISO 8601 */
  now: string;
  epochMillis: number;
  /** Scaled clock only. */
  timeScale?: number;
}

/** What the control endpoint refused, with its code (ClockNotManual, InvalidParameter, ...). */
export class ClockError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ClockError";
  }
}

export function readClock(url: string): Promise<ClockState> {
  return call(url, "GET");
}

/** Moves a manual clock forward by a duration such as `10s`, `5m`, `1h`, `250ms`, `2d`. */
export function advanceClock(url: string, by: string): Promise<ClockState> {
  return call(`${url}/advance?by=${encodeURIComponent(by)}`, "POST");
}

/** Moves a manual clock forward to an instant. */
export function advanceClockTo(url: string, at: string | Date): Promise<ClockState> {
  return call(`${url}/advance-to?at=${encodeURIComponent(at instanceof Date ? at.toISOString() : at)}`, "POST");
}

async function call(url: string, method: string): Promise<ClockState> {
  let response: Response;
  try {
    response = await fetch(url, { method });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new ClockError("LOCAL_CLOUD_NOT_RUNNING", `cannot reach the local cloud's clock at ${url} (${cause}): is it running (npm start)?`);
  }
  const text = await response.text();
  let body: { code?: string; message?: string } & Partial<ClockState>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ClockError("UNEXPECTED_ANSWER", `${url} answered HTTP ${response.status} with something other than JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok) throw new ClockError(body.code ?? `HTTP_${response.status}`, body.message ?? `HTTP ${response.status}`);
  return body as ClockState;
}
