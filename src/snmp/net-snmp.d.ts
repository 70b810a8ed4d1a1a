// The part of net-snmp (no bundled types) that the SNMP agent uses.
declare module 'net-snmp' {
  import type { Socket } from 'node:dgram';

  export const ObjectType: Record<'Integer' | 'OctetString' | 'OID' | 'Counter' | 'Gauge' | 'TimeTicks' | 'Counter64' | 'Unsigned32', number>;
  export const MibProviderType: { Scalar: number; Table: number };
  export const MaxAccess: Record<'not-accessible' | 'read-only', number>;
  export const SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  export const AuthProtocols: { sha: number };
  export const PrivProtocols: { aes: number };
  export const AccessControlModelType: { None: number; Simple: number };
  export const AccessLevel: { None: number; ReadOnly: number; ReadWrite: number };

  export interface ColumnDefinition {
    number: number;
    name: string;
    type: number;
    maxAccess: number;
    constraints?: { enumeration?: Record<number, string> };
  }
  export interface ProviderDefinition {
    name: string;
    type: number;
    oid: string;
    maxAccess: number;
    scalarType?: number;
    tableColumns?: ColumnDefinition[];
    tableIndex?: Array<{ columnName: string; foreign?: string }>;
    handler?: (request: { done(error?: { errorStatus: number }): void }) => void;
  }
  export type MibValue = number | string | bigint | Buffer;
  export interface Mib {
    registerProvider(definition: ProviderDefinition): void;
    setScalarValue(name: string, value: MibValue): void;
    addTableRow(table: string, row: MibValue[]): void;
    setTableSingleCell(table: string, column: number, rowIndex: MibValue[], value: MibValue): void;
    deleteTableRow(table: string, rowIndex: MibValue[]): boolean;
  }
  export interface SimpleAccessControlModel {
    setCommunityAccess(community: string, level: number): void;
    setUserAccess(user: string, level: number): void;
  }
  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: { name: string; level: number; authProtocol?: number; authKey?: string; privProtocol?: number; privKey?: string }): void;
    getAccessControlModel(): SimpleAccessControlModel;
  }
  export interface Agent {
    getMib(): Mib;
    getAuthorizer(): Authorizer;
    close(callback?: () => void): void;
  }
  export interface AgentOptions {
    port: number;
    address: string | null;
    transport: 'udp4' | 'udp6';
    disableAuthorization?: boolean;
    accessControlModelType?: number;
    engineID?: string;
    dgramModule?: { createSocket(type: 'udp4' | 'udp6'): Socket };
  }
  export function createAgent(options: AgentOptions, callback: (error: Error | null, data: unknown) => void): Agent;
  const snmp: {
    ObjectType: typeof ObjectType;
    MibProviderType: typeof MibProviderType;
    MaxAccess: typeof MaxAccess;
    SecurityLevel: typeof SecurityLevel;
    AuthProtocols: typeof AuthProtocols;
    PrivProtocols: typeof PrivProtocols;
    AccessControlModelType: typeof AccessControlModelType;
    AccessLevel: typeof AccessLevel;
    createAgent: typeof createAgent;
  };
  export default snmp;
}
