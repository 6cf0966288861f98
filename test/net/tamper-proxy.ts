/**
 * A fake replica for client tests: a TCP proxy in front of a real replica
 * that speaks the wire protocol (src/net) and rewrites what the replica
 * answers. Requests pass through untouched; each reply is decoded and handed
 * to `tamper`, which returns a replacement message, raw frame bytes, null
 * (swallow it) or undefined (pass it on). Config replies name the proxies'
 * addresses instead of the replicas' (`addressMap`), so a client given the
 * proxies never reaches the replicas directly.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Member, Message } from '../../src/core/types.js';
import { decodeMessage, encodeFrame } from '../../src/net/codec.js';
import { FrameDecoder, frame } from '../../src/net/frame.js';
import { isChangeFrame } from '../../src/net/change-codec.js';

export type Tamper = (msg: Message) => Message | Buffer | null | undefined;

export class TamperProxy {
  private readonly sockets = new Set<Socket>();
  /** Replica address -> proxy address, applied to config replies. */
  readonly addressMap = new Map<string, string>();
  /** Replies other than config replies are passed on this late (ms): another replica's then come first. */
  delayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly address: string,
    private readonly upstream: { host: string; port: number },
    public tamper: Tamper | undefined,
  ) {
    server.on('connection', (client) => this.onClient(client));
  }

  static async start(upstream: string, tamper?: Tamper): Promise<TamperProxy> {
    const [host, port] = upstream.split(':') as [string, string];
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    return new TamperProxy(server, address, { host, port: Number(port) }, tamper);
  }

  private onClient(client: Socket): void {
    const up = connect(this.upstream);
    this.sockets.add(client).add(up);
    const end = (): void => {
      client.destroy();
      up.destroy();
    };
    for (const s of [client, up]) {
      s.on('error', end);
      s.on('close', () => {
        this.sockets.delete(s);
        end();
      });
    }
    client.on('data', (c: Buffer) => up.write(c));
    const decoder = new FrameDecoder();
    let hello = true;
    up.on('data', (c: Buffer) => {
      for (const payload of decoder.push(c)) {
        if (hello) {
          hello = false;
          client.write(frame(payload));
          continue;
        }
        // The change relay's replies (wire version 5) are not the core's: passed on untouched.
        if (isChangeFrame(payload)) {
          client.write(frame(payload));
          continue;
        }
        let msg = decodeMessage(payload);
        if (msg.type === 'configReply') {
          // Every list of addresses a client reads (members for wire version 2, voters and learners after it), so
          // that it dials the proxies and never a replica directly around them.
          const mapped = (ms: readonly Member[]): Member[] => ms.map((m) => ({ ...m, address: this.addressMap.get(m.address) ?? m.address }));
          msg = { ...msg, members: mapped(msg.members), ...(msg.voters === undefined ? {} : { voters: mapped(msg.voters) }), ...(msg.learners === undefined ? {} : { learners: mapped(msg.learners) }) };
        }
        const out = this.tamper?.(msg);
        if (out === null) continue;
        const bytes = out === undefined ? encodeFrame(msg) : Buffer.isBuffer(out) ? out : encodeFrame(out);
        if (this.delayMs > 0 && msg.type !== 'configReply') setTimeout(() => client.write(bytes), this.delayMs);
        else client.write(bytes);
      }
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** One proxy per replica address, each knowing every other's address; `tampers[i]` for the i-th. */
export async function proxies(upstreams: readonly string[], tampers: readonly (Tamper | undefined)[]): Promise<TamperProxy[]> {
  const ps = await Promise.all(upstreams.map((u, i) => TamperProxy.start(u, tampers[i])));
  for (const p of ps) upstreams.forEach((u, i) => p.addressMap.set(u, ps[i]!.address));
  return ps;
}
