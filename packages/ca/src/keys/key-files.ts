import { chmod, open, readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { KeyError } from '../errors.js';
import { importPrivateKey } from '../signer/key-object-signer.js';

/** How to protect a key at rest: a passphrase (PKCS#8 + AES-256-CBC), or `clear: true` to write it unencrypted. */
export type KeyProtection = { passphrase: string } | { clear: true };

/**
 * PEM of a private key: encrypted PKCS#8 (PBES2, AES-256-CBC) with a passphrase, clear PKCS#8 only when asked.
 */
export function exportPrivateKeyPem(key: KeyObject, protection: KeyProtection): string {
  if ('passphrase' in protection) {
    if (protection.passphrase.length === 0) throw new KeyError('bad-passphrase', 'empty passphrase');
    return key.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: protection.passphrase,
    }) as string;
  }
  if (protection.clear !== true) throw new KeyError('bad-format', 'clear export must be explicit');
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Write a key file with mode 0600 (created exclusively unless `overwrite`). */
export async function writePrivateKeyFile(
  path: string,
  key: KeyObject,
  protection: KeyProtection,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  await writeSecretFile(path, exportPrivateKeyPem(key, protection), options);
}

/** Write a file readable only by its owner (0600). */
export async function writeSecretFile(
  path: string,
  content: string | Uint8Array,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  let handle;
  try {
    handle = await open(path, options.overwrite ? 'w' : 'wx', 0o600);
    await handle.chmod(0o600); // an existing file keeps its mode otherwise
    await handle.writeFile(content);
  } catch (err) {
    throw new KeyError('io', `cannot write ${path}`, err);
  } finally {
    await handle?.close();
  }
  await chmod(path, 0o600);
}

/** Read a private key file (PEM or DER PKCS#8), decrypting with the passphrase when given. */
export async function readPrivateKeyFile(path: string, passphrase?: string): Promise<KeyObject> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new KeyError('io', `cannot read ${path}`, err);
  }
  return importPrivateKey(new Uint8Array(data), passphrase);
}
