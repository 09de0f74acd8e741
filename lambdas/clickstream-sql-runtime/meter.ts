// What an invocation did to its state, counted as it goes and logged once at the end
// (code INVOCATION): the figures that show whether the state is touched per record or per window.
import { ConditionalCheckFailedException, type DynamoDBClient, type PutItemCommand, type UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { logger } from "../lib/observability";

export class StateMeter {
  /** Read requests (GetItem, BatchGetItem). */
  reads = 0;
  /** Write requests (PutItem, UpdateItem, DeleteItem), successful or not. */
  writes = 0;
  /** Sum over writes of the written item's size in KB, rounded up: DynamoDB's write units. */
  writeUnits = 0;
  /** Conditional writes that lost to another writer and had to be redone. */
  conflicts = 0;

  wrote(itemBytes: number): void {
    this.writes++;
    this.writeUnits += Math.max(1, Math.ceil(itemBytes / 1024));
  }
}

/**
 * Sends a conditional write of an item of `itemBytes`, metered; false (a conflict) when its
 * condition failed because another writer changed the item first.
 */
export async function conditionalWrite(dynamodb: DynamoDBClient, meter: StateMeter, itemBytes: number, command: PutItemCommand | UpdateItemCommand): Promise<boolean> {
  meter.wrote(itemBytes);
  try {
    await dynamodb.send(command as PutItemCommand);
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    meter.conflicts++;
    return false;
  }
}

/** One Powertools Logger line (its level honoured by Lambda's JSON log format), named by its code. */
export function log(level: "info" | "warn" | "error", code: string, detail: Record<string, unknown>): void {
  logger[level](code, { code, ...detail });
}
