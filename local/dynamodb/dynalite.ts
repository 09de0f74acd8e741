// DynamoDB for the local cloud: dynalite, in memory or persisted in a directory. Inside the local
// cloud it listens on a private Unix socket behind the edge; handler tests run it on a loopback
// port of their own.
import dynalite from "dynalite";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";
import { listenOnSocket } from "../lib/backend-socket";

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

function server(dataDir?: string) {
  // Tables become ACTIVE at once: the local cloud has no provisioning delay to imitate.
  return dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
}

/** dynalite on a loopback port (handler tests). */
export async function startDynalite(options: { dataDir?: string; port?: number } = {}): Promise<RunningEmulator> {
  const running = server(options.dataDir);
  const port = await listenOnLoopback(running, options.port);
  return { endpoint: `http://${LOOPBACK}:${port}`, stop: () => closeServer(running) };
}

/** dynalite on a Unix socket (the local cloud's backend). */
export async function startDynaliteOnSocket(options: { dataDir?: string; socketPath: string }): Promise<{ stop(): Promise<void> }> {
  const running = server(options.dataDir);
  await listenOnSocket(running, options.socketPath);
  return { stop: () => closeServer(running) };
}
