// One region's DynamoDB storage: dynalite on a private Unix socket, reached by the edge (through
// local/dynamodb/api.ts) and, for TTL and replication, by AWS's own background processes.
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { requestOverSocket, socketRequestHandler, type BackendAnswer } from "../lib/backend-socket";
import type { HttpRequest } from "../lib/http-serve";
import type { DynamoRegion } from "./coordinator";
import { startDynaliteOnSocket } from "./dynalite";

/** dynalite checks no signature; the background processes sign with these. */
const BACKGROUND_CREDENTIALS = { accessKeyId: "LOCALBACKGROUND", secretAccessKey: "local" };

export class DynamoBackend implements DynamoRegion {
  private constructor(
    readonly region: string,
    private readonly socketPath: string,
    readonly client: DynamoDBClient,
    private readonly dynalite: { stop(): Promise<void> },
  ) {}

  static async start(options: { region: string; dataDir?: string; socketDir: string }): Promise<DynamoBackend> {
    const socketPath = join(options.socketDir, `dynamodb-${options.region}.sock`);
    const dynalite = await startDynaliteOnSocket({ dataDir: options.dataDir, socketPath });
    const client = new DynamoDBClient({
      region: options.region,
      endpoint: "http://dynamodb.backend",
      credentials: BACKGROUND_CREDENTIALS,
      requestHandler: socketRequestHandler(socketPath),
    });
    return new DynamoBackend(options.region, socketPath, client, dynalite);
  }

  /** Passes a request (already authenticated and authorized by the edge) to dynalite. */
  forward(request: HttpRequest, body: Buffer): Promise<BackendAnswer> {
    return requestOverSocket(this.socketPath, { method: request.method, path: request.url, headers: request.headers, body });
  }

  async stop(): Promise<void> {
    this.client.destroy();
    await this.dynalite.stop();
  }
}
