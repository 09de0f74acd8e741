// Calls to NASA with a time limit and a size limit on every request, so that a slow or broken
// upstream ends in an UpstreamError (and the stale answer) instead of a hung Lambda. URLs in
// messages never show the api_key.

export type UpstreamErrorCode = "UPSTREAM_TIMEOUT" | "UPSTREAM_UNREACHABLE" | "UPSTREAM_HTTP" | "UPSTREAM_TOO_LARGE" | "UPSTREAM_BAD_DATA";

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}

export interface FetchLimits {
  /** Aborts the request and the body read (the caller's deadline and the per-request timeout). */
  signal: AbortSignal;
  maxBytes: number;
}

/** The URL with any api_key query parameter masked, for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/([?&]api_key=)[^&#]*/gi, "$1***");
}

export async function fetchBytes(url: string, limits: FetchLimits): Promise<Buffer> {
  const shown = redact(url);
  let response: Response;
  try {
    response = await fetch(url, { signal: limits.signal, redirect: "follow", headers: { accept: "application/json, image/jpeg;q=0.9, */*;q=0.1" } });
  } catch (error) {
    throw failure(error, shown);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UpstreamError("UPSTREAM_HTTP", `${shown} answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length"));
  if (declared > limits.maxBytes) {
    await response.body?.cancel();
    throw new UpstreamError("UPSTREAM_TOO_LARGE", `${shown} sends ${declared} bytes, more than the ${limits.maxBytes} allowed`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  try {
    for (let read = await reader?.read(); read && !read.done; read = await reader!.read()) {
      size += read.value.length;
      if (size > limits.maxBytes) {
        await reader!.cancel().catch(() => undefined);
        throw new UpstreamError("UPSTREAM_TOO_LARGE", `${shown} sent more than the ${limits.maxBytes} bytes allowed`);
      }
      chunks.push(read.value);
    }
  } catch (error) {
    throw error instanceof UpstreamError ? error : failure(error, shown);
  }
  return Buffer.concat(chunks);
}

export async function fetchJson(url: string, limits: FetchLimits): Promise<unknown> {
  const bytes = await fetchBytes(url, limits);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new UpstreamError("UPSTREAM_BAD_DATA", `${redact(url)} did not answer JSON`);
  }
}

function failure(error: unknown, shown: string): UpstreamError {
  const e = error as Error & { cause?: { code?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    return new UpstreamError("UPSTREAM_TIMEOUT", `${shown} did not answer in time`);
  }
  return new UpstreamError("UPSTREAM_UNREACHABLE", `${shown} could not be reached: ${e.cause?.code ?? e.message}`);
}
