/** The wire layer: codec, framing, handshake, listener (replica side) and PeerLink (client side). */
export { encodeMessage, encodeFrame, decodeMessage, messageSize } from './codec.js';
export { WireError, type WireErrorReason } from './errors.js';
export { FrameDecoder, FRAME_HEADER_BYTES, frame } from './frame.js';
export { WIRE_VERSION, encodeHelloFrame, decodeHello, type Hello, type Role } from './hello.js';
export { wireLimits } from './limits.js';
export { silentLogger, type NetLogger } from './logger.js';
export { listen, type Listener, type ListenOptions, type ServerConnection } from './listener.js';
export { PeerLink, type PeerLinkOptions } from './peer-link.js';
export { defaultQueueBounds, type QueueBounds } from './connection.js';
export { backoffDelayMs, defaultBackoff, type BackoffOptions } from './backoff.js';
export { RequestTracker, realTimers, type TimerApi } from './request-tracker.js';
export { parseAddress, type HostPort } from './address.js';
