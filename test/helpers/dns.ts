// DNS queries over UDP with dns-packet, for what Node's resolver cannot send (EDNS Client Subnet, garbage).
import { createSocket } from "node:dgram";
import * as packet from "dns-packet";

/** dns-packet decodes the response code, its types do not declare it. */
export type Reply = packet.DecodedPacket & { rcode: string };

/** Sends one message to 127.0.0.1:`port` and decodes the answer. */
export function udpQuery(port: number, message: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no UDP answer"));
    }, 1000);
    socket.once("message", (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(packet.decode(reply) as Reply);
    });
    socket.send(message, port, "127.0.0.1");
  });
}

