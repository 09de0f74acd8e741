// Terraform resource types of Kinesis Data Streams, created in the region's kinesalite.
import { CreateStreamCommand, KinesisClient, ResourceInUseException } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

const clients = new Map<string, KinesisClient>();
export function kinesisClient(endpoint: string, region: string): KinesisClient {
  const key = `${endpoint}/${region}`;
  let client = clients.get(key);
  if (!client) {
    // HTTP/1.1: kinesalite does not speak HTTP/2.
    client = new KinesisClient({ endpoint, region, credentials: { accessKeyId: "LOCALDEPLOYER", secretAccessKey: "local" }, requestHandler: new NodeHttpHandler() });
    clients.set(key, client);
  }
  return client;
}

export const kinesisResources: Record<string, ResourceHandler<RegionServices>> = {
  aws_kinesis_stream: async ({ config, services, region, accountId, log }) => {
    const client = kinesisClient(services.kinesis.endpoint, region);
    const onDemand = config.stream_mode_details?.stream_mode === "ON_DEMAND" || config.stream_mode_details?.[0]?.stream_mode === "ON_DEMAND";
    try {
      await client.send(new CreateStreamCommand({ StreamName: config.name, ShardCount: onDemand ? 4 : (config.shard_count ?? 1) }));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
      log(`stream ${config.name} exists (kept from an earlier run)`);
    }
    const arn = `arn:aws:kinesis:${region}:${accountId}:stream/${config.name}`;
    return { id: arn, arn };
  },
};
