// DynamoDB for the local cloud: dynalite on loopback, in memory or persisted in a directory.
import dynalite from "dynalite";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startDynalite(options: { dataDir?: string; port?: number } = {}): Promise<RunningEmulator> {
  // Tables become ACTIVE at once: the local cloud has no provisioning delay to imitate.
  const server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listenOnLoopback(server, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}
