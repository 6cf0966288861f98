/**
 * `replog check`: compares the replicas' copies of the chosen log
 * (divergence checks, docs/operations.md). It learns the members from the
 * replicas (a config request), asks each member over the replica port for
 * digests of its chosen values span by span (digest requests, docs/wire.md),
 * and bisects any span where they differ down to the first divergent
 * position. It compares only positions that every answering replica has
 * learned and none has truncated, and never changes anything.
 *
 * Exit status: 0 every replica compared agrees (a quorum or more of them
 * answered); 1 a divergence was found; 3 fewer than a quorum answered, or
 * the comparison could not finish (the data changed under it).
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { Message } from '../core/types.js';
import { PeerLink } from '../net/peer-link.js';
import { DIGEST_CODES, decodeDigestMessage, type DigestReply } from '../net/digest-codec.js';
import { compareSpan, type Divergence, type DigestSide } from '../server/divergence-compare.js';
import { DigestRequester, remoteSide } from '../server/digest-service.js';
import { EXIT, logAddresses, out } from './common.js';
import { cliCredentials } from './status.js';

export interface CheckOptions {
  log?: string;
  from?: number;
  to?: number;
  span?: number;
  json?: boolean;
  /** Per digest request (ms); tests lower it. */
  timeoutMs?: number;
}

interface Member {
  readonly id: number;
  readonly address: string;
}

/** A client link to one replica that speaks config and digest requests. */
class CheckLink {
  readonly link: PeerLink;
  readonly requester: DigestRequester;
  private configWaiters: ((members: Member[]) => void)[] = [];

  constructor(
    readonly address: string,
    id: number,
    timeoutMs: number,
  ) {
    this.requester = new DigestRequester(id, (frame) => this.link.sendFrame(frame), timeoutMs);
    const tls = cliCredentials();
    this.link = new PeerLink({
      address,
      clusterId: '',
      ...(tls === undefined ? {} : { tls }),
      extension: {
        codes: DIGEST_CODES,
        onFrame: (payload) => {
          const msg = decodeDigestMessage(payload);
          if (msg.type === 'digestReply') this.requester.onReply(msg);
        },
      },
      onMessage: (msg: Message) => {
        if (msg.type !== 'configReply') return;
        const waiters = this.configWaiters;
        this.configWaiters = [];
        for (const w of waiters) w(msg.members.map((m) => ({ id: m.id, address: m.address })));
      },
      onConnect: () => {
        if (this.configWaiters.length > 0) this.link.send({ type: 'config', rid: 1 });
      },
    });
  }

  /** The membership as this replica reports it. */
  members(): Promise<Member[]> {
    return new Promise((resolve) => {
      this.configWaiters.push(resolve);
      if (this.link.connected) this.link.send({ type: 'config', rid: 1 });
    });
  }

  close(): Promise<void> {
    this.requester.failAll('closing');
    return this.link.close();
  }
}

function timeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}

export interface CheckReport {
  result: 'ok' | 'mismatch' | 'incomplete' | 'no-quorum';
  /** The positions compared: [from, through). */
  from: number | null;
  through: number | null;
  span: number;
  replicas: { id: number; address: string; reachable: boolean; status: string | null; begin: number | null; learnedThrough: number | null }[];
  /** Each replica whose copy differs from the majority's, at its first divergent position. */
  divergences: { position: number; replica: number; reference: number; agreeing: number[] }[];
  /** Positions not compared: unreadable on some replica (a corrupted record being repaired). */
  skipped: number[];
  note: string | null;
}

/** Runs the comparison (the command prints its report). */
export async function runCheck(opts: CheckOptions): Promise<CheckReport> {
  const addresses = logAddresses(opts.log);
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const span = opts.span ?? 65_536;
  const links = new Map<string, CheckLink>();
  const linkFor = (address: string, id = 0) => {
    let l = links.get(address);
    if (l === undefined) {
      l = new CheckLink(address, id, timeoutMs);
      links.set(address, l);
    }
    return l;
  };
  try {
    // The members come from the replicas, never from the address list (interfaces.md).
    const first = await Promise.any(addresses.map(async (a) => (await timeout(linkFor(a).members(), Math.max(2_000, timeoutMs))) ?? Promise.reject(new Error('no answer'))))
      .catch(() => undefined);
    if (first === undefined) {
      return { result: 'no-quorum', from: null, through: null, span, replicas: [], divergences: [], skipped: [], note: `no replica answered at ${addresses.join(', ')}` };
    }
    const members = [...first].sort((a, b) => a.id - b.id);
    const sides = new Map<number, { member: Member; link: CheckLink; side: DigestSide }>();
    for (const m of members) {
      // A link opened with the member's id, so that its errors name it.
      let l = links.get(m.address);
      if (l !== undefined) await l.close();
      l = new CheckLink(m.address, m.id, timeoutMs);
      links.set(m.address, l);
      sides.set(m.id, { member: m, link: l, side: remoteSide(m.id, l.requester) });
    }
    const info = async (): Promise<Map<number, DigestReply | undefined>> =>
      new Map(await Promise.all([...sides].map(async ([id, s]) => [id, await timeout(s.link.requester.request(0, 0, 0), Math.min(timeoutMs, 3_000))] as const)));
    let infos = await info();
    const rows = () =>
      members.map((m) => {
        const r = infos.get(m.id);
        return { id: m.id, address: m.address, reachable: r !== undefined, status: r?.status ?? null, begin: r?.begin ?? null, learnedThrough: r?.learnedThrough ?? null };
      });
    const quorum = Math.floor(members.length / 2) + 1;
    const answering = () => members.filter((m) => infos.get(m.id) !== undefined);
    if (answering().length < Math.max(2, quorum)) {
      const n = answering().length;
      return { result: 'no-quorum', from: null, through: null, span, replicas: rows(), divergences: [], skipped: [], note: `only ${n} of ${members.length} replicas answered (${Math.max(2, quorum)} needed to compare)` };
    }
    const skipped: number[] = [];
    let restarts = 0;
    for (;;) {
      const live = answering();
      const replies = live.map((m) => infos.get(m.id)!);
      const start = Math.max(opts.from ?? 0, ...replies.map((r) => r.begin));
      const end = Math.min(opts.to === undefined ? Number.MAX_SAFE_INTEGER : opts.to + 1, ...replies.map((r) => r.learnedThrough + 1));
      const liveSides = live.map((m) => sides.get(m.id)!.side);
      let from = start;
      let stop: string | undefined;
      let divergences: readonly Divergence[] = [];
      while (from < end) {
        const to = Math.min(end, (Math.floor(from / span) + 1) * span);
        const o = await compareSpan(liveSides, from, to);
        skipped.push(...o.skipped);
        if (o.divergences.length > 0) {
          divergences = o.divergences;
          from = o.through;
          break;
        }
        if (o.stop !== undefined) {
          stop = o.stop;
          from = o.through;
          break;
        }
        from = o.through;
      }
      if (stop === 'begin' && restarts++ < 3) {
        // A truncation moved a beginning during the check: start again above it.
        infos = await info();
        continue;
      }
      const report: CheckReport = {
        result: divergences.length > 0 ? 'mismatch' : stop !== undefined ? 'incomplete' : 'ok',
        from: start,
        through: Math.max(start, from),
        span,
        replicas: rows(),
        divergences: divergences.map((d) => ({
          position: d.position,
          replica: d.side,
          reference: d.reference,
          // The reference group: every replica compared that no divergence names.
          agreeing: live.map((m) => m.id).filter((id) => !divergences.some((x) => x.side === id)),
        })),
        skipped,
        note:
          stop === undefined
            ? null
            : stop === 'unlearned'
              ? `a replica stopped answering for positions it had learned (it restarted or lost its disk?) at ${from}`
              : `the data changed during the check (a truncation or a repair) at ${from}: run it again`,
      };
      return report;
    }
  } finally {
    await Promise.all([...links.values()].map((l) => l.close()));
  }
}

/** The report as text: the verdict line first. */
export function reportText(r: CheckReport): string {
  const lines: string[] = [];
  const ids = (xs: readonly number[]) => xs.join(', ');
  const compared = r.replicas.filter((x) => x.reachable).map((x) => x.id);
  const range = r.from === null ? '' : r.through! > r.from ? `positions ${r.from} to ${r.through! - 1}` : 'no position learned by all of them yet';
  switch (r.result) {
    case 'ok':
      lines.push(`ok: replicas ${ids(compared)} agree on ${range}`);
      break;
    case 'mismatch':
      for (const d of r.divergences) {
        lines.push(`DIVERGENCE: replica ${d.replica} differs from replica${d.agreeing.length === 1 ? '' : 's'} ${ids(d.agreeing)} at position ${d.position} (its first divergent position)`);
      }
      lines.push(`compared ${range}; nothing was repaired: see docs/operations.md, "Divergence checks"`);
      break;
    case 'incomplete':
      lines.push(`incomplete: compared ${range}; ${r.note}`);
      break;
    case 'no-quorum':
      lines.push(`no quorum: ${r.note}`);
      break;
  }
  for (const x of r.replicas) if (!x.reachable) lines.push(`note: replica ${x.id} (${x.address}) did not answer: not compared`);
  if (r.skipped.length > 0) lines.push(`note: ${r.skipped.length} position(s) not compared, unreadable on a replica (being repaired): ${r.skipped.slice(0, 10).join(', ')}${r.skipped.length > 10 ? ', ...' : ''}`);
  return lines.join('\n') + '\n';
}

export async function checkCommand(opts: CheckOptions): Promise<void> {
  if (opts.from !== undefined && opts.to !== undefined && opts.to < opts.from) throw new InvalidArgumentError(`--to ${opts.to} is below --from ${opts.from}`);
  if (opts.span !== undefined && opts.span < 1) throw new InvalidArgumentError('--span must be at least 1');
  const report = await runCheck(opts);
  await out(opts.json ? JSON.stringify(report) + '\n' : reportText(report));
  process.exitCode = report.result === 'ok' ? EXIT.ok : report.result === 'mismatch' ? EXIT.failure : EXIT.noQuorum;
}
