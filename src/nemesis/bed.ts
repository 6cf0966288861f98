/**
 * The test bed: each replica on a network host of its own (a Linux network
 * namespace with a veth pair to a bridge and its own address), the workload's
 * clients in another, and link faults made of real packet drops (nftables
 * rules inside the namespaces). The root namespace holds the bridge's own
 * address: the runner reaches every host from there (status, the final read),
 * and no fault ever cuts it.
 *
 * Without root, `ip netns`, or nft, the bed falls back to loopback: every host
 * is 127.0.0.1, process faults still work, and link faults cannot be made.
 * `mode` and `fallbackReason` say so; the runner prints it and the summary
 * leads with it, so a run never passes as if partitions had run.
 *
 * Every name carries a run tag (pid and random bits), so parallel runs do not
 * clash; destroy() removes everything the bed made, and is safe to call twice.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

/** A host of the bed: a replica id, or 'client'. */
export type Host = number | 'client';

/** Pairs of hosts that cannot exchange a packet (both directions). */
export type Cuts = readonly (readonly [Host, Host])[];

export interface Bed {
  readonly mode: 'netns' | 'loopback';
  /** Why the bed is on loopback (unset in netns mode). */
  readonly fallbackReason?: string;
  /** The address a host listens on or dials from. */
  address(host: Host): string;
  /** The command line that runs argv on `host` (inside its namespace). */
  command(host: Host, argv: readonly string[]): { file: string; args: string[] };
  /** Replaces every link fault by `cuts` (an empty list heals all). */
  cut(cuts: Cuts): void;
  /** The namespaces and links the bed made (for tests that check destroy() removed them). */
  readonly resources: readonly string[];
  destroy(): void;
}

const NFT_CANDIDATES = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'];

function run(file: string, args: readonly string[], input?: string): void {
  execFileSync(file, args, { stdio: ['pipe', 'ignore', 'pipe'], input: input ?? '' });
}

/** Whether this machine can make namespaces and nft rules; the reason if not. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'no `ip` command (Debian package iproute2)';
  if (NFT_CANDIDATES.every((p) => !existsSync(p))) return 'no `nft` command (Debian package nftables)';
  const probe = `rlprobe${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `\`ip netns add\` fails: ${(r.stderr || '').trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export function createBed(replicaIds: readonly number[], opts: { forceLoopback?: boolean } = {}): Bed {
  const why = opts.forceLoopback === true ? 'asked for (--loopback)' : netnsUnavailable();
  if (why !== undefined) return loopbackBed(why);
  return NetnsBed.create(replicaIds);
}

function loopbackBed(reason: string): Bed {
  return {
    mode: 'loopback',
    fallbackReason: reason,
    address: () => '127.0.0.1',
    command: (_host, argv) => ({ file: argv[0]!, args: argv.slice(1) }),
    cut: (cuts) => {
      if (cuts.length > 0) throw new Error(`link faults need network namespaces; this bed is on loopback: ${reason}`);
    },
    resources: [],
    destroy: () => undefined,
  };
}

class NetnsBed implements Bed {
  readonly mode = 'netns' as const;
  private destroyed = false;
  private readonly nft = NFT_CANDIDATES.find((p) => existsSync(p))!;

  private constructor(
    private readonly tag: string,
    private readonly subnet: string,
    private readonly hosts: ReadonlyMap<Host, number>,
  ) {}

  static create(replicaIds: readonly number[]): NetnsBed {
    const tag = `${(process.pid % 0xffff).toString(16)}${randomBytes(2).toString('hex')}`.slice(-6);
    const subnet = freeSubnet();
    const hosts = new Map<Host, number>();
    replicaIds.forEach((id, i) => hosts.set(id, i + 1));
    hosts.set('client', 200);
    const bed = new NetnsBed(tag, subnet, hosts);
    try {
      bed.build();
    } catch (err) {
      bed.destroy();
      throw err;
    }
    return bed;
  }

  private ns(host: Host): string {
    return `rl${this.tag}-${host === 'client' ? 'c' : `r${host}`}`;
  }

  get resources(): string[] {
    return [...[...this.hosts.keys()].map((h) => this.ns(h)), this.bridge];
  }

  private get bridge(): string {
    return `rl${this.tag}br`;
  }

  private build(): void {
    run('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${this.subnet}.254/24`, 'dev', this.bridge]);
    run('ip', ['link', 'set', this.bridge, 'up']);
    for (const [host, octet] of this.hosts) {
      const ns = this.ns(host);
      // veth names are at most 15 bytes: rl + 6 tag + 1 + 3 octet + h/n.
      const outer = `rl${this.tag}${octet}h`;
      const inner = `rl${this.tag}${octet}n`;
      run('ip', ['netns', 'add', ns]);
      run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      run('ip', ['link', 'set', inner, 'netns', ns]);
      run('ip', ['link', 'set', outer, 'master', this.bridge, 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${this.subnet}.${octet}/24`, 'dev', inner]);
      run('ip', ['-n', ns, 'link', 'set', inner, 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // One table per host; cut() rewrites its two chains.
      run('ip', ['netns', 'exec', ns, this.nft, '-f', '-'], [
        'add table inet nemesis',
        'add chain inet nemesis in { type filter hook input priority 0; policy accept; }',
        'add chain inet nemesis out { type filter hook output priority 0; policy accept; }',
        '',
      ].join('\n'));
    }
  }

  address(host: Host): string {
    const octet = this.hosts.get(host);
    if (octet === undefined) throw new Error(`no host ${host}`);
    return `${this.subnet}.${octet}`;
  }

  command(host: Host, argv: readonly string[]): { file: string; args: string[] } {
    return { file: 'ip', args: ['netns', 'exec', this.ns(host), ...argv] };
  }

  cut(cuts: Cuts): void {
    const peers = new Map<Host, Set<string>>();
    for (const [a, b] of cuts) {
      if (a === b) continue;
      if (!peers.has(a)) peers.set(a, new Set());
      if (!peers.has(b)) peers.set(b, new Set());
      peers.get(a)!.add(this.address(b));
      peers.get(b)!.add(this.address(a));
    }
    for (const host of this.hosts.keys()) {
      const lines = ['flush chain inet nemesis in', 'flush chain inet nemesis out'];
      const ps = [...(peers.get(host) ?? [])];
      if (ps.length > 0) {
        lines.push(`add rule inet nemesis in ip saddr { ${ps.join(', ')} } drop`);
        lines.push(`add rule inet nemesis out ip daddr { ${ps.join(', ')} } drop`);
      }
      run('ip', ['netns', 'exec', this.ns(host), this.nft, '-f', '-'], lines.join('\n') + '\n');
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    // Deleting a namespace deletes the veth inside it, and with it its peer on the bridge.
    for (const host of this.hosts.keys()) spawnSync('ip', ['netns', 'del', this.ns(host)]);
    spawnSync('ip', ['link', 'del', this.bridge]);
  }
}

/** A 10.x.y.0/24 that no interface of the root namespace uses yet. */
function freeSubnet(): string {
  const used = spawnSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }).stdout ?? '';
  for (;;) {
    const b = randomBytes(2);
    const s = `10.${200 + (b[0]! % 50)}.${b[1]!}`;
    if (!used.includes(` ${s}.`)) return s;
  }
}
