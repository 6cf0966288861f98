/**
 * The interpreter: runs one command of a scenario file on a ScenarioCluster
 * and returns what it printed. docs/testing.md ("Scenario files") lists the
 * commands; `cluster` must come first.
 *
 * Message patterns name messages in flight: `from>to` or `from>to:type`, each
 * part a name where `*` matches anything (`w1>r2:promise`, `*>w5:writeReply`,
 * `r*>r*` between replicas). Commands that take patterns take several: a
 * message matching any of them matches.
 */
import { ALL_RULES_ON, type SafetyRules } from '../../src/core/rules.js';
import type { Action, Message } from '../../src/core/types.js';
import { describeEnvelope, replicaId, ScenarioCluster, type Envelope } from './cluster.js';
import type { Block } from './parse.js';
import { describeReplica } from './print.js';

const encoder = new TextEncoder();

export type Pattern = (e: Envelope) => boolean;

export function pattern(text: string): Pattern {
  const m = /^([\w*]+)>([\w*]+)(?::(\w+))?$/.exec(text);
  if (m === null) throw new Error(`not a message pattern: '${text}' (from>to or from>to:type)`);
  const [, from, to, type] = m;
  // `*` matches any run of characters: `r*` is any replica.
  const glob = (g: string) => new RegExp(`^${g.replace(/\*/g, '.*')}$`);
  const f = glob(from!);
  const t = glob(to!);
  return (e) => f.test(e.from) && t.test(e.to) && (type === undefined || e.msg.type === type);
}

/** Every word of the block that contains '>' is a pattern; a message matching any of them matches. */
function patterns(b: Block): Pattern {
  const ps = b.words.filter((x) => x.includes('>')).map(pattern);
  return ps.length === 0 ? () => true : (e) => ps.some((p) => p(e));
}

function replicaArg(b: Block): number {
  const id = replicaId(b.words[0] ?? '');
  if (id === undefined) throw new Error(`line ${b.line}: ${b.name} takes a replica (r1, r2, ...)`);
  return id;
}

function intArg(b: Block, key: string, dflt: number): number {
  const v = b.args.get(key);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`line ${b.line}: ${key}=${v} is not an integer`);
  return n;
}

/** A raw message in JSON; an append's data is written as a string. */
function parseMessage(json: string): Message {
  return JSON.parse(json, (key, value) => (key === 'data' && typeof value === 'string' ? encoder.encode(value) : value)) as Message;
}

export class Interpreter {
  private cluster: ScenarioCluster | undefined;

  get world(): ScenarioCluster {
    if (this.cluster === undefined) throw new Error('the first command must be `cluster`');
    return this.cluster;
  }

  /** Runs one command; returns its output lines. */
  run(b: Block): string[] {
    const out = this.dispatch(b);
    const c = this.cluster;
    if (c === undefined) return out;
    const lines = [...c.events, ...out];
    c.events = [];
    return lines;
  }

  private dispatch(b: Block): string[] {
    const w = b.name === 'cluster' ? undefined : this.world;
    switch (b.name) {
      case 'cluster': {
        const off = (b.args.get('off') ?? '').split(',').filter((s) => s !== '');
        const rules: Record<string, boolean> = { ...ALL_RULES_ON };
        for (const r of off) {
          if (!(r in rules)) throw new Error(`line ${b.line}: no safety rule '${r}'`);
          rules[r] = false;
        }
        this.cluster = new ScenarioCluster({
          replicas: intArg(b, 'replicas', 3),
          rules: rules as unknown as SafetyRules,
          gossip: b.args.get('gossip') === 'on',
          seed: intArg(b, 'seed', 1),
        });
        return this.log([]);
      }
      case 'writer': {
        const members = b.args.get('members')?.split(',').map(Number);
        w!.writer(b.words[0]!, intArg(b, 'floor', 0), members);
        return [];
      }
      case 'elect':
        w!.elect(b.words[0]!);
        return [];
      case 'append':
        w!.submit(b.words[0]!, b.words.slice(1).map((s): Action => ({ kind: 'append', data: encoder.encode(s) })));
        return [];
      case 'truncate':
        w!.submit(b.words[0]!, [{ kind: 'truncate', to: Number(b.words[1]) }]);
        return [];
      case 'read':
        w!.read(b.words[0]!, Number(b.words[1]), Number(b.words[2]));
        return [];
      case 'deliver':
        return this.deliver(b);
      case 'drop': {
        const p = patterns(b);
        const dropped = w!.inflight.filter(p);
        w!.inflight = w!.inflight.filter((e) => !p(e));
        return dropped.map((e) => `dropped ${describeEnvelope(e)}`);
      }
      case 'duplicate': {
        const copies = w!.inflight.filter(patterns(b));
        w!.inflight.push(...copies);
        return copies.map((e) => `duplicated ${describeEnvelope(e)}`);
      }
      case 'reverse':
        w!.inflight.reverse();
        return this.inflight();
      case 'lose':
        w!.loseIf = patterns(b);
        return [];
      case 'heal':
        w!.loseIf = undefined;
        return [];
      case 'inject': {
        const [route, ...json] = b.words;
        const [from, to] = route!.split('>');
        w!.inflight.push({ from: from!, to: to!, msg: parseMessage(json.join(' ')) });
        return [];
      }
      case 'crash':
        w!.crash(replicaArg(b));
        return [];
      case 'restart':
        w!.restart(replicaArg(b));
        return this.log([b.words[0]!]);
      case 'wipe':
        w!.wipe(replicaArg(b));
        return this.log([b.words[0]!]);
      case 'corrupt':
        return [w!.corruptTail(replicaArg(b), b.args.get('key') !== 'broken'), ...this.log([b.words[0]!])];
      case 'tick':
        w!.tick(intArg(b, 'ms', 100), b.words.length > 0 ? [...b.words] : undefined);
        return [];
      case 'stabilize':
        return this.stabilize(b);
      case 'log':
        return this.log(b.words);
      case 'inflight':
        return this.inflight();
      case 'chosen':
        return [...w!.chosen.entries()].sort(([a], [b]) => a - b).map(([p, c]) => `${p}=${c.key} (${c.how})`);
      default:
        throw new Error(`line ${b.line}: unknown command '${b.name}'`);
    }
  }

  /** `deliver [pattern] [all]`: the first matching message, or (all) every match, including those they cause. */
  private deliver(b: Block): string[] {
    const c = this.world;
    const p = patterns(b);
    const all = b.words.includes('all');
    let n = 0;
    for (;;) {
      const i = c.inflight.findIndex(p);
      if (i < 0) break;
      c.events.push(`deliver ${describeEnvelope(c.inflight[i]!)}`);
      c.deliver(i);
      if (!all) break;
      if (++n > 10_000) throw new Error(`line ${b.line}: deliver all does not end`);
    }
    if (n === 0 && !all && c.events.length === 0) throw new Error(`line ${b.line}: no message matches; in flight:\n${this.inflight().join('\n')}`);
    return [];
  }

  /**
   * `stabilize [ms=30000] [tick=50] [verbose]`: delivers everything in flight,
   * ticking every node when nothing is, until no client has work pending (or
   * `ms` passed). Prints only outcomes (results, status changes, notes,
   * violations), unless verbose; then the messages and records too.
   */
  private stabilize(b: Block): string[] {
    const c = this.world;
    const verbose = b.words.includes('verbose');
    c.showRecords = verbose;
    c.showSends = verbose;
    const start = c.now;
    const deadline = c.now + intArg(b, 'ms', 30_000);
    let delivered = 0;
    try {
      for (;;) {
        while (c.inflight.length > 0) {
          if (verbose) c.events.push(`deliver ${describeEnvelope(c.inflight[0]!)}`);
          c.deliver(0);
          if (++delivered > 1_000_000) throw new Error(`line ${b.line}: stabilize does not end`);
        }
        if (c.now >= deadline || c.idle()) break;
        c.tick(intArg(b, 'tick', 50));
      }
    } finally {
      c.showRecords = true;
      c.showSends = true;
    }
    return [`(${delivered} messages delivered, ${c.now - start} ms)`];
  }

  private log(names: readonly string[]): string[] {
    const c = this.world;
    const ids = names.length > 0 ? names.map((n) => replicaId(n)!) : c.members;
    return ids.map((id) => describeReplica(`r${id}`, c.replica(id).store, c.replica(id).up));
  }

  private inflight(): string[] {
    const c = this.world;
    return c.inflight.length === 0 ? ['(nothing in flight)'] : c.inflight.map((e) => `inflight ${describeEnvelope(e)}`);
  }
}
