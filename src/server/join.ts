/**
 * `replog replica --join ADDRS` (docs/reconfiguration.md, R9e and R11): a
 * replica with no data directory yet learns the cluster's id and its
 * configuration chain from the seeds, over the replica port's `config`
 * request (a client's question: the joiner has no authority yet). It never
 * starts a cluster of its own: it waits until its id is in the
 * configuration (added as a learner by `replog member add`), then starts
 * EMPTY with that chain stored, and the recovery protocol makes it a new disk
 * of its member and catches it up (the existing autorecovery).
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../core/errors.js';
import { roleIn, type PlacedConfiguration } from '../core/membership.js';
import type { ConfigReply, ReplicaId } from '../core/types.js';
import type { Logger } from '../net/logger.js';
import { parseAddress, type HostPort } from '../net/address.js';
import { PeerLink } from '../net/peer-link.js';
import type { TlsCredentials } from '../net/tls.js';

/** What the seeds told: the newest configuration reply among them. */
export interface Learned {
  readonly clusterId: string;
  readonly chain: readonly PlacedConfiguration[];
}

/** Asks every seed for its configuration at once; the newest chain among the answers within `timeoutMs` (undefined if none answered). */
export async function askSeeds(seeds: readonly string[], tls: TlsCredentials | undefined, log: Logger, timeoutMs = 2_000): Promise<Learned | undefined> {
  const replies = await Promise.all(seeds.map((address) => askOne(address, tls, log, timeoutMs)));
  let best: Learned | undefined;
  for (const r of replies) {
    if (r === undefined || r.clusterId === undefined || r.chain === undefined || r.chain.length === 0) continue;
    const head = r.chain[r.chain.length - 1]!;
    if (best !== undefined && best.clusterId !== r.clusterId) {
      throw new InvalidArgumentError(`the --join addresses belong to two clusters (${best.clusterId} and ${r.clusterId})`);
    }
    if (best === undefined || head.epoch > best.chain[best.chain.length - 1]!.epoch) best = { clusterId: r.clusterId, chain: r.chain };
  }
  return best;
}

function askOne(address: string, tls: TlsCredentials | undefined, log: Logger, timeoutMs: number): Promise<ConfigReply | undefined> {
  return new Promise((resolve) => {
    let link: PeerLink | undefined = undefined;
    const finish = (r: ConfigReply | undefined): void => {
      clearTimeout(timer);
      void link?.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    link = new PeerLink({
      address,
      clusterId: '',
      tls,
      log,
      onRefused: () => finish(undefined),
      onConnect: () => link!.send({ type: 'config', rid: 1 }),
      onMessage: (msg) => {
        if (msg.type === 'configReply') finish(msg);
      },
    });
  });
}

/**
 * Waits until `id` is a member (voter or learner) of the configuration the
 * seeds report, asking again every `everyMs`. Throws if the id was used and
 * removed (ids are never reused, R7) or the seeds never answer within
 * `deadlineMs` (Infinity: wait for ever, as a process supervised by an
 * operator who adds it later).
 */
export async function waitUntilAdded(
  seeds: readonly string[],
  id: ReplicaId,
  opts: { tls?: TlsCredentials; log: Logger; everyMs?: number; deadlineMs?: number; listen?: HostPort },
): Promise<Learned> {
  // Deadlines on the monotonic clock: a wall-clock jump neither ends the wait early nor stretches it.
  const started = performance.now();
  let said = '';
  const say = (line: string): void => {
    if (line === said) return;
    said = line;
    opts.log.info({ seeds }, line);
  };
  for (;;) {
    const learned = await askSeeds(seeds, opts.tls, opts.log);
    if (learned !== undefined) {
      const head = learned.chain[learned.chain.length - 1]!;
      if (roleIn(head, id) !== undefined) {
        const listed = [...head.voters, ...head.learners].find((m) => m.id === id)!.address;
        const why = opts.listen === undefined ? undefined : notListedAt(listed, opts.listen);
        if (why !== undefined) {
          throw new InvalidArgumentError(
            `member ${id} is at ${listed} in cluster ${learned.clusterId}'s configuration (epoch ${head.epoch}), not at ${formatAddress(opts.listen!)} (${why}): start it with --listen ${listed}, or move the member first (replog member update ${id} HOST:PORT)`,
          );
        }
        return learned;
      }
      if (id < head.nextId && learned.chain.some((c) => roleIn(c, id) !== undefined)) {
        throw new InvalidArgumentError(`member ${id} was removed from cluster ${learned.clusterId} (epoch ${head.epoch}); ids are never reused: join with a new id (${head.nextId} or above)`);
      }
      say(`joining cluster ${learned.clusterId}: member ${id} is not in its configuration (epoch ${head.epoch}) yet; waiting until it is added (replog member add ${id} HOST:PORT)`);
    } else {
      say(`joining: no --join address answered yet (${seeds.join(', ')}); asking again`);
    }
    if (performance.now() - started > (opts.deadlineMs ?? Infinity)) {
      throw new InvalidArgumentError(`gave up joining: ${said}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 1_000));
  }
}

/**
 * Why a joiner listening at `listen` is not the member the configuration lists at `listed`, or undefined
 * (attack7-join-impostor: a second process started with a member's id and another --listen, a typo or a
 * copied unit file, would otherwise record itself as that member's newest disk). The ports must be the
 * same; the hosts too when both are IP addresses and the joiner does not listen on every interface (a
 * name in the configuration may resolve to the address the joiner listens on, which this cannot tell).
 */
export function notListedAt(listed: string, listen: HostPort): string | undefined {
  let at: HostPort;
  try {
    at = parseAddress(listed);
  } catch {
    return undefined;
  }
  if (listen.port !== 0 && at.port !== listen.port) return `port ${listen.port}, not ${at.port}`;
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  if (!wildcard && isIP(at.host) !== 0 && isIP(listen.host) !== 0 && at.host !== listen.host) return `host ${listen.host}, not ${at.host}`;
  return undefined;
}

function formatAddress(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
