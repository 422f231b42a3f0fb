import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { ScepDecrypter } from './keys.js';
import { rejectionSecretOf } from './keys.js';
import type { DigestName } from './types.js';

// The thread's code, run as a CommonJS script (`eval`), so it needs no file next to the compiled module. Keys
// arrive as `KeyObject` clones (Node.js passes the key handle, never its bytes, through postMessage).
const THREAD_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { privateDecrypt, constants } = require('node:crypto');
const keys = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'key') { keys.set(m.keyId, m.key); return; }
  try {
    const key = keys.get(m.keyId);
    if (key === undefined) throw new Error('unknown key');
    const out = m.oaepHash === undefined
      ? privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, m.data)
      : privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: m.oaepHash }, m.data);
    const copy = new Uint8Array(out);
    parentPort.postMessage({ id: m.id, out: copy }, [copy.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err), code: err && err.code });
  }
});
`;

interface Reply {
  id: number;
  out?: Uint8Array;
  error?: string;
  code?: string;
}

interface Pending {
  resolve(out: Uint8Array): void;
  reject(err: Error): void;
}

/**
 * One thread that runs RSA private-key decryptions off the event loop. Node.js has no asynchronous raw RSA or
 * PKCS#1 v1.5 decryption, and each one takes ~1 ms of CPU with RSA-2048: on the event loop it would stall every
 * other request for that long. The thread starts on first use, does not keep the process alive when idle, and
 * is started again if it dies (its pending calls fail, which the SCEP layer answers as a decryption failure).
 */
export class DecryptThread {
  #worker: Worker | undefined;
  readonly #keys = new Map<number, KeyObject>();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #nextKeyId = 1;
  #closed = false;

  /** Registers a private key; the thread keeps a clone of it. */
  addKey(key: KeyObject): number {
    const keyId = this.#nextKeyId++;
    this.#keys.set(keyId, key);
    this.#worker?.postMessage({ type: 'key', keyId, key });
    return keyId;
  }

  /** Raw RSA (no padding) when `oaepHash` is undefined, else RSAES-OAEP with that hash. */
  decrypt(keyId: number, ciphertext: Uint8Array, oaepHash?: DigestName): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error('the decryption thread is closed'));
    const worker = this.#start();
    const id = this.#nextId++;
    // A copy with a buffer of its own, which is then moved to the thread: cloning a view would copy its whole
    // underlying buffer (the request, or Node's pool), and moving it would take it from the caller.
    // (`Buffer#slice` is a view, so not `ciphertext.slice()`.)
    const data = new Uint8Array(ciphertext);
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, keyId, oaepHash, data }, [data.buffer]);
    });
  }

  /** Stops the thread; calls in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
    this.#failAll(new Error('the decryption thread is closed'));
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'scepkit-decrypt' });
    worker.unref();
    for (const [keyId, key] of this.#keys) worker.postMessage({ type: 'key', keyId, key });
    worker.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) worker.unref();
      if (m.out) p.resolve(m.out);
      else p.reject(Object.assign(new Error(m.error ?? 'decryption failed'), { code: m.code }));
    });
    const lost = (err: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(err);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the decryption thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }
}

let shared: DecryptThread | undefined;

/** A decrypter that always answers with a promise. */
export interface AsyncScepDecrypter extends ScepDecrypter {
  decryptRaw(ciphertext: Uint8Array): Promise<Uint8Array>;
  decryptOaep(ciphertext: Uint8Array, hash: DigestName): Promise<Uint8Array>;
}

/**
 * A decrypter whose RSA private-key operations run on a `DecryptThread` (by default one thread shared by every
 * worker decrypter of the process), so the event loop goes on serving other requests meanwhile.
 */
export function workerDecrypter(
  certificate: Uint8Array,
  key: KeyObject,
  thread: DecryptThread = (shared ??= new DecryptThread()),
): AsyncScepDecrypter {
  const rejectionSecret = rejectionSecretOf(key);
  const keyId = thread.addKey(key);
  return {
    certificate,
    rejectionSecret,
    decryptRaw: (c) => thread.decrypt(keyId, c),
    decryptOaep: (c, hash) => thread.decrypt(keyId, c, hash),
  };
}
