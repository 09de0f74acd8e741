// Kinesis for the local cloud: kinesalite, in memory. Inside the local cloud it listens on a
// private Unix socket behind the edge (KinesisBackend); handler tests run it on a loopback port.
import { join } from "node:path";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import kinesalite from "kinesalite";
import type { RunningEmulator } from "../dynamodb/dynalite";
import { listenOnSocket, requestOverSocket, socketRequestHandler, type BackendAnswer } from "../lib/backend-socket";
import type { HttpRequest } from "../lib/http-serve";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";

/**
 * The account's shard quota: 20,000 in us-east-1, us-west-2 and eu-west-1 ("Quotas and limits",
 * Amazon Kinesis Data Streams developer guide); kinesalite's own default is 10.
 */
const SHARD_QUOTA = 20_000;

function server(dataDir?: string) {
  return kinesalite({ path: dataDir, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: SHARD_QUOTA });
}

/** kinesalite on a loopback port (handler tests). */
export async function startKinesalite(options: { dataDir?: string; port?: number } = {}): Promise<RunningEmulator> {
  const running = server(options.dataDir);
  const port = await listenOnLoopback(running, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(running) };
}

/** One region's Kinesis: kinesalite on a private socket, reached by the edge and the deployer. */
export class KinesisBackend {
  /** PutRecord and PutRecords calls answered so far: whether anything new may be on a stream. */
  puts = 0;

  private constructor(
    readonly region: string,
    private readonly socketPath: string,
    /** For the deployer, which creates streams as Terraform's provider would. */
    readonly client: KinesisClient,
    private readonly running: ReturnType<typeof server>,
  ) {}

  static async start(options: { region: string; socketDir: string }): Promise<KinesisBackend> {
    const socketPath = join(options.socketDir, `kinesis-${options.region}.sock`);
    const running = server();
    await listenOnSocket(running, socketPath);
    const client = new KinesisClient({
      region: options.region,
      endpoint: "http://kinesis.backend",
      credentials: { accessKeyId: "LOCALBACKGROUND", secretAccessKey: "local" },
      requestHandler: socketRequestHandler(socketPath),
    });
    return new KinesisBackend(options.region, socketPath, client, running);
  }

  async forward(request: HttpRequest): Promise<BackendAnswer> {
    const answer = await requestOverSocket(this.socketPath, { method: request.method, path: request.url, headers: request.headers, body: request.body });
    if (/\.PutRecords?$/.test(String(request.headers["x-amz-target"] ?? ""))) this.puts++;
    return answer;
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await closeServer(this.running);
  }
}
