/**
 * The delta checker of one acceptor: what may change between two states of
 * one running replica (one process lifetime on one disk). Core tests and the
 * simulator run it around every step that applies records; a violation is a
 * programmer error, thrown as an AssertionError naming the rule.
 *
 * Within one disk (the same incarnation, generation and disk number):
 * - the implicit promise and the highest proposal never decrease;
 * - the learned prefix and the beginning never move backwards;
 * - the disk recorded for each other member never goes back to an older one;
 * - a learned position keeps its action (a record may repair its bytes, never change them).
 * A new disk identity (a rejoin, damaged metadata) starts a new baseline: a
 * disk that lost its memory is a new acceptor (docs/protocol.md). A crash is
 * not a step: records that were never durable may be gone after a restart, so
 * the checker is rebuilt from the replayed store.
 */
import { actionsEqual, describeAction } from './actions.js';
import { assert } from './assert.js';
import type { StoreView } from './store.js';
import type { Action, DiskId, PersistRecord, Position, Proposal } from './types.js';

interface AcceptorState {
  readonly disk: string;
  readonly promised: Proposal;
  readonly highest: Proposal;
  readonly learnedThrough: Position;
  readonly begin: Position;
  readonly recorded: Readonly<Record<number, DiskId>>;
}

function stateOf(store: StoreView): AcceptorState {
  const m = store.metadata();
  return {
    disk: `${m.incarnation}/${m.generation ?? 0}/${m.disk ?? 0}`,
    promised: m.promised,
    highest: store.highestProposal(),
    learnedThrough: store.learnedThrough(),
    begin: store.begin(),
    recorded: m.recorded ?? {},
  };
}

/** Positions a record may change the action of. */
function touched(r: PersistRecord): Position[] {
  return r.type === 'accept' || r.type === 'learn' ? [r.position] : [];
}

export class AcceptorInvariants {
  private state: AcceptorState;
  private learnedBefore = new Map<Position, Action>();

  constructor(
    private readonly store: StoreView,
    private readonly who = 'replica',
  ) {
    this.state = stateOf(store);
  }

  /** Call with the records of a step before they are applied: remembers the learned actions they touch. */
  beforeApply(records: readonly PersistRecord[]): void {
    this.learnedBefore.clear();
    for (const r of records) {
      for (const p of touched(r)) {
        if (p < this.store.begin() || this.learnedBefore.has(p) || !this.store.slot(p)?.learned) continue;
        const a = this.store.action(p);
        if (a !== undefined && a !== 'lost') this.learnedBefore.set(p, a);
      }
    }
  }

  /** Call once the step's records are applied: checks every rule against the state before. */
  afterApply(): void {
    const before = this.state;
    const now = stateOf(this.store);
    this.state = now;
    for (const [p, a] of this.learnedBefore) {
      // Below a new beginning the position is gone, which is no change of value.
      if (p < now.begin) continue;
      const b = this.store.action(p);
      if (b === 'lost') continue;
      assert(b !== undefined && actionsEqual(a, b), `${this.who}: learned ${describeAction(a)} at ${p} became ${b === undefined ? 'nothing' : describeAction(b)}`);
    }
    this.learnedBefore.clear();
    if (now.disk !== before.disk) return;
    assert(now.promised >= before.promised, `${this.who}: promise went back from ${before.promised} to ${now.promised}`);
    assert(now.highest >= before.highest, `${this.who}: highest proposal went back from ${before.highest} to ${now.highest}`);
    assert(now.learnedThrough >= before.learnedThrough, `${this.who}: learned prefix went back from ${before.learnedThrough} to ${now.learnedThrough}`);
    assert(now.begin >= before.begin, `${this.who}: beginning went back from ${before.begin} to ${now.begin}`);
    for (const [id, d] of Object.entries(before.recorded)) {
      const n = now.recorded[Number(id)];
      assert(n !== undefined && n.generation >= d.generation, `${this.who}: the disk recorded for member ${id} went back from generation ${d.generation} to ${n?.generation ?? 'none'}`);
    }
  }

  /** Runs `apply(records)` between the two checks. */
  around(records: readonly PersistRecord[], apply: () => void): void {
    this.beforeApply(records);
    apply();
    this.afterApply();
  }
}

/**
 * The delta checker of a shell whose store object is replaced by a crash, a
 * wipe or a restored backup (the simulator, the exhaustive search, the
 * scenario files): a store it has not seen, or a `reset()` (a new process on
 * the same disk), starts a new baseline from the state before the next step.
 */
export class StepInvariants {
  private store: StoreView | undefined;
  private check: AcceptorInvariants | undefined;

  constructor(private readonly who: string) {}

  /** A new process: what the disk holds now is the new baseline (a crash is not a step). */
  reset(): void {
    this.store = undefined;
    this.check = undefined;
  }

  /** Runs `apply(records)` on `store` between the two checks. */
  around(store: StoreView, records: readonly PersistRecord[], apply: () => void): void {
    // Only records change an acceptor's state: a step that writes none has nothing to check.
    if (records.length === 0) return apply();
    if (this.check === undefined || this.store !== store) {
      this.store = store;
      this.check = new AcceptorInvariants(store, this.who);
    }
    this.check.around(records, apply);
  }
}
