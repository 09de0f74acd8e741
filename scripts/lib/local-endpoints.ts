// .local/endpoints.json: what `npm start` writes when the local cloud is ready, and what the
// scripts that act on the running local cloud (drill, display:test, dns:check) read.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LocalEndpoints } from "../../local/cloud";
import { REPO_ROOT } from "../../modules/nodejs-function/bundle";

export const ENDPOINTS_FILE = join(REPO_ROOT, ".local", "endpoints.json");

export class LocalEndpointsError extends Error {
  readonly code = "LOCAL_CLOUD_NOT_RUNNING";
}

export function readLocalEndpoints(file = ENDPOINTS_FILE): LocalEndpoints {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LocalEndpoints;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read: ${(error as Error).message}`;
    throw new LocalEndpointsError(`${file} ${reason}: is the local cloud running (npm start)?`);
  }
}
