// Kinesis for the local cloud: kinesalite on loopback, in memory or persisted in a directory.
import kinesalite from "kinesalite";
import type { RunningEmulator } from "../dynamodb/dynalite";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";

export async function startKinesalite(options: { dataDir?: string; port?: number } = {}): Promise<RunningEmulator> {
  const server = kinesalite({ path: options.dataDir, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  const port = await listenOnLoopback(server, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}
