// The admin API's response shapes, shared by the server (src/http/admin/) and the
// console (admin-ui/). Types only, with no imports but other type-only modules, so that
// the console's build can read them.

import type { ForwardingSettings } from '../api/types.js';
import type { QueueState } from '../../store/types.js';

export interface DashboardData {
  generatedAt: string;
  components: Array<{ id: string; name: string; status: string; lastLatencyMs: number | null; recentLatenciesMs: Array<number | null> }> | null;
  overall: string | null;
  /** 24 entries, oldest first; hours without traffic are zeros. */
  traffic: Array<{ hour: string; received: number; deliveredLocal: number; transmitted: number; failed: number }>;
  queue: { queued: number; failed: number; oldestAgeSeconds: number };
  disk: { path: string; freeBytes: number; totalBytes: number } | null;
  store: { driver: string; domains: number; accounts: number; messages: number; messageBytes: number; databaseBytes: number | null };
  connections: Array<{ protocol: string; open: number }>;
  errors: Array<{ at: string; source: string; message: string }>;
}

export interface AccountInfo {
  address: string;
  quotaBytes: number;
  usedBytes: number;
  disabled: boolean;
  createdAt: string;
}

export interface ImportRowResult {
  line: number;
  address: string;
  status: 'created' | 'invalid' | 'failed' | 'not-created';
  error?: string;
}

export interface AdminSessionInfo {
  kind: 'admin' | 'token';
  name: string;
  csrfToken: string | null;
  expiresAt: string | null;
}

export interface DomainInfo {
  name: string;
  createdAt: string;
  accounts: number;
  aliases: number;
  dkim: boolean;
}

export interface ForwardingInfo {
  forwarding: ForwardingSettings;
  /** The webmail script is the active one (otherwise it does not run). */
  active: boolean;
  /** Another client's script is active. */
  otherActive: string | null;
  /** The script was edited by hand: the console does not overwrite it. */
  modifiedElsewhere: boolean;
}

export interface QueueEntryInfo {
  id: number;
  state: QueueState;
  mailFrom: string;
  domain: string;
  recipients: string[];
  size: number;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface LiveSessionInfo {
  sessionId: string;
  protocol: string;
  account: string | null;
  clientIp: string;
  clientId: string | null;
  tls: string | null;
  startedAt: string;
  node: string;
  killRequested: boolean;
}

export interface HistoryInfo {
  sessionId: string;
  protocol: string;
  clientIp: string;
  clientId: string | null;
  tls: string | null;
  login: string;
  startedAt: string;
  endedAt: string;
  endReason: string;
  commands: number;
  bytesIn: number;
  bytesOut: number;
  traced: boolean;
  node: string;
}

export interface TraceInfo {
  account: string;
  trace: { until: string; bodies: boolean; bytes: number; createdAt: string } | null;
  active: boolean;
  lines: Array<{ sessionId: string; protocol: string; at: string; direction: string; line: string }>;
}
