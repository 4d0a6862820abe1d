/**
 * Password hashing with scrypt from node:crypto; the stored form carries its parameters, so
 * a hash made with older (cheaper) parameters still verifies, and `needsRehash` tells the
 * sign-in to store a new one. Cost: OWASP's current minimum for scrypt, N=2^17, r=8, p=1
 * (128 MiB and roughly a few hundred ms per hash on the appliance).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, opts, (e, k) => (e ? reject(e) : resolve(k))));

export const SCRYPT_N = 2 ** 17;
const N = SCRYPT_N;
const r = 8;
const p = 1;
const KEYLEN = 32;
// 128 * N * r bytes are needed; node refuses anything over maxmem (default 32 MiB).
const MAXMEM = 256 * 1024 * 1024;
// The most a stored hash may ask for: a tampered row must not make a sign-in take gigabytes.
const MAX_N = 2 ** 20;

/** Returns `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEYLEN, { N, r, p, maxmem: MAXMEM });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, rr, pp, saltB64, hashB64] = parts;
  const expected = Buffer.from(hashB64!, 'base64url');
  if (Number(n) > MAX_N || Number(rr) > 32 || Number(pp) > 16 || expected.length < 16) return false;
  const key = await scrypt(password, Buffer.from(saltB64!, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(rr),
    p: Number(pp),
    maxmem: 4 * MAXMEM,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Whether a stored hash was made with weaker parameters than today's (rehash it at sign-in). */
export function needsRehash(stored: string): boolean {
  const [kind, n, rr, pp] = stored.split('$');
  return kind !== 'scrypt' || Number(n) < N || Number(rr) < r || Number(pp) < p;
}

/** A hash of a random password: comparing against it costs the same as a real user's. */
export const DUMMY_HASH_PROMISE = hashPassword(randomBytes(16).toString('hex'));
