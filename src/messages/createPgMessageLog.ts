import type { TimedDb } from '../store/TimedDb.js';
import { createPgAdminLog } from './adminReads.js';
import { createPgEventStore, type EventStore } from './EventStore.js';
import { createPgChatReader, createPgRoomReader } from './historyReads.js';
import { createPgWriter, type GroupOptions } from './writes.js';
import { createPgMaintenance } from './maintenance.js';
import type { EventSink, MessageLog } from './MessageLog.js';

/**
 * The message log on Postgres. `events` is the event store the hub was built with (the hub is the
 * sink, so the store comes first: createPgEventStore(db) → EventHub → createPgMessageLog).
 */
export function createPgMessageLog(deps: {
  db: TimedDb;
  events: EventStore;
  sink: EventSink;
  group?: GroupOptions;
}): MessageLog {
  const { db } = deps;
  return {
    events: deps.events,
    ...createPgWriter(db, deps.sink, undefined, deps.group),
    ...createPgChatReader(db),
    ...createPgRoomReader(db),
    ...createPgAdminLog(db),
    ...createPgMaintenance(db),
  };
}

export { createPgEventStore };
