// Live updates from GET /api/events (server-sent events fed by the store's ChangeBus).
// Events say what changed, not the new state: the folder list and the shown list are
// re-read, bursts coalesced (a 1,000-message move is one refresh, not 1,000).
import { useEffect, useRef } from 'react';
import type { ServerEvent } from '../../src/http/api/types.js';
import { api, ApiFailure } from './api.js';

const FOLDERS_DELAY_MS = 250;
const LIST_DELAY_MS = 150;
const RECONNECT_MS = 5000;

/**
 * Calls refreshFolders after any change, and refreshList with the changed folder's id
 * (null: anything may have changed, after a reconnect).
 */
export function useLiveUpdates(refreshFolders: () => Promise<void> | void, refreshList: (folderId: string | null) => void): void {
  const folders = useRef(refreshFolders);
  folders.current = refreshFolders;
  const list = useRef(refreshList);
  list.current = refreshList;

  useEffect(() => {
    let folderTimer: ReturnType<typeof setTimeout> | undefined;
    let listTimer: ReturnType<typeof setTimeout> | undefined;
    let changed = new Set<string | null>();
    const scheduleFolders = () => {
      clearTimeout(folderTimer);
      folderTimer = setTimeout(() => void folders.current(), FOLDERS_DELAY_MS);
    };
    const scheduleList = (folderId: string | null) => {
      changed.add(folderId);
      clearTimeout(listTimer);
      listTimer = setTimeout(() => {
        const ids = changed;
        changed = new Set();
        if (ids.has(null)) list.current(null);
        else for (const id of ids) list.current(id);
      }, LIST_DELAY_MS);
    };
    const handle = (e: MessageEvent<string>) => {
      let event: ServerEvent;
      try {
        event = JSON.parse(e.data) as ServerEvent;
      } catch {
        return;
      }
      scheduleFolders();
      // (Re)connected: anything may have changed while the stream was down.
      if (event.type === 'ready') scheduleList(null);
      else if (event.type === 'folder') scheduleList(event.folderId);
    };

    // EventSource retries a dropped stream by itself, but gives up on an error status
    // (the server restarting behind a proxy, the session gone): then check the session
    // (a 401 returns to sign-in) and reconnect after a pause.
    let events: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const connect = () => {
      events = new EventSource('/api/events');
      for (const type of ['ready', 'folder', 'folders']) events.addEventListener(type, handle);
      events.onmessage = handle;
      events.onerror = () => {
        if (events?.readyState === EventSource.CLOSED && !stopped) recover();
      };
    };
    const recover = () => {
      retry = setTimeout(() => {
        api('GET', '/api/session').then(
          () => !stopped && connect(),
          (err: unknown) => {
            // Signed out: the 401 handler has taken over. Unreachable: try again later.
            if (!(err instanceof ApiFailure && err.status === 401) && !stopped) recover();
          },
        );
      }, RECONNECT_MS);
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(folderTimer);
      clearTimeout(listTimer);
      clearTimeout(retry);
      events?.close();
    };
  }, []);
}
