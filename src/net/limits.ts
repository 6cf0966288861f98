/**
 * Every bound of the wire layer in one place, with their relations asserted
 * at load (a bad edit fails at import time, not under load in production).
 * Sizes are in bytes, times in milliseconds of the real clock.
 */
import { assert } from '../core/assert.js';
import { limits as coreLimits, timing as coreTiming } from '../core/constants.js';

export const wireLimits = {
  /**
   * Largest frame payload. A length prefix above it is rejected before any
   * allocation, so a hostile or confused peer cannot make us reserve memory.
   */
  frameBytesMax: 64 * 1024 * 1024,
  /** Largest hello payload (the first frame each way); hellos are tiny. */
  helloBytesMax: 1024,
  /** Longest cluster id, in UTF-8 bytes. */
  clusterIdBytesMax: 255,
  /** Most elements in one array field (actions, slots, entries, lost positions). */
  arrayLengthMax: 1 << 20,
  /** Most members in a write's `named` or a write reply's `retired` list (a cluster is far smaller). */
  namedLengthMax: 256,
  /** Most open connections a replica's listener keeps; more are closed at once (peers, writers, readers, CLI). */
  connectionsMax: 1024,
  /**
   * Most open connections from one remote address (IP, any port): one host cannot take the whole
   * connectionsMax, so a flood from one address leaves room for the others. At the bound a new connection
   * replaces that address's client connection silent the longest (as at connectionsMax), else is refused.
   * Far above what one host needs (a replica opens one link to each peer, a client one connection to each
   * replica), so a local cluster, its clients, the benches and the tests on loopback are never near it.
   */
  connectionsPerAddressMax: 256,
  /**
   * Descriptors a replica keeps for everything but inbound connections (data files, peer links, the
   * admin endpoint, Node's own): the connection bound is lowered to the process's descriptor limit
   * minus this, so a flood of connections never leaves none for a segment roll-over or an admin request.
   */
  descriptorsReserved: 64,
  /**
   * A client connection that has sent nothing for this long is closed (peer links never are). Generous:
   * a live writer recommits every second and a tailing reader polls every second at most.
   */
  clientIdleTimeoutMs: 10 * 60_000,
  /**
   * At the connection bound, a new connection replaces the client connection that has been silent the
   * longest, if it has been silent at least this long (else the new one is refused): idle connections
   * must not lock out a writer.
   */
  evictIdleAfterMs: 1_000,
  /**
   * Reply bytes queued over every connection of a listener (ours plus Node's socket buffers). Above
   * replyBudgetBytes, reading stops from each client connection holding more than replyShareBytes of
   * it; below replyBudgetBytesLow every such connection is read again (and each one as soon as its own
   * queue is back under its share). Above replyBudgetBytesMax a client's reply is dropped (the client
   * retransmits): a bound, however many connections send at once.
   */
  replyBudgetBytes: 256 * 1024 * 1024,
  replyBudgetBytesLow: 128 * 1024 * 1024,
  replyBudgetBytesMax: 1024 * 1024 * 1024,
  replyShareBytes: 1024 * 1024,
  /** A peer that has not completed the handshake after this long is dropped. */
  handshakeTimeoutMs: 5_000,
  /**
   * A connection holding part of a frame (a length prefix, or part of a payload) that receives no byte
   * for this long is dropped, on every connection (client or peer link, either end, before or after the
   * hello): a peer that stops mid-frame holds a buffer and a descriptor, and a peer link would stall
   * until TCP gives up. Time spent with reading paused by us (back-pressure) does not count.
   */
  frameTimeoutMs: 30_000,
  /** Most bytes queued for one connection (ours plus Node's socket buffer) before send() refuses. */
  sendQueueBytesMax: 128 * 1024 * 1024,
  /** Most messages waiting in our queue for one connection before send() refuses. */
  sendQueueMessagesMax: 65_536,
  /** whenWritable() resolves once the queue is back under this many bytes. */
  sendQueueBytesLow: 32 * 1024 * 1024,
  /** Queued frames up to this total are merged into one socket write (a copy); larger batches use cork/writev. */
  batchConcatBytesMax: 256 * 1024,
  /** Reconnect backoff: first delay, then doubled per failed attempt up to the cap, jittered down by up to half. */
  reconnectInitialMs: 50,
  reconnectMaxMs: 5_000,
  /**
   * Divergence checks (digest requests, src/server/digest-service.ts): most positions and entry bytes one
   * digest reply covers (a request over 2^40 positions is answered for its first span only; the asker goes
   * on from where the reply stopped), and most digest requests waiting on a replica (more are dropped: the
   * asker retries). Requests are served one at a time, between other I/O.
   */
  digestPositionsMax: 64 * 1024,
  digestBytesMax: 4 * 1024 * 1024,
  digestQueueMax: 64,
  /**
   * The change relay (src/server/change-relay.ts, wire version 5): most membership change requests one
   * replica holds for a writer at once, and so most one changeTakeReply carries.
   */
  relayHeldMax: 64,
} as const;

// Frame overhead is far below 1 MiB: a write's bytes ride with a few dozen bytes of header per action.
assert(coreLimits.entryBytesMax + 1024 * 1024 <= wireLimits.frameBytesMax, 'a maximal entry must fit in one frame');
assert(coreLimits.writeBatchBytesMax + 1024 * 1024 <= wireLimits.frameBytesMax, 'a full write batch must fit in one frame');
assert(coreLimits.writeBatchPositionsMax <= wireLimits.arrayLengthMax, 'a write batch must fit the array bound');
assert(coreLimits.readSlotsMax <= wireLimits.arrayLengthMax, 'a read reply must fit the array bound');
assert(wireLimits.namedLengthMax <= wireLimits.arrayLengthMax, 'the named bound is an array bound');
assert(wireLimits.frameBytesMax < 2 ** 32, 'the length prefix is a u32');
assert(wireLimits.frameBytesMax <= wireLimits.sendQueueBytesMax, 'one maximal frame must fit in a send queue');
assert(wireLimits.sendQueueBytesLow < wireLimits.sendQueueBytesMax, 'low-water mark under the bound');
assert(wireLimits.replyBudgetBytesLow < wireLimits.replyBudgetBytes && wireLimits.replyBudgetBytes < wireLimits.replyBudgetBytesMax, 'reply budget marks in order');
assert(wireLimits.replyShareBytes < wireLimits.replyBudgetBytesLow, 'a share is a small part of the budget');
assert(wireLimits.frameBytesMax <= wireLimits.replyBudgetBytesMax, 'one maximal reply fits the budget');
assert(wireLimits.connectionsPerAddressMax >= 16 && wireLimits.connectionsPerAddressMax < wireLimits.connectionsMax, 'one address takes part of the connections, and enough for a host');
assert(wireLimits.frameTimeoutMs >= wireLimits.handshakeTimeoutMs && wireLimits.frameTimeoutMs < wireLimits.clientIdleTimeoutMs, 'a stalled frame is dropped before an idle client, not before a slow handshake');
assert(wireLimits.evictIdleAfterMs < wireLimits.clientIdleTimeoutMs, 'eviction takes connections idle for less than the timeout');
assert(wireLimits.clusterIdBytesMax + 64 <= wireLimits.helloBytesMax, 'a hello with the longest cluster id must fit');
assert(wireLimits.digestPositionsMax >= 1 && wireLimits.digestBytesMax >= coreLimits.entryBytesMax / 4 && wireLimits.digestQueueMax >= 1, 'digest bounds');
assert(wireLimits.reconnectInitialMs > 0 && wireLimits.reconnectInitialMs <= wireLimits.reconnectMaxMs, 'backoff range');
assert(coreTiming.soloStartQuietMs >= 2 * (wireLimits.reconnectMaxMs + coreTiming.peerStateMs), "a one-voter start waits out two of a peer's reconnect attempts and gossip");
