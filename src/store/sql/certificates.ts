// ACME account keys, issued certificates and HTTP-01 challenge tokens (migration 0009).
// Shared by every node: one node obtains a certificate, all serve it; any node answers
// the CA's validation request.

import type { Kysely, Selectable } from 'kysely';
import type { Database, TlsCertificatesTable } from './schema.js';
import type { Tx } from './write-batch.js';
import type { AcmeAccount, StoredCertificate } from '../types.js';

function toStoredCertificate(r: Selectable<TlsCertificatesTable>): StoredCertificate {
  return {
    name: r.name,
    certPem: r.cert_pem,
    keyPem: r.key_pem,
    notAfter: r.not_after === null ? null : new Date(Number(r.not_after)),
    updatedAt: new Date(Number(r.updated_at)),
    failures: Number(r.failures),
    nextAttemptAt: r.next_attempt_at === null ? null : new Date(Number(r.next_attempt_at)),
    lastError: r.last_error,
  };
}

export async function getAcmeAccount(db: Kysely<Database>, directoryUrl: string): Promise<AcmeAccount | undefined> {
  const r = await db.selectFrom('acme_accounts').selectAll().where('directory_url', '=', directoryUrl).executeTakeFirst();
  return r ? { directoryUrl: r.directory_url, keyPem: r.key_pem, accountUrl: r.account_url } : undefined;
}

/** Stores the account unless one exists for the directory (then only its URL is updated, for the same key); returns the stored one. */
export async function saveAcmeAccount(tx: Tx, a: AcmeAccount): Promise<AcmeAccount> {
  await tx
    .insertInto('acme_accounts')
    .values({ directory_url: a.directoryUrl, key_pem: a.keyPem, account_url: a.accountUrl, created_at: Date.now() })
    .onConflict((oc) => oc.column('directory_url').doNothing())
    .execute();
  if (a.accountUrl !== null) {
    await tx
      .updateTable('acme_accounts')
      .set({ account_url: a.accountUrl })
      .where('directory_url', '=', a.directoryUrl)
      .where('key_pem', '=', a.keyPem)
      .execute();
  }
  const r = await tx.selectFrom('acme_accounts').selectAll().where('directory_url', '=', a.directoryUrl).executeTakeFirstOrThrow();
  return { directoryUrl: r.directory_url, keyPem: r.key_pem, accountUrl: r.account_url };
}

export async function listTlsCertificates(db: Kysely<Database>): Promise<StoredCertificate[]> {
  return (await db.selectFrom('tls_certificates').selectAll().orderBy('name').execute()).map(toStoredCertificate);
}

export async function getTlsCertificate(db: Kysely<Database>, name: string): Promise<StoredCertificate | undefined> {
  const r = await db.selectFrom('tls_certificates').selectAll().where('name', '=', name).executeTakeFirst();
  return r ? toStoredCertificate(r) : undefined;
}

/** A newly issued certificate: replaces the previous one and clears the failure state. */
export async function saveTlsCertificate(tx: Tx, name: string, certPem: string, keyPem: string, notAfter: Date): Promise<void> {
  const now = Date.now();
  const values = { cert_pem: certPem, key_pem: keyPem, not_after: notAfter.getTime(), updated_at: now, failures: 0, next_attempt_at: null, last_error: null };
  await tx
    .insertInto('tls_certificates')
    .values({ name, ...values })
    .onConflict((oc) => oc.column('name').doUpdateSet(values))
    .execute();
}

/** A failed attempt: counts it and records when the next may run. */
export async function recordTlsCertificateFailure(tx: Tx, name: string, error: string, nextAttemptAt: Date): Promise<StoredCertificate> {
  const now = Date.now();
  await tx
    .insertInto('tls_certificates')
    .values({ name, cert_pem: null, key_pem: null, not_after: null, updated_at: now, failures: 1, next_attempt_at: nextAttemptAt.getTime(), last_error: error })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet((eb) => ({
        failures: eb('tls_certificates.failures', '+', 1),
        next_attempt_at: nextAttemptAt.getTime(),
        last_error: error,
      })),
    )
    .execute();
  const r = await tx.selectFrom('tls_certificates').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
  return toStoredCertificate(r);
}

export async function putAcmeChallenge(tx: Tx, token: string, keyAuthorization: string, name: string, expiresAt: Date): Promise<void> {
  // Expired tokens of abandoned attempts go with the next write.
  await tx.deleteFrom('acme_challenges').where('expires_at', '<', Date.now()).execute();
  const values = { key_authorization: keyAuthorization, name, expires_at: expiresAt.getTime() };
  await tx
    .insertInto('acme_challenges')
    .values({ token, ...values })
    .onConflict((oc) => oc.column('token').doUpdateSet(values))
    .execute();
}

/** The key authorization for an unexpired token (RFC 8555 8.3). */
export async function getAcmeChallenge(db: Kysely<Database>, token: string): Promise<string | undefined> {
  const r = await db
    .selectFrom('acme_challenges')
    .select('key_authorization')
    .where('token', '=', token)
    .where('expires_at', '>=', Date.now())
    .executeTakeFirst();
  return r?.key_authorization;
}

export async function deleteAcmeChallenge(tx: Tx, token: string): Promise<void> {
  await tx.deleteFrom('acme_challenges').where('token', '=', token).execute();
}
