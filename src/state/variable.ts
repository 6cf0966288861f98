/**
 * The Mesos-style facade (`State::fetch/store/expunge`): a named variable
 * whose `set` succeeds only if nobody changed it since it was read. Unlike
 * Mesos, a changed variable (`null`, `false`) is never confused with a lost
 * writer or no quorum: those are errors.
 */
import type { StateStore } from './store.js';

export class Variable {
  /** @internal Made by StateStore.variable(). */
  constructor(
    private readonly store: StateStore,
    readonly name: string,
    /** The value (empty for a variable that does not exist). */
    readonly value: Uint8Array,
    /** The revision that last wrote it; 0 if it does not exist. */
    readonly revision: number,
  ) {}

  /** Stores `value` if the variable is unchanged since this copy was read: the new copy, or null if it changed. */
  async set(value: Uint8Array | string): Promise<Variable | null> {
    const r = await this.store.put(this.name, value, { ifModRevision: this.revision });
    if (!r.ok) return null;
    return new Variable(this.store, this.name, typeof value === 'string' ? Buffer.from(value, 'utf8') : value, r.revision);
  }

  /** Deletes the variable if it is unchanged since this copy was read and exists: whether it did. */
  async expunge(): Promise<boolean> {
    if (this.revision === 0) return false;
    const r = await this.store.delete(this.name, { ifModRevision: this.revision });
    return r.ok && r.deleted;
  }
}
