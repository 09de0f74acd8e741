// The platform's client-facing domain (`https://api.dev.example.com`) as a client on this machine
// reaches it: every request resolves the domain through the local Route 53 DNS server (no
// caching, so each request follows the current answer, as a client honouring a short TTL does)
// and goes to the regional API the answer names, with the domain as Host so that the custom
// domain and its base path mapping apply.
import { Resolver } from "node:dns/promises";
import { createServer, request as httpRequest } from "node:http";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";

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

  const server = createServer((request, response) => {
    const fail = (status: number, message: string) => {
      response.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" });
      response.end(JSON.stringify({ message }));
    };
    resolver
      .resolveCname(options.domain)
      .then(([apiHost]) => {
        const region = REGION_OF_API_HOST.exec(apiHost ?? "")?.[1];
        const gateway = region ? options.gatewayOf(region) : undefined;
        if (!gateway) return fail(502, `${options.domain} resolves to ${apiHost}, which is no regional API of the local cloud`);
        const upstream = httpRequest(
          new URL(request.url ?? "/", gateway),
          { method: request.method, headers: { ...request.headers, host: options.domain } },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, { ...answer.headers, "x-local-cloud-region": region! });
            answer.pipe(response);
          },
        );
        upstream.on("error", (error) => fail(502, `the API of ${region} did not answer: ${error.message}`));
        request.pipe(upstream);
      })
      .catch((error: Error) => fail(502, `${options.domain} does not resolve: ${error.message}`));
  });
  const port = await listenOnLoopback(server, options.port);
  return { url: `http://${LOOPBACK}:${port}`, domain: options.domain, stop: () => closeServer(server) };
}
