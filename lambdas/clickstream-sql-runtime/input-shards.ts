// What the partitioned runtime asks the input stream: which shards are open (every one of them
// must pass a window's end before it closes), and whether a shard that stopped is finished (closed
// by a split or merge and read to its end, so nothing more will come from it) or only quiet.
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard } from "@aws-sdk/client-kinesis";

/** GetRecords calls spent looking for a closed shard's end (Kinesis may answer empty before it says the end). */
const END_PROBES = 3;

export async function listShards(kinesis: KinesisClient, stream: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const page = await kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
    shards.push(...(page.Shards ?? []));
    token = page.NextToken;
  } while (token);
  return shards;
}

/** An open shard takes new records; a closed one (split or merged away) has an ending sequence number. */
export function isOpen(shard: Shard): boolean {
  return !shard.SequenceNumberRange?.EndingSequenceNumber;
}

/** Whether a closed shard has no record after `lastSequence` (the last one counted): Kinesis ends its iterator. */
export async function readToEnd(kinesis: KinesisClient, stream: string, shardId: string, lastSequence: string | undefined): Promise<boolean> {
  const start = await kinesis.send(
    new GetShardIteratorCommand(
      lastSequence
        ? { StreamName: stream, ShardId: shardId, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: lastSequence }
        : { StreamName: stream, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" },
    ),
  );
  let iterator = start.ShardIterator;
  for (let probe = 0; probe < END_PROBES && iterator; probe++) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
    if ((page.Records ?? []).length > 0) return false;
    iterator = page.NextShardIterator;
  }
  return !iterator;
}
