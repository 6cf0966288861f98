/** Shared helpers for the live socket tests: condition waits, a recording logger, raw sockets. */
import { connect, type Socket } from 'node:net';
import type { NetLogger } from '../../src/net/logger.js';
import { listen, type Listener, type ListenOptions } from '../../src/net/listener.js';

/** The cluster id the net tests' listeners and clients use. */
export const TEST_CLUSTER = 'test-cluster';

/** Polls `cond` until it holds; fails after a generous deadline (never a fixed sleep). */
export async function waitFor(cond: () => boolean, what: string, deadlineMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

export function recordingLogger(): NetLogger & { lines: LogLine[]; has(re: RegExp): boolean } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg?: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return {
    lines,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    has: (re) => lines.some((l) => re.test(`${l.msg ?? ''} ${JSON.stringify(l.obj)}`)),
  };
}

/** A raw socket that records what it receives and whether it was closed. */
export interface RawPeer {
  readonly socket: Socket;
  readonly received: () => Buffer;
  readonly closed: () => boolean;
}

/** `localAddress`: the address to connect from (Linux routes all of 127.0.0.0/8 on lo: 127.0.0.2 is another host to the listener). */
export async function rawConnect(port: number, localAddress?: string): Promise<RawPeer> {
  const socket = connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => Buffer.concat(chunks), closed: () => closed };
}

/** A listener that answers every recover with a recoverReply echoing its rid, and writes with a writeReply. */
export function echoServer(extra: Partial<ListenOptions> = {}): Promise<Listener> {
  return listen({
    host: '127.0.0.1',
    port: 0,
    clusterId: TEST_CLUSTER,
    replicaId: 1,
    onMessage(msg, conn) {
      if (msg.type === 'recover') {
        conn.send({ type: 'recoverReply', rid: msg.rid, status: 'VOTING', begin: 0, end: msg.rid, incarnation: 'i', generation: 0, disk: 0, memberGeneration: 0, memberDisk: 0, recorded: [] });
      }
      if (msg.type === 'write') {
        conn.send({
          type: 'writeReply',
          rid: msg.rid,
          outcome: 'accept',
          proposal: msg.proposal,
          from: msg.from,
          count: msg.actions.length,
          generation: 0,
          disk: 0,
          retired: [],
        });
      }
    },
    ...extra,
  });
}
