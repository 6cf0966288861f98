/**
 * Recognises a plain HTTP request in the first bytes of a connection (someone
 * pointed a browser or curl at the replica port), so the server can answer a
 * short 400 instead of logging an "oversized frame".
 */
const METHODS = ['GET ', 'POST', 'PUT ', 'HEAD', 'DELE', 'OPTI', 'PATC', 'CONN', 'TRAC', 'PRI '];

/** Bytes needed to decide. */
export const SNIFF_BYTES = 4;

export function looksLikeHttp(head: Buffer): boolean {
  if (head.length < SNIFF_BYTES) return false;
  const s = head.toString('latin1', 0, SNIFF_BYTES);
  return METHODS.includes(s);
}

function http400(body: string): string {
  return 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n' + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export const HTTP_400 = http400('replog: this port speaks the replog wire protocol, not HTTP (see docs/wire.md)\n');

/** The same on a port that requires TLS. */
export const HTTP_400_TLS = http400('replog: this port speaks the replog wire protocol over mutual TLS, not HTTP (see docs/security.md)\n');
