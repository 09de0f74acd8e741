// The X-Ray daemon as a function with active tracing reaches it (AWS_XRAY_DAEMON_ADDRESS): a UDP
// socket on loopback taking the SDK's datagrams, a header line `{"format": "json", "version": 1}`
// and one segment or subsegment document ("Sending segment documents to the X-Ray daemon"). The
// documents are kept by trace id for the operator and the tests; nothing leaves this machine.
import { createSocket, type Socket } from "node:dgram";
import { LOOPBACK } from "../lib/listen";

export interface SegmentDocument {
  trace_id: string;
  id: string;
  name: string;
  parent_id?: string;
  type?: "subsegment";
  namespace?: string;
  start_time?: number;
  end_time?: number;
  in_progress?: boolean;
  aws?: Record<string, unknown>;
  http?: Record<string, unknown>;
  error?: boolean;
  fault?: boolean;
  subsegments?: SegmentDocument[];
  [key: string]: unknown;
}

const HEADER = /^\{"format":\s*"json",\s*"version":\s*1\}\n/;
const TRACES_KEPT = 2000;

export interface RunningXrayDaemon {
  /** `127.0.0.1:<port>`: AWS_XRAY_DAEMON_ADDRESS of the functions. */
  address: string;
  /** The documents received for a trace, in arrival order. */
  segments(traceId: string): SegmentDocument[];
  stop(): Promise<void>;
}

export async function startXrayDaemon(options: { log(line: string): void }): Promise<RunningXrayDaemon> {
  const traces = new Map<string, SegmentDocument[]>();
  const socket: Socket = createSocket("udp4");
  socket.on("message", (datagram) => {
    const text = datagram.toString("utf8");
    if (!HEADER.test(text)) return options.log("xray: a datagram without the daemon protocol's header was dropped");
    let document: SegmentDocument;
    try {
      document = JSON.parse(text.replace(HEADER, ""));
    } catch {
      return options.log("xray: a segment that is not JSON was dropped");
    }
    if (typeof document.trace_id !== "string") return;
    let segments = traces.get(document.trace_id);
    if (!segments) {
      traces.set(document.trace_id, (segments = []));
      if (traces.size > TRACES_KEPT) traces.delete(traces.keys().next().value!);
    }
    segments.push(document);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, LOOPBACK, () => resolve());
  });
  socket.unref();
  return {
    address: `${LOOPBACK}:${socket.address().port}`,
    segments: (traceId) => [...(traces.get(traceId) ?? [])],
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
