// Which AWS region a DNS client is nearest to, for the local cloud's latency routing. Route 53
// measures latency from client networks itself; the local cloud instead maps an address to the
// region that owns it in AWS's published IP ranges (https://ip-ranges.amazonaws.com/ip-ranges.json,
// service AMAZON): an EC2 address of us-west-2 is a client in us-west-2. The table holds a few of
// each region's prefixes, enough for callers to stand for "a resolver in region X" (as
// TestDNSAnswer's ResolverIP and EDNS0ClientSubnetIP, or `dig +subnet=`). Addresses outside it
// (loopback included) are the caller region's default.
import { BlockList, isIPv4 } from "node:net";

/** Prefixes of AWS's IP ranges per region (ip-ranges.json). The first one stands for the region. */
export const REGION_PREFIXES: Record<string, string[]> = {
  "us-east-1": ["34.192.0.0/12", "34.224.0.0/12", "35.168.0.0/13", "52.0.0.0/15", "23.20.0.0/14"],
  "us-east-2": ["18.216.0.0/14", "18.220.0.0/14", "13.58.0.0/15", "52.14.0.0/16"],
  "us-west-1": ["13.56.0.0/16", "13.57.0.0/16", "52.52.0.0/15", "50.18.0.0/16"],
  "us-west-2": ["34.208.0.0/12", "35.160.0.0/13", "52.24.0.0/14", "52.32.0.0/14", "50.112.0.0/16"],
  "eu-west-1": ["34.240.0.0/13", "34.248.0.0/13", "52.16.0.0/15", "52.48.0.0/14"],
};

const blocks = Object.entries(REGION_PREFIXES).map(([region, prefixes]) => {
  const list = new BlockList();
  for (const prefix of prefixes) {
    const [network, length] = prefix.split("/");
    list.addSubnet(network, Number(length), "ipv4");
  }
  return { region, list };
});

/** The region whose published prefixes hold `address`; undefined outside the table. */
export function regionOfAddress(address: string | undefined): string | undefined {
  if (!address || !isIPv4(address)) return undefined;
  return blocks.find(({ list }) => list.check(address, "ipv4"))?.region;
}

/**
 * Addresses standing for a DNS client in `region`: a resolver there and its /24 client subnet,
 * inside the first of the region's prefixes.
 */
export function clientOf(region: string): { resolverIp: string; subnet: string; prefixLength: number } | undefined {
  const first = REGION_PREFIXES[region]?.[0];
  if (!first) return undefined;
  const network = first.split("/")[0];
  return { resolverIp: network.replace(/\.0$/, ".1"), subnet: network, prefixLength: 24 };
}
