// S3 static website hosting: anonymous GETs of buckets with a website configuration, allowed
// only as S3 allows them: the bucket policy grants everyone s3:GetObject and the public access
// block does not restrict public buckets. The bucket comes from the Host header
// (`<bucket>.s3-website-<region>.amazonaws.com`, what `website_endpoint` names) or, for a
// browser on loopback, from the first path segment.
import { createServer } from "node:http";
import { evaluate, type PolicyDocument } from "../iam/evaluator";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";
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

function locate(host: string, path: string): { bucket: string; key: string } {
  const fromHost = /^(.+)\.s3-website[.-][a-z0-9-]+\.amazonaws\.com(?::\d+)?$/.exec(host)?.[1];
  const segments = decodeURIComponent(path).replace(/^\//, "");
  if (fromHost) return { bucket: fromHost, key: segments };
  const slash = segments.indexOf("/");
  return slash < 0 ? { bucket: segments, key: "" } : { bucket: segments.slice(0, slash), key: segments.slice(slash + 1) };
}

export async function startS3Website(state: S3State, port = 0): Promise<RunningWebsite> {
  const server = createServer((request, response) => {
    const html = (status: number, code: string, message: string) => {
      response.writeHead(status, { "content-type": "text/html; charset=utf-8" });
      response.end(`<html><head><title>${status} ${code}</title></head><body><h1>${status} ${code}</h1><ul><li>Code: ${code}</li><li>Message: ${message}</li></ul></body></html>\n`);
    };
    if (request.method !== "GET" && request.method !== "HEAD") return html(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    const { bucket: name, key: rawKey } = locate(String(request.headers.host ?? ""), (request.url ?? "/").split("?")[0]);
    const bucket = state.listBuckets().find((b) => b.name === name);
    if (!bucket?.website) return html(404, "NoSuchWebsiteConfiguration", `The specified bucket does not have a website configuration: ${name}`);
    const key = rawKey === "" || rawKey.endsWith("/") ? `${rawKey}${bucket.website.indexDocument}` : rawKey;
    if (!publiclyReadable(bucket, key)) return html(403, "AccessDenied", "Access Denied");
    try {
      const object = state.getObject(name, key);
      response.writeHead(200, { "content-type": object.contentType, etag: object.etag, ...(object.cacheControl ? { "cache-control": object.cacheControl } : {}) });
      response.end(request.method === "HEAD" ? undefined : object.body);
    } catch (error) {
      if (error instanceof S3Error && error.code === "NoSuchKey") return html(404, "NoSuchKey", `The specified key does not exist: ${key}`);
      html(500, "InternalError", (error as Error).message);
    }
  });
  const listening = await listenOnLoopback(server, port);
  return { url: `http://${LOOPBACK}:${listening}`, stop: () => closeServer(server) };
}
