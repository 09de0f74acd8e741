// The local cloud's Route 53 name server: DNS over UDP and TCP on 127.0.0.1 (one port for both),
// answering from Route53State through the Answerer. The caller's region, which latency routing
// needs, comes from the EDNS Client Subnet option when the query has one (as TestDNSAnswer and
// `dig +subnet=` send), otherwise from the source address; `callerRegion` maps either to a region.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import * as packet from "dns-packet";
import { LOOPBACK } from "../lib/listen";
import { Answerer, type AnswerOptions, type ResourceRecord, type ResponseCode } from "./answer";

export interface DnsCaller {
  address: string;
  port: number;
  transport: "udp" | "tcp";
  /** From the EDNS Client Subnet option, when the query carries one. */
  clientSubnet?: { address: string; prefixLength: number };
}

export interface DnsServerOptions extends AnswerOptions {
  /** The region a caller is nearest to. Default: us-east-1 for every caller (all are on loopback). */
  callerRegion?(caller: DnsCaller): string;
}

export const DEFAULT_CALLER_REGION = "us-east-1";

const RCODE: Record<ResponseCode | "FORMERR" | "NOTIMP", number> = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
/** Without EDNS a UDP answer must fit in 512 bytes (RFC 1035); larger ones are truncated (TC) for a retry over TCP. */
const CLASSIC_UDP_LIMIT = 512;
const BIND_ATTEMPTS = 10;

export class DnsServer {
  private readonly answerer: Answerer;
  private readonly callerRegion: (caller: DnsCaller) => string;
  private udp?: UdpSocket;
  private tcp?: Server;
  private readonly connections = new Set<Socket>();
  private boundPort?: number;

  constructor(options: DnsServerOptions) {
    this.answerer = new Answerer(options);
    this.callerRegion = options.callerRegion ?? (() => DEFAULT_CALLER_REGION);
  }

  /** `127.0.0.1:<port>`, for endpoints.json and `dig @127.0.0.1 -p <port>`. */
  get address(): string {
    if (this.boundPort === undefined) throw new Error("The DNS server is not listening; call listen() first");
    return `${LOOPBACK}:${this.boundPort}`;
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  /** Binds TCP and UDP on 127.0.0.1, the same port for both (0: a free one); resolves to the port. */
  async listen(port = 0): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const tcp = createServer((socket) => this.serveTcp(socket));
      const tcpPort = await new Promise<number>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, LOOPBACK, () => resolve((tcp.address() as { port: number }).port));
      });
      const udp = createSocket("udp4");
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once("error", reject);
          udp.bind(tcpPort, LOOPBACK, () => {
            udp.off("error", reject);
            resolve();
          });
        });
      } catch (error) {
        udp.close();
        await new Promise((resolve) => tcp.close(resolve));
        // A free TCP port may be taken for UDP: with port 0, try another one.
        if (port === 0 && (error as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < BIND_ATTEMPTS) continue;
        throw error;
      }
      udp.on("message", (message, remote) => this.serveUdp(udp, message, remote));
      this.tcp = tcp;
      this.udp = udp;
      this.boundPort = tcpPort;
      return tcpPort;
    }
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await Promise.all([
      this.tcp && new Promise((resolve) => this.tcp!.close(resolve)),
      this.udp && new Promise<void>((resolve) => this.udp!.close(() => resolve())),
    ]);
    this.tcp = undefined;
    this.udp = undefined;
    this.boundPort = undefined;
  }

  /** The wire answer to one DNS message; undefined for messages that deserve none (responses, garbage). */
  respond(message: Buffer, caller: Omit<DnsCaller, "clientSubnet">): Buffer | undefined {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(message);
    } catch {
      // Too short to carry an id: nothing to answer to.
      return message.length >= 12 ? packet.encode(errorResponse(message.readUInt16BE(0), "FORMERR")) : undefined;
    }
    if (query.type !== "query") return undefined;
    const opcode = (query as packet.DecodedPacket & { opcode?: string }).opcode;
    if (opcode !== "QUERY") return packet.encode(errorResponse(query.id ?? 0, "NOTIMP", query.questions));
    const question = query.questions?.[0];
    if (!question || query.questions!.length !== 1) return packet.encode(errorResponse(query.id ?? 0, "FORMERR", query.questions));

    const opt = query.additionals?.find((a): a is packet.OptAnswer => a.type === "OPT");
    const subnet = opt?.options.find((o) => o.code === 8) as { ip?: string; sourcePrefixLength?: number; family?: number } | undefined;
    const clientSubnet = subnet?.ip ? { address: subnet.ip, prefixLength: subnet.sourcePrefixLength ?? 0 } : undefined;
    const region = this.callerRegion({ ...caller, clientSubnet });
    const answer = this.answerer.answer(question.name, question.type, region);

    const response: packet.Packet = {
      type: "response",
      id: query.id,
      flags: packet.AUTHORITATIVE_ANSWER | (query.flag_rd ? packet.RECURSION_DESIRED : 0) | RCODE[answer.rcode],
      questions: [question],
      answers: answer.answers.map(toWire),
      authorities: answer.authority ? [toWire(answer.authority)] : [],
      additionals: opt
        ? [
            {
              type: "OPT",
              name: ".",
              udpPayloadSize: 4096,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              // The answer holds for the whole subnet asked about (scope = source prefix), RFC 7871.
              options: subnet?.ip ? [{ code: 8, family: subnet.family, sourcePrefixLength: clientSubnet!.prefixLength, scopePrefixLength: clientSubnet!.prefixLength, ip: subnet.ip }] : [],
            } as packet.OptAnswer,
          ]
        : [],
    };
    const encoded = packet.encode(response);
    const limit = opt ? Math.max(opt.udpPayloadSize, CLASSIC_UDP_LIMIT) : CLASSIC_UDP_LIMIT;
    if (caller.transport === "udp" && encoded.length > limit) {
      return packet.encode({ ...response, flags: response.flags! | packet.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: [] });
    }
    return encoded;
  }

  private serveUdp(udp: UdpSocket, message: Buffer, remote: RemoteInfo) {
    const reply = this.respond(message, { address: remote.address, port: remote.port, transport: "udp" });
    if (reply) udp.send(reply, remote.port, remote.address);
  }

  /** DNS over TCP: each message is preceded by its length (2 bytes); one connection may carry many. */
  private serveTcp(socket: Socket) {
    this.connections.add(socket);
    socket.on("close", () => this.connections.delete(socket));
    socket.on("error", () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        const reply = this.respond(message, { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0, transport: "tcp" });
        if (!reply) continue;
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        socket.write(Buffer.concat([length, reply]));
      }
    });
  }
}

export interface RunningDnsServer {
  /** `127.0.0.1:<port>` */
  address: string;
  port: number;
  server: DnsServer;
  stop(): Promise<void>;
}

/** A DnsServer listening on `port` (0: a free one), in the shape of the local cloud's other servers. */
export async function startDnsServer(options: DnsServerOptions & { port?: number }): Promise<RunningDnsServer> {
  const server = new DnsServer(options);
  const port = await server.listen(options.port);
  return { address: server.address, port, server, stop: () => server.close() };
}

function errorResponse(id: number, rcode: keyof typeof RCODE, questions: packet.Question[] = []): packet.Packet {
  return { type: "response", id, flags: RCODE[rcode], questions };
}

function toWire(record: ResourceRecord): packet.Answer {
  const base = { name: record.name, ttl: record.ttl, class: "IN" as const };
  switch (record.type) {
    case "TXT":
      return { ...base, type: "TXT", data: txtStrings(record.data) };
    case "MX": {
      const [preference, exchange] = record.data.split(/\s+/);
      return { ...base, type: "MX", data: { preference: Number(preference), exchange } };
    }
    case "SOA": {
      const [mname, rname, serial, refresh, retry, expire, minimum] = record.data.split(/\s+/);
      const [s, r, t, e, m] = [serial, refresh, retry, expire, minimum].map(Number);
      return { ...base, type: "SOA", data: { mname, rname, serial: s, refresh: r, retry: t, expire: e, minimum: m } };
    }
    default:
      return { ...base, type: record.type as packet.StringAnswer["type"], data: record.data };
  }
}

/** Route 53 writes TXT values as one or more quoted strings (`"a" "b"`); unquoted ones are one string. */
function txtStrings(value: string): string[] {
  const quoted = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, "$1"));
  return quoted.length > 0 ? quoted : [value];
}
