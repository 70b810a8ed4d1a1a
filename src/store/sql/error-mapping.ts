// Wraps a Kysely dialect so that "the database cannot do this right now"
// errors (connection lost, server shutting down, disk full, I/O error) surface
// as StoreUnavailable, which every protocol turns into its temporary-failure
// reply (451 4.3.0, -ERR [SYS/TEMP], NO [UNAVAILABLE]). Constraint violations
// and other programming errors pass through unchanged.

import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { StoreUnavailable } from '../errors.js';
import { isTransient } from './write-batch.js';

const UNAVAILABLE_CODES = new Set([
  // Node socket errors (PostgreSQL unreachable)
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  // SQLite
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_CORRUPT',
  'SQLITE_NOTADB',
]);

export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR')) return true;
    // PostgreSQL classes 08 (connection), 53 (resources: disk full, out of memory), 57 (operator intervention).
    if (/^(08|53|57)[0-9A-Z]{3}$/.test(code)) return true;
  }
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}

function mapError(err: unknown): unknown {
  if (err instanceof StoreUnavailable || isTransient(err)) return err;
  if (isUnavailable(err)) {
    return new StoreUnavailable(`the database is unavailable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return err;
}

class MappedConnection implements DatabaseConnection {
  constructor(private readonly inner: DatabaseConnection) {}
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(query);
    } catch (err) {
      throw mapError(err);
    }
  }
  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

class MappedDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, MappedConnection>();
  constructor(private readonly inner: Driver) {}
  async init(): Promise<void> {
    try {
      await this.inner.init();
    } catch (err) {
      throw mapError(err);
    }
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    let conn: DatabaseConnection;
    try {
      conn = await this.inner.acquireConnection();
    } catch (err) {
      throw mapError(err);
    }
    let mapped = this.wrapped.get(conn);
    if (!mapped) {
      mapped = new MappedConnection(conn);
      this.wrapped.set(conn, mapped);
    }
    return mapped;
  }
  private unwrap(conn: DatabaseConnection): DatabaseConnection {
    return conn instanceof MappedConnection ? (conn as unknown as { inner: DatabaseConnection }).inner : conn;
  }
  beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(this.unwrap(conn), settings);
  }
  commitTransaction(conn: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(this.unwrap(conn));
  }
  rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(this.unwrap(conn));
  }
  releaseConnection(conn: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.unwrap(conn));
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

export function withErrorMapping(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new MappedDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
