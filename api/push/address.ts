// Whether a PUSH call comes from the address its terminal is bound to (issue #33 §4, docs/SECURITY.md):
// 'exact' the same address; 'network' the same /24 (IPv4) or /64 (IPv6), so that a terminal that
// gets another address from the school's DHCP, or a school whose public address moves within its
// provider's block, keeps syncing; 'off' any address.
import { isIP } from 'node:net';
import type { AddressBinding } from '../../db/schema/index.js';

export const ADDRESS_BINDINGS = ['exact', 'network', 'off'] as const satisfies readonly AddressBinding[];

function ipv4Bits(address: string): number[] {
  return address.split('.').map(Number);
}

/** The 64-bit prefix of an IPv6 address, as four 16-bit groups (with `::` expanded). */
function ipv6Prefix(address: string): string {
  const [head, tail] = address.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const groups = tail !== undefined ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return groups.slice(0, 4).map((g) => parseInt(g, 16) || 0).join(':');
}

export function addressMatches(binding: AddressBinding, bound: string | null, address: string | null): boolean {
  if (binding === 'off') return true;
  if (bound === null || address === null) return false;
  if (bound === address) return true;
  if (binding === 'exact') return false;
  const family = isIP(address);
  if (family === 0 || family !== isIP(bound)) return false;
  if (family === 4) {
    const [a, b] = [ipv4Bits(address), ipv4Bits(bound)];
    return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  }
  if (address.includes('.') || bound.includes('.')) return false;
  return ipv6Prefix(address) === ipv6Prefix(bound);
}
