// What the partitioned runtime asks the input stream: which shards are open (every one of them
// must pass a window's end before it closes), and where a shard that has not reached a tick's
// time stands: records waiting (it is behind: windows wait for it), none (it is quiet: the tick
// moves it on), or read to its end after a split or merge (finished: it is no longer waited for).
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

/**
 * Where a shard stands after `lastSequence` (the last record counted; none: from its start):
 * "behind" when a record waits there, "finished" when Kinesis ends the shard's iterator (a split
 * or merge closed it and it is read to its end), "quiet" when it is at its tip. A shard whose
 * position cannot be told in a few reads (Kinesis may answer empty before the end) counts as
 * quiet: moving it on keeps windows closing.
 */
export async function progressOf(kinesis: KinesisClient, stream: string, shardId: string, lastSequence: string | undefined): Promise<ShardProgress> {
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
    if ((page.Records ?? []).length > 0) return "behind";
    iterator = page.NextShardIterator;
    if (iterator && page.MillisBehindLatest === 0) return "quiet";
  }
  return iterator ? "quiet" : "finished";
}

export type ShardProgress = "behind" | "quiet" | "finished";
