// A real DNS server on loopback (dns2, UDP, port 0) answering MX, TXT, SRV and CNAME
// queries from a zone table; anything else is NXDOMAIN. The server under test reaches it
// through [dns] servers.

import { createRequire } from 'node:module';

interface DnsPacket {
  questions: Array<{ name: string; type: number }>;
  answers: object[];
  header: { rcode: number };
}
interface Dns2 {
  Packet: { TYPE: Record<'MX' | 'TXT' | 'SRV' | 'CNAME', number>; CLASS: { IN: number }; createResponseFromRequest(r: DnsPacket): DnsPacket };
  createServer(o: { udp: boolean; handle(req: DnsPacket, send: (r: DnsPacket) => void): void }): {
    listen(o: object): Promise<{ udp: { port: number } }>;
    close(): Promise<unknown>;
  };
}
const dns2 = createRequire(import.meta.url)('dns2') as Dns2;

export type ZoneRecord =
  | { type: 'MX'; name: string; priority: number; exchange: string }
  | { type: 'TXT'; name: string; text: string }
  | { type: 'SRV'; name: string; priority: number; weight: number; port: number; target: string }
  | { type: 'CNAME'; name: string; target: string };

export interface ZoneDns {
  server: string;
  close(): Promise<void>;
}

export async function startZoneDns(zone: ZoneRecord[]): Promise<ZoneDns> {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      const matches = q ? zone.filter((r) => r.name.toLowerCase() === q.name.toLowerCase() && Packet.TYPE[r.type] === q.type) : [];
      for (const r of matches) {
        const base = { name: r.name, type: Packet.TYPE[r.type], class: Packet.CLASS.IN, ttl: 60 };
        if (r.type === 'MX') response.answers.push({ ...base, priority: r.priority, exchange: r.exchange });
        else if (r.type === 'TXT') response.answers.push({ ...base, data: r.text.match(/.{1,255}/g) ?? [''] });
        else if (r.type === 'SRV') response.answers.push({ ...base, priority: r.priority, weight: r.weight, port: r.port, target: r.target });
        else response.answers.push({ ...base, domain: r.target });
      }
      if (matches.length === 0) response.header.rcode = 3;
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
  return {
    server: `127.0.0.1:${addresses.udp.port}`,
    close: async () => {
      await server.close();
    },
  };
}
