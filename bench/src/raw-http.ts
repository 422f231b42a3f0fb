import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A response: its status code and body (content type and other headers are not kept). */
export interface RawAnswer {
  status: number;
  body: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
/** A response head larger than this is refused (the servers measured send a few hundred bytes). */
const MAX_HEAD = 16 * 1024;

interface Pending {
  resolve: (a: RawAnswer) => void;
  reject: (e: Error) => void;
}

/**
 * Reads one HTTP/1.1 response from the bytes it is fed: the status line and headers, then a body framed by
 * Content-Length, by chunked transfer coding, or by the connection's end.
 */
class ResponseReader {
  private head: Buffer | undefined;
  private status = 0;
  private length = -1;
  private chunked = false;
  /** The body's bytes (Content-Length or until close) or the raw chunked coding, as received. */
  private parts: Buffer[] = [];
  private received = 0;
  close = false;

  /** Feeds bytes; returns the response once complete. Throws on a malformed response. */
  feed(chunk: Buffer): RawAnswer | undefined {
    if (this.status === 0) {
      const all = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const end = all.indexOf(CRLF2);
      if (end < 0) {
        if (all.length > MAX_HEAD) throw new Error('response head too large');
        this.head = all;
        return undefined;
      }
      this.readHead(all.toString('latin1', 0, end));
      chunk = all.subarray(end + 4);
    }
    if (chunk.length) {
      this.parts.push(chunk);
      this.received += chunk.length;
    }
    if (this.length >= 0) {
      if (this.received > this.length) throw new Error('more bytes than Content-Length');
      return this.received === this.length ? this.answer(this.joined()) : undefined;
    }
    if (this.chunked) {
      const body = decodeChunked(this.joined());
      return body ? this.answer(body) : undefined;
    }
    return undefined;
  }

  /** The connection ended: a body read until close is complete; anything else was cut short. */
  end(): RawAnswer {
    if (this.status !== 0 && this.length < 0 && !this.chunked) return this.answer(this.joined());
    throw new Error('connection closed before the response was complete');
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0]?.slice(0, 40))}`);
    this.status = Number(m[1]);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error('malformed response header');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value)) throw new Error('malformed Content-Length');
        this.length = Number(value);
      } else if (name === 'transfer-encoding') {
        this.chunked = value.toLowerCase().split(',').at(-1)!.trim() === 'chunked';
      } else if (name === 'connection') {
        this.close = value
          .toLowerCase()
          .split(',')
          .some((t) => t.trim() === 'close');
      }
    }
    if (this.chunked) this.length = -1;
  }

  private joined(): Buffer {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts)];
    return this.parts[0] ?? Buffer.alloc(0);
  }

  private answer(body: Buffer): RawAnswer {
    return { status: this.status, body };
  }
}

/** Decodes a complete chunked body (RFC 9112 §7.1, extensions and trailers skipped); undefined while incomplete. */
function decodeChunked(raw: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf(CRLF, at);
    if (eol < 0) return undefined;
    const sizeText = raw.toString('latin1', at, eol).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error('malformed chunk size');
    const size = parseInt(sizeText, 16);
    // The last chunk: done once the (empty or trailer) section after it has ended.
    if (size === 0) return raw.indexOf(CRLF2, eol) < 0 ? undefined : Buffer.concat(out);
    const data = eol + 2;
    if (raw.length < data + size + 2) return undefined;
    if (!raw.subarray(data + size, data + size + 2).equals(CRLF))
      throw new Error('chunk not followed by CRLF');
    out.push(raw.subarray(data, data + size));
    at = data + size + 2;
  }
}

/** One keep-alive connection, one request at a time. */
class Connection {
  readonly socket: Socket;
  private reader: ResponseReader | undefined;
  private pending: Pending | undefined;
  private closed = false;

  constructor(
    host: string,
    port: number,
    /** Silence allowed while a response is outstanding. */
    private readonly timeoutMs: number,
    /** Silence allowed while idle, before the connection is closed. */
    private readonly idleMs: number,
    private readonly onFree: (c: Connection) => void,
    private readonly onClosed: (c: Connection) => void,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.data(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('end', () => this.ended());
    this.socket.on('close', () => this.fail(new Error('connection closed')));
    this.socket.on('timeout', () =>
      this.pending
        ? this.socket.destroy(new Error(`timeout after ${this.timeoutMs} ms`))
        : this.socket.destroy(),
    );
  }

  /** Writes a request (head and body in one writev) and resolves with its response. */
  send(head: Buffer, body: Uint8Array): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.reader = new ResponseReader();
      this.socket.setTimeout(this.timeoutMs);
      this.socket.cork();
      this.socket.write(head);
      this.socket.write(body);
      this.socket.uncork();
    });
  }

  private data(chunk: Buffer): void {
    const p = this.pending;
    if (!p || !this.reader) {
      this.socket.destroy(new Error('bytes received with no request outstanding'));
      return;
    }
    let answer: RawAnswer | undefined;
    try {
      answer = this.reader.feed(chunk);
    } catch (err) {
      this.socket.destroy(err as Error);
      return;
    }
    if (!answer) return;
    const close = this.reader.close;
    this.pending = undefined;
    this.reader = undefined;
    p.resolve(answer);
    if (close) this.socket.destroy();
    else {
      this.socket.setTimeout(this.idleMs);
      this.onFree(this);
    }
  }

  private ended(): void {
    const p = this.pending;
    if (p && this.reader) {
      this.pending = undefined;
      try {
        p.resolve(this.reader.end());
      } catch (err) {
        p.reject(err as Error);
      }
    }
    this.socket.destroy();
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    if (!this.closed) {
      this.closed = true;
      this.onClosed(this);
    }
    p?.reject(err);
  }
}

/**
 * A minimal HTTP/1.1 client for the load generator: POSTs to one URL over at most `maxSockets` keep-alive
 * connections, reused first in, first out. `node:http`'s client spends 0.4–0.7 ms of CPU per request here (its
 * request and response objects, header validation and events), CPU the servers measured would otherwise have;
 * this one writes a head from a fixed template and reads only the status and the body's framing.
 */
export class RawHttpPool {
  private readonly host: string;
  private readonly port: number;
  private readonly head: (length: number) => Buffer;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: ((c: Connection) => void)[] = [];
  private destroyed = false;

  constructor(
    url: URL,
    private readonly maxSockets: number,
    private readonly timeoutMs: number,
    private readonly idleMs: number,
    contentType: string,
  ) {
    if (url.protocol !== 'http:') throw new Error('RawHttpPool speaks plain http only');
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    const start = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${contentType}\r\n`;
    this.head = (length) => Buffer.from(`${start}Content-Length: ${length}\r\n\r\n`, 'latin1');
  }

  /** POSTs `body`; rejects on a network error, a malformed response or the timeout. */
  async post(body: Uint8Array): Promise<RawAnswer> {
    if (this.destroyed) throw new Error('pool destroyed');
    const c = await this.acquire();
    return c.send(this.head(body.length), body);
  }

  destroy(): void {
    this.destroyed = true;
    for (const c of this.all) c.socket.destroy();
  }

  private acquire(): Promise<Connection> | Connection {
    const c = this.idle.shift();
    if (c) return c;
    if (this.all.size < this.maxSockets) return this.open();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private open(): Connection {
    const c = new Connection(
      this.host,
      this.port,
      this.timeoutMs,
      this.idleMs,
      (free) => this.release(free),
      (gone) => this.remove(gone),
    );
    this.all.add(c);
    return c;
  }

  private release(c: Connection): void {
    const w = this.waiting.shift();
    if (w) w(c);
    else this.idle.push(c);
  }

  private remove(c: Connection): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    // A caller waiting for a connection gets a new one in place of the one that closed.
    if (!this.destroyed && this.waiting.length) this.waiting.shift()!(this.open());
  }
}
