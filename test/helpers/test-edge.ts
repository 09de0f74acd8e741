// An edge endpoint over some of the local cloud's service APIs, for tests of one emulator or of a
// handler on its own: one account with its administrator key, the same signature checks and the
// same IAM path as the whole local cloud. Each suite starts its own and stops it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Accounts, type AccountServices } from "../../local/cloud/accounts";
import { Edge } from "../../local/edge/server";
import type { EdgeService } from "../../local/edge/types";
import { RegionOutages } from "../../local/lib/outages";

export interface TestEdge {
  url: string;
  account: AccountServices;
  accounts: Accounts;
  /** The account administrator's key (AdministratorAccess). */
  admin: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

export async function startTestEdge(options: {
  accountId: string;
  services: (accounts: Accounts) => Record<string, EdgeService>;
  regions?: string[];
  now?: () => Date;
}): Promise<TestEdge> {
  const accounts = new Accounts(mkdtempSync(join(tmpdir(), "test-edge-")));
  const account = accounts.get(options.accountId);
  const edge = new Edge({
    services: options.services(accounts),
    credentials: accounts.lookup,
    callerOf: accounts.callerOf,
    policies: accounts,
    regions: () => options.regions ?? ["us-east-1", "us-west-2"],
    outages: new RegionOutages(),
    now: options.now ?? (() => new Date()),
    log: () => {},
  });
  const server = await edge.start();
  return {
    url: server.url,
    account,
    accounts,
    admin: { accessKeyId: account.admin.accessKeyId, secretAccessKey: account.admin.secretAccessKey },
    stop: () => server.stop(),
  };
}
