// S3 static website hosting: anonymous GETs of buckets with a website configuration, allowed
// only as S3 allows them: the bucket policy grants everyone s3:GetObject and the public access
// block does not restrict public buckets. The bucket comes from the Host header
// (`<bucket>.s3-website-<region>.amazonaws.com`, what `website_endpoint` names) or, for a
// browser on loopback, from the first path segment.
import { evaluate, type PolicyDocument } from "../iam/evaluator";
import { serveHttp, type HttpRequest, type HttpResponse } from "../lib/http-serve";
import { S3Error, type Bucket, type S3State } from "./state";

export interface RunningWebsite {
  /** `http://127.0.0.1:<port>`; a bucket's site is at `<url>/<bucket>/`. */
  url: string;
  stop(): Promise<void>;
}

/** Whether S3 lets an anonymous caller read the key (what a public bucket is). */
export function publiclyReadable(bucket: Bucket, key: string): boolean {
  if (!bucket.policy || bucket.publicAccessBlock?.restrictPublicBuckets) return false;
  const request = { action: "s3:GetObject", resource: `arn:aws:s3:::${bucket.name}/${key}`, principal: { type: "AWS" as const, id: "*" } };
  return evaluate(request, { resourcePolicies: [JSON.parse(bucket.policy) as PolicyDocument] }).decision === "Allow";
}

function locate(host: string, path: string): { bucket: string; key: string } | undefined {
  const fromHost = /^(.+)\.s3-website[.-][a-z0-9-]+\.amazonaws\.com(?::\d+)?$/.exec(host)?.[1];
  let segments: string;
  try {
    segments = decodeURIComponent(path).replace(/^\//, "");
  } catch {
    return undefined;
  }
  if (fromHost) return { bucket: fromHost, key: segments };
  const slash = segments.indexOf("/");
  return slash < 0 ? { bucket: segments, key: "" } : { bucket: segments.slice(0, slash), key: segments.slice(slash + 1) };
}

const html = (status: number, code: string, message: string): HttpResponse => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: `<html><head><title>${status} ${code}</title></head><body><h1>${status} ${code}</h1><ul><li>Code: ${code}</li><li>Message: ${message}</li></ul></body></html>\n`,
});

function serve(state: S3State, request: HttpRequest): HttpResponse {
  if (request.method !== "GET" && request.method !== "HEAD") return html(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  const located = locate(String(request.headers.host ?? ""), request.rawPath);
  if (!located) return html(400, "InvalidURI", "Couldn't parse the specified URI.");
  const bucket = state.listBuckets().find((b) => b.name === located.bucket);
  if (!bucket?.website) return html(404, "NoSuchWebsiteConfiguration", `The specified bucket does not have a website configuration: ${located.bucket}`);
  const key = located.key === "" || located.key.endsWith("/") ? `${located.key}${bucket.website.indexDocument}` : located.key;
  if (!publiclyReadable(bucket, key)) return html(403, "AccessDenied", "Access Denied");
  try {
    const object = state.getObject(bucket.name, key);
    return { status: 200, headers: { "content-type": object.contentType, etag: object.etag, ...(object.cacheControl ? { "cache-control": object.cacheControl } : {}) }, body: object.body };
  } catch (error) {
    if (error instanceof S3Error && error.code === "NoSuchKey") return html(404, "NoSuchKey", `The specified key does not exist: ${key}`);
    throw error;
  }
}

export async function startS3Website(state: S3State, port = 0): Promise<RunningWebsite> {
  const server = await serveHttp((request) => serve(state, request), {
    name: "s3 website",
    port,
    maxBodyBytes: 64 * 1024,
    onError: (error) => html(500, "InternalError", (error as Error).message),
  });
  return { url: server.url, stop: () => server.stop() };
}
