// Terraform resource types of DynamoDB, created in the region's emulator through its own API.
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, type CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

type Handler = ResourceHandler<RegionServices>;

async function ensureTable(client: DynamoDBClient, config: Record<string, any>, log: (message: string) => void) {
  try {
    await client.send(new CreateTableCommand(createTableInput(config)));
  } catch (error) {
    // Data persists across restarts: a table that exists already is kept with its items.
    if (!(error instanceof ResourceInUseException)) throw error;
    log(`table ${config.name} exists (kept from an earlier run)`);
  }
}

const list = <T>(value: T | T[] | undefined | null): T[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);

function keySchema(hash: string, range?: string) {
  return [{ AttributeName: hash, KeyType: "HASH" as const }, ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : [])];
}

function projection(index: any) {
  return {
    ProjectionType: index.projection_type,
    ...(index.non_key_attributes?.length ? { NonKeyAttributes: index.non_key_attributes } : {}),
  };
}

/** The CreateTable request Terraform's arguments describe. */
export function createTableInput(config: Record<string, any>): CreateTableCommandInput {
  const onDemand = (config.billing_mode ?? "PROVISIONED") === "PAY_PER_REQUEST";
  const throughput = onDemand ? undefined : { ReadCapacityUnits: config.read_capacity ?? 1, WriteCapacityUnits: config.write_capacity ?? 1 };
  const gsis = list<any>(config.global_secondary_index);
  const lsis = list<any>(config.local_secondary_index);
  return {
    TableName: config.name,
    AttributeDefinitions: list<any>(config.attribute).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: keySchema(config.hash_key, config.range_key),
    BillingMode: onDemand ? "PAY_PER_REQUEST" : "PROVISIONED",
    ProvisionedThroughput: throughput,
    GlobalSecondaryIndexes: gsis.length
      ? gsis.map((g) => ({
          IndexName: g.name,
          KeySchema: keySchema(g.hash_key, g.range_key),
          Projection: projection(g),
          ProvisionedThroughput: onDemand ? undefined : { ReadCapacityUnits: g.read_capacity ?? 1, WriteCapacityUnits: g.write_capacity ?? 1 },
        }))
      : undefined,
    LocalSecondaryIndexes: lsis.length ? lsis.map((l) => ({ IndexName: l.name, KeySchema: keySchema(config.hash_key, l.range_key), Projection: projection(l) })) : undefined,
  };
}

export const dynamodbResources: Record<string, Handler> = {
  aws_dynamodb_table: async ({ config, services, region, accountId, log }) => {
    const client = services.dynamodb.client;
    await ensureTable(client, config, log);
    const ttl = list<any>(config.ttl)[0];
    if (ttl?.enabled && ttl.attribute_name) services.dynamodb.coordinator.enableTtl(region, config.name, ttl.attribute_name);
    const replicas = list<any>(config.replica).map((r) => r.region_name as string);
    if (replicas.length > 0) {
      // The primary region's table declares the replicas; the replica tables exist as it is created.
      for (const other of replicas) {
        const replica = services.dynamodb.coordinator.region(other);
        if (!replica) throw new Error(`table ${config.name}: replica region ${other} is not part of the local cloud`);
        await ensureTable(replica.client, config, log);
      }
      services.dynamodb.coordinator.replicate(config.name, region, ...replicas);
    }
    // The table's own region and account (dynalite names us-east-1 whatever region it stands for):
    // arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}, Service Authorization Reference.
    const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${config.name}`;
    return {
      id: config.name,
      arn,
      stream_arn: config.stream_enabled ? `${arn}/stream/${new Date(0).toISOString()}` : "",
      stream_label: "",
    };
  },
};
