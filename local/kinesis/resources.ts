// Terraform resource types of Kinesis Data Streams, created in the region's kinesalite.
import { CreateStreamCommand, ResourceInUseException } from "@aws-sdk/client-kinesis";
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

export const kinesisResources: Record<string, ResourceHandler<RegionServices>> = {
  aws_kinesis_stream: async ({ config, services, region, accountId, log }) => {
    const client = services.kinesis.client;
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
