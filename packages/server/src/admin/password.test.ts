import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, parsePasswordHash, verifyPassword } from './password.js';

describe('admin password hash (scrypt)', () => {
  it('ok/hash-and-verify', async () => {
    const h = await hashPassword('correct horse battery staple');
    assert.match(h, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    assert.equal(await verifyPassword('correct horse battery staple', h), true);
    assert.equal(await verifyPassword('correct horse battery stapl', h), false);
    assert.equal(await verifyPassword('', h), false);
    assert.notEqual(await hashPassword('correct horse battery staple'), h, 'random salt');
  });

  it('ok/unicode-normalised', async () => {
    const h = await hashPassword('caf\u00e9 au lait!!', { N: 1024, r: 8, p: 1 });
    assert.equal(await verifyPassword('cafe\u0301 au lait!!', h), true);
  });

  for (const [name, value] of [
    ['fail/not-scrypt', 'bcrypt$2b$10$abc'],
    ['fail/plain-password', 'hunter2'],
    ['fail/N-not-power-of-two', 'scrypt$1000$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['fail/N-too-large', `scrypt$${2 ** 24}$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5`],
    ['fail/short-salt', 'scrypt$1024$8$1$c2E=$a2V5a2V5a2V5a2V5a2V5a2V5'],
    ['fail/missing-part', 'scrypt$1024$8$1$c2FsdHNhbHRzYWx0'],
  ] as const) {
    it(name, () => {
      assert.throws(() => parsePasswordHash(value), /not a scrypt password hash/);
    });
  }
});
