/** ATTENDANCE_TRUST_PROXY: every form names the client from the right of X-Forwarded-For, so a spoofed left end changes nothing. */
import { describe, expect, it } from 'vitest';
import { clientAddressResolver, clientNetwork, parseProxyTrust } from '../../cloud/http/client-address.js';

const PROXY = '10.0.0.5';
const of = (trust: string) => clientAddressResolver(parseProxyTrust(trust));

describe('client address', () => {
  it('without a trusted proxy is the socket address, whatever the header says', () => {
    for (const trust of ['false', '0']) expect(of(trust)('203.0.113.7', '1.1.1.1, 2.2.2.2')).toBe('203.0.113.7');
  });

  it('behind one proxy is the entry that proxy appended, not the spoofed leftmost one', () => {
    for (const trust of ['true', '1']) {
      const client = of(trust);
      expect(client(PROXY, 'spoofed-1, 203.0.113.7')).toBe('203.0.113.7');
      expect(client(PROXY, '198.51.100.99,198.51.100.98 , 203.0.113.7')).toBe('203.0.113.7');
      expect(client(PROXY, '203.0.113.7')).toBe('203.0.113.7');
      // A request that reached the cloud past the proxy has no header: its socket address.
      expect(client('203.0.113.8', '')).toBe('203.0.113.8');
    }
  });

  it('behind N proxies is the Nth entry from the right', () => {
    const client = of('2');
    expect(client(PROXY, 'spoofed, 203.0.113.7, 10.0.0.4')).toBe('203.0.113.7');
    expect(client(PROXY, '203.0.113.7, 10.0.0.4')).toBe('203.0.113.7');
  });

  it('behind listed proxies is the first address from the right that is not one of them', () => {
    const client = of('10.0.0.0/24, 192.0.2.1, 2001:db8:ffff::/48');
    expect(client(PROXY, 'spoofed, 198.51.100.1, 203.0.113.7, 192.0.2.1, 10.0.0.4')).toBe('203.0.113.7');
    expect(client('::ffff:10.0.0.5', '203.0.113.7')).toBe('203.0.113.7');
    expect(client('2001:db8:ffff::1', '2001:db8:1::7')).toBe('2001:db8:1::7');
    // A peer that is not a listed proxy wrote the header itself: it is ignored.
    expect(client('203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
    // Every entry trusted: the leftmost is the client.
    expect(client(PROXY, '10.0.0.4')).toBe('10.0.0.4');
  });

  it('refuses a value that is none of the forms, naming the bad part', () => {
    expect(() => parseProxyTrust('yes')).toThrow(/^yes: not an IP address or CIDR/);
    expect(() => parseProxyTrust('10.0.0.0/33')).toThrow(/^10\.0\.0\.0\/33: not an IP address or CIDR/);
    expect(() => parseProxyTrust('10.0.0.1,,10.0.0.2')).toThrow(/^\(empty\): not an IP address/);
    expect(() => parseProxyTrust('99')).toThrow(/more than 16 proxies/);
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as IPv4', () => {
    expect(clientNetwork('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(clientNetwork('2001:DB8:0:1:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64');
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
  });
});
