/**
 * A hostile client connection for the change relay's tests (hostile-relay*.test.ts): a raw link to a
 * replica's port that sends the relay's messages as it likes and records what it is handed.
 */
import { PeerLink } from '../../src/net/peer-link.js';
import { CHANGE_CODES, decodeChangeMessage, encodeChangeFrame, type ChangeTakeReply, type OfferState } from '../../src/net/change-codec.js';
import type { ChangeRequest } from '../../src/core/writer.js';
import { TlsCredentials } from '../../src/net/tls.js';
import type { TlsOptions } from '../../src/net/tls.js';
import { LogClient } from '../../src/client/log-client.js';
import type { ChangeEvent } from '../../src/client/events.js';

/** A raw client connection to a replica's port that speaks the relay's messages as it likes. */
export interface Hostile {
  readonly link: PeerLink;
  /** Every take reply it got. */
  readonly replies: ChangeTakeReply[];
  /** Changes it was handed. */
  handed(): string[];
  /** Sends a take naming `proposal` (with `done` if asked) every `everyMs` until stop(). */
  hammer(proposal: () => number, everyMs: number, done?: boolean): void;
  /** Sends an offer of `request` (a withdrawal with `withdraw`) every `everyMs` until stop(); the states answered. */
  offers(request: ChangeRequest, withdraw: boolean, everyMs: number): OfferState[];
  stop(): Promise<void>;
}

export async function hostileLink(address: string, tlsOptions?: TlsOptions): Promise<Hostile> {
  const replies: ChangeTakeReply[] = [];
  let offerStates: OfferState[] = [];
  const tls = tlsOptions === undefined ? undefined : new TlsCredentials(tlsOptions);
  let connected!: () => void;
  const up = new Promise<void>((r) => (connected = r));
  const link = new PeerLink({
    address,
    clusterId: '',
    ...(tls === undefined ? {} : { tls }),
    onMessage: () => undefined,
    onConnect: () => connected(),
    extension: {
      codes: CHANGE_CODES,
      onFrame: (payload) => {
        const m = decodeChangeMessage(payload);
        if (m.type === 'changeTakeReply') replies.push(m);
        if (m.type === 'changeOfferReply') offerStates.push(m.state);
      },
    },
  });
  await up;
  const timers: NodeJS.Timeout[] = [];
  let rid = 1_000_000;
  return {
    link,
    replies,
    handed: () => replies.flatMap((r) => r.requests.map((q) => q.id)),
    hammer(proposal, everyMs, done = false) {
      timers.push(setInterval(() => {
        link.sendFrame(encodeChangeFrame({ type: 'changeTake', rid: rid++, proposal: proposal() }));
        if (done) link.sendFrame(encodeChangeFrame({ type: 'changeTake', rid: rid++, proposal: proposal(), done: true }));
      }, everyMs));
    },
    offers(request, withdraw, everyMs) {
      const states: OfferState[] = [];
      offerStates = states;
      timers.push(setInterval(() => link.sendFrame(encodeChangeFrame({ type: 'changeOffer', rid: rid++, request, ...(withdraw ? { withdraw: true as const } : {}) })), everyMs));
      return states;
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await link.close();
    },
  };
}


/** An application client whose writer took changes at `address` at least once; the changes it carried, its fencings. */
export async function takingApplication(address: string, tlsOptions?: TlsOptions) {
  const log = await LogClient.connect([address], { waitForQuorum: true, ...(tlsOptions === undefined ? {} : { tls: tlsOptions }) });
  const changes: ChangeEvent[] = [];
  const fenced: Error[] = [];
  log.on('change', (e) => changes.push(e));
  log.on('fenced', (e) => fenced.push(e.error));
  const writer = await log.writer();
  // The writer asks for changes at its next tick after its election, then every recommitMs.
  await new Promise((r) => setTimeout(r, 300));
  return { log, writer, changes, fenced };
}

/** Ends a test: the hostile links and the asker closed, the application's writer resigned and its client closed. */
export async function closeAll(app: { log: { close(): Promise<void> }; writer: { resign(): Promise<void> } }, asker: { close(): Promise<void> }, ...hostiles: Hostile[]): Promise<void> {
  for (const h of hostiles) await h.stop();
  await asker.close();
  await app.writer.resign().catch(() => undefined);
  await app.log.close();
}
