/**
 * The client's address behind reverse proxies, for throttling and logs.
 *
 * Guarantees:
 * - `X-Forwarded-For` is honoured only on connections from a configured trusted proxy
 *   (`ANPR_TRUSTED_PROXIES`: addresses or CIDRs, comma-separated); from anyone else it is
 *   ignored and the socket's address is the client.
 * - Through trusted proxies the client is the right-most address of the chain that is not
 *   itself a trusted proxy: entries to its left were written by the client and are never
 *   believed. A malformed entry ends the walk at the proxy that received it.
 * - No setting means no proxy is trusted.
 */
import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';
import { AppError } from '../../shared/errors.js';

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) is `10.0.0.1`. */
function plain(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  /** `entries`: addresses (`10.0.0.1`, `::1`) or CIDRs (`10.0.0.0/8`); a bad one is CONFIG_INVALID. */
  constructor(entries: readonly string[] = []) {
    this.entries = entries;
    for (const raw of entries) {
      const [addr = '', bits, extra] = raw.trim().split('/');
      const family = isIP(addr);
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
      if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32) || (bits !== undefined && !/^\d+$/.test(bits))) {
        throw new AppError('CONFIG_INVALID', `ANPR_TRUSTED_PROXIES: '${raw}' is not an IP address or CIDR (e.g. 127.0.0.1, 10.0.0.0/8, ::1)`);
      }
      this.list.addSubnet(addr, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** From a comma-separated setting (`ANPR_TRUSTED_PROXIES`); empty or unset trusts no one. */
  static parse(value: string | undefined): TrustedProxies {
    return new TrustedProxies((value ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  }

  trusts(ip: string): boolean {
    const a = plain(ip);
    const family = isIP(a);
    return family !== 0 && this.list.check(a, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The client of a connection from `peer` that carried `forwardedFor`. */
  clientIp(peer: string, forwardedFor: string | undefined): string {
    let client = plain(peer);
    if (!forwardedFor || !this.trusts(client)) return client;
    const hops = forwardedFor.split(',').map((s) => plain(s.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!isIP(hops[i]!)) return client;
      client = hops[i]!;
      if (!this.trusts(client)) return client;
    }
    return client;
  }

  /** Wraps a socket-address lookup into a client-address lookup. */
  resolver(peerIp: (c: Context) => string): (c: Context) => string {
    return (c) => this.clientIp(peerIp(c), c.req.header('x-forwarded-for'));
  }
}
