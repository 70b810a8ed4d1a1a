// The one place that talks HTTP to /api/ (the contract is src/http/api/types.ts).
// Every mutating request carries the session's CSRF token; failures become ApiFailure
// with the server's error code so that views can say what went wrong.
import type { ApiError, ApiErrorCode, SieveErrorResponse, Upload } from '../../src/http/api/types.js';

let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | 'network',
    message: string,
    /** For invalid-script: where the Sieve compiler stopped, and the text it read. */
    readonly position: { line: number; column: number; script: string } | null = null,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/** Called when any request answers 401: the session is gone. */
let onUnauthenticated: () => void = () => undefined;
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  const qs = params.toString();
  if (!qs) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

async function failureFrom(res: Response): Promise<ApiFailure> {
  let code: ApiErrorCode = 'internal';
  let message = `The server answered ${res.status}.`;
  let position: ApiFailure['position'] = null;
  try {
    const body = (await res.json()) as Partial<SieveErrorResponse>;
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string') message = body.message;
    if (typeof body.line === 'number' && typeof body.column === 'number') position = { line: body.line, column: body.column, script: body.script ?? '' };
  } catch {
    // not JSON: keep the generic text
  }
  return new ApiFailure(res.status, code, message, position);
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiFailure(0, 'network', 'The server cannot be reached. Check the connection and try again.');
  }
  if (!res.ok) {
    const failure = await failureFrom(res);
    if (res.status === 401 && path !== '/api/session') onUnauthenticated();
    throw failure;
  }
  return (await res.json()) as T;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiFailure) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** Uploads one file as raw bytes, reporting progress (fetch cannot report upload progress). */
export function uploadFile(file: File, onProgress: (sent: number, total: number) => void): { promise: Promise<Upload>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<Upload>((resolve, reject) => {
    xhr.open('POST', withQuery('/api/uploads', { filename: file.name }));
    xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        parsed = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(parsed as Upload);
      else {
        const e = (parsed ?? {}) as Partial<ApiError>;
        reject(new ApiFailure(xhr.status, e.error ?? 'internal', e.message ?? `The upload failed (${xhr.status}).`));
      }
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'network', 'The upload was interrupted.'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB`;
}

const sameDay = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const sameYear = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const otherYear = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export function formatListDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return sameDay.format(d);
  if (d.getFullYear() === now.getFullYear()) return sameYear.format(d);
  return otherYear.format(d);
}

export function formatFullDate(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : full.format(d);
}

/** While a panel is open; afterwards focus goes back to where it was (keyboard users keep their place). */
export function rememberFocus(): () => void {
  const before = document.activeElement;
  return () => {
    if (before instanceof HTMLElement && before.isConnected) before.focus();
  };
}
