/**
 * The storage contract between the core and every store (in-memory, segmented
 * files, the simulator's faulty disk).
 *
 * The core only reads a store, synchronously, through StoreView. It never
 * writes: it returns PersistRecords, and the shell applies them with
 * ReplicaStore.append, which updates the in-memory view at once and queues
 * the records for durability. Messages that the core returned in the same step
 * are sent only after sync() reports those records durable. So a reply never
 * promises something that a crash could take back.
 */
import type { Action, Metadata, PersistRecord, Position, Proposal, SlotMeta } from './types.js';

export interface StoreView {
  metadata(): Metadata;
  /** The first position that is not truncated. */
  begin(): Position;
  /** The highest position holding any record; -1 if none. */
  end(): Position;
  /** Every position <= learnedThrough() is learned or truncated; -1 if none. */
  learnedThrough(): Position;
  /** The highest proposal promised or accepted here, at any position (see PositionIndex.highestProposal). */
  highestProposal(): Proposal;
  /** The acceptor state of a position, or undefined for a hole or a truncated position. */
  slot(position: Position): SlotMeta | undefined;
  /**
   * The action of a position that has one. Reads the bytes synchronously.
   * Returns 'lost' when the stored record is corrupted (never served, to be repaired).
   */
  action(position: Position): Action | 'lost' | undefined;
  /**
   * Optional: action() for many positions at once (ascending positions that
   * have a slot), in the same order. A store on files reads neighbouring
   * records with a few large reads instead of one per position (a catch-up
   * serves thousands of positions per request); each record is still checked.
   */
  readActions?(positions: readonly Position[]): (Action | 'lost' | undefined)[];
  /** Positions in [from, to] that have a slot, ascending. */
  positions(from: Position, to: Position): Iterable<Position>;
  /** Optional: accepted TRUNCATE actions not learned yet (ReadReply.pendingTruncate). */
  pendingTruncates?(): readonly { readonly position: Position; readonly to: Position }[];
  /** Optional: positions of config entries not chained yet (accepted and not learned, or learned and held back above the stored chain's head), ascending (R5: replies report the pending entry). */
  pendingConfigs?(): readonly Position[];
  /** Positions whose records are known to be corrupted. */
  lostPositions(): readonly Position[];
}

export interface ReplicaStore extends StoreView {
  /**
   * Applies records in order to the in-memory state and queues them for
   * durability. Returns a sequence number; sync() resolves once every record
   * up to it is durable. An I/O failure of an earlier sync makes append throw.
   */
  append(records: readonly PersistRecord[]): number;
  /** Makes every appended record durable (one fdatasync for many records); resolves to the durable sequence number. */
  sync(): Promise<number>;
  /** The sequence number of the last durable record. */
  durableSeq(): number;
  close(): Promise<void>;
}
