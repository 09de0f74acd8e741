// The platform's client-facing domain (`https://api.dev.example.com`) as a client on this machine
// reaches it: every request resolves the domain through the local Route 53 DNS server (no
// caching, so each request follows the current answer, as a client honouring a short TTL does)
// and goes to the regional API the answer names, with the domain as Host so that the custom
// domain and its base path mapping apply.
import { Resolver } from "node:dns/promises";
import { request as httpRequest } from "node:http";
import { jsonResponse, serveHttp, type HttpRequest, type HttpResponse } from "../lib/http-serve";

const REGION_OF_API_HOST = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/;

export interface PlatformDomainOptions {
  domain: string;
  /** `127.0.0.1:<port>` of the local DNS server */
  dnsServer: string;
  /** The API Gateway origin (`http://127.0.0.1:<port>`) of a region */
  gatewayOf(region: string): string | undefined;
  port?: number;
}

export interface RunningPlatformDomain {
  /** `http://127.0.0.1:<port>`: stands for `https://<domain>` */
  url: string;
  domain: string;
  stop(): Promise<void>;
}

export async function startPlatformDomain(options: PlatformDomainOptions): Promise<RunningPlatformDomain> {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([options.dnsServer]);

  const fail = (status: number, message: string) => jsonResponse(status, { message }, "application/json", { "access-control-allow-origin": "*" });
  const forward = (request: HttpRequest, gateway: string, region: string) =>
    new Promise<HttpResponse>((resolve) => {
      const headers = { ...request.headers, host: options.domain, "content-length": String(request.body.length) };
      delete headers["transfer-encoding"];
      const upstream = httpRequest(new URL(request.url, gateway), { method: request.method, headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          const headers = Object.fromEntries(Object.entries(answer.headers).filter(([n]) => !["content-length", "connection", "transfer-encoding"].includes(n)).map(([n, v]) => [n, v as string | string[]]));
          resolve({ status: answer.statusCode ?? 502, headers: { ...headers, "x-local-cloud-region": region }, body: Buffer.concat(chunks) });
        });
        answer.on("error", (error) => resolve(fail(502, `the API of ${region} broke off: ${error.message}`)));
      });
      upstream.on("error", (error) => resolve(fail(502, `the API of ${region} did not answer: ${error.message}`)));
      upstream.end(request.body);
    });
  const server = await serveHttp(
    async (request) => {
      let apiHost: string | undefined;
      try {
        [apiHost] = await resolver.resolveCname(options.domain);
      } catch (error) {
        return fail(502, `${options.domain} does not resolve: ${(error as Error).message}`);
      }
      const region = REGION_OF_API_HOST.exec(apiHost ?? "")?.[1];
      const gateway = region ? options.gatewayOf(region) : undefined;
      if (!gateway) return fail(502, `${options.domain} resolves to ${apiHost}, which is no regional API of the local cloud`);
      return forward(request, gateway, region!);
    },
    {
      name: "platform domain",
      port: options.port,
      // Above what API Gateway takes, so that the regional API gives its own answer to a large body.
      maxBodyBytes: 16 * 1024 * 1024,
      onTooLarge: () => ({ status: 413, headers: { "content-type": "application/json" }, body: '{"message":"Request Too Long"}' }),
      onError: (error) => fail(500, (error as Error).message),
    },
  );
  return { url: server.url, domain: options.domain, stop: () => server.stop() };
}
