/**
 * What the cloud's outbound probes (camera test, snapshot, exporter test) may reach and what
 * they may tell the caller. They are SSRF by design: an admin names a host and port and the
 * cloud connects to it. docs/cloud-limits.md states the policy; this module enforces it:
 *  - with `ANPR_PROBE_DENY_LOCAL=1` the destination's name is resolved first and every address
 *    checked: loopback, link-local (cloud metadata services live there) and unspecified
 *    addresses are refused with 403 FORBIDDEN before any connection is made;
 *  - a failure that shows no camera or service answered (refused, filtered, unresolvable,
 *    not a camera, reset) reads the same to the caller, `PROBE_FAILED`, and is answered at
 *    the request's timeout, so neither the words nor the clock tell a closed port from a
 *    filtered host; the real reason goes to the server log only.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../../shared/errors.js';
import { cloudLimits } from './settings.js';

/** The one answer a caller gets for a destination that did not answer as expected. */
export const PROBE_FAILED = 'Connection failed';

const local = new BlockList();
local.addSubnet('127.0.0.0', 8, 'ipv4');
local.addSubnet('169.254.0.0', 16, 'ipv4');
local.addSubnet('0.0.0.0', 8, 'ipv4');
local.addAddress('::1', 'ipv6');
local.addAddress('::', 'ipv6');
local.addSubnet('fe80::', 10, 'ipv6');

/** Loopback, link-local or unspecified (IPv4-mapped IPv6 counts as its IPv4 address). */
export function isLocalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return local.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 4) return local.check(address, 'ipv4');
  if (family === 6) return local.check(address, 'ipv6');
  return false;
}

/**
 * Throws 403 FORBIDDEN when `ANPR_PROBE_DENY_LOCAL` is on and `url`'s host resolves to a
 * local address (any of its addresses). A name that does not resolve is left to the probe,
 * which fails with PROBE_FAILED.
 */
export async function checkProbeDestination(url: string, deny = cloudLimits().probeDenyLocal): Promise<void> {
  if (!deny) return;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return; // the probe reports an unusable URL itself
  }
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return;
  }
  if (addresses.some(isLocalAddress)) {
    throw new AppError('FORBIDDEN', 'Probe destination refused: it is a loopback or link-local address, which ANPR_PROBE_DENY_LOCAL forbids');
  }
}

/** run-tool.ts kills ffmpeg/ffprobe this long after their own timeout: a camera failure answers then. */
export const TOOL_GRACE_MS = 500;

/** Waits until `timeoutMs` after `t0`: a failure answers at the timeout, whatever its cause. */
export async function answerAtTimeout(t0: number, timeoutMs: number): Promise<number> {
  const left = t0 + timeoutMs - Date.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  return Date.now() - t0;
}
