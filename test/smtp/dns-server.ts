// A real DNS server on loopback (dns2, UDP, port 0) answering TXT queries from a table;
// everything else is NXDOMAIN. The listeners reach it through their dnsServers option.

import { createRequire } from 'node:module';

// dns2 ships no typings: the few parts used here.
interface DnsPacket {
  questions: Array<{ name: string; type: number }>;
  answers: object[];
  header: { rcode: number };
}
interface Dns2 {
  Packet: { TYPE: { TXT: number }; CLASS: { IN: number }; createResponseFromRequest(r: DnsPacket): DnsPacket };
  createServer(o: { udp: boolean; handle(req: DnsPacket, send: (r: DnsPacket) => void): void }): {
    listen(o: object): Promise<{ udp: { port: number } }>;
    close(): Promise<unknown>;
  };
}
const dns2 = createRequire(import.meta.url)('dns2') as Dns2;

export interface TestDns {
  server: string;
  close(): Promise<void>;
}

/** Splits a long TXT value into 255-byte character-strings (RFC 1035 3.3.14). */
function chunks(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}

export async function startDns(txt: Record<string, string>): Promise<TestDns> {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      const value = q && q.type === Packet.TYPE.TXT ? txt[q.name.toLowerCase()] : undefined;
      if (q && value !== undefined) {
        response.answers.push({ name: q.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: chunks(value) });
      } else {
        response.header.rcode = 3; // NXDOMAIN
      }
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
  const port = addresses.udp.port;
  return {
    server: `127.0.0.1:${port}`,
    close: async () => {
      await server.close();
    },
  };
}
