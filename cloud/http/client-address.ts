/**
 * Which address a request comes from, given how far `X-Forwarded-For` is trusted
 * (ATTENDANCE_TRUST_PROXY, docs/operations.md). Each proxy appends the address it received the
 * connection from, so only the right end of the header is written by proxies; anything to the
 * left of it is whatever the client sent. The chain (header entries, then the socket's peer) is
 * walked from the right, past trusted proxies; the first untrusted address is the client.
 */
import net from 'node:net';

/** `hops`: that many proxies in front of the cloud (0: none, the socket address). `proxies`: these addresses or CIDRs. */
export type ProxyTrust = { hops: number } | { proxies: string[] };

const USAGE = 'use false, true (one proxy), a number of proxies, or a comma-separated list of proxy addresses or CIDRs';

/** Parses ATTENDANCE_TRUST_PROXY; throws with a message naming the bad part. */
export function parseProxyTrust(value: string): ProxyTrust {
  const v = value.trim().toLowerCase();
  if (v === 'false') return { hops: 0 };
  if (v === 'true') return { hops: 1 };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 16) throw new Error(`${value}: more than 16 proxies; ${USAGE}`);
    return { hops };
  }
  const proxies = v.split(',').map((p) => p.trim());
  for (const p of proxies) if (!addToList(new net.BlockList(), p)) throw new Error(`${p || '(empty)'}: not an IP address or CIDR; ${USAGE}`);
  return { proxies };
}

/** Whether Koa should honour X-Forwarded-Proto and -Host (the request came through a proxy we trust). */
export function trustsAnyProxy(trust: ProxyTrust): boolean {
  return 'proxies' in trust || trust.hops > 0;
}

/** The function that names a request's client address from its socket peer and X-Forwarded-For. */
export function clientAddressResolver(trust: ProxyTrust): (peer: string, forwardedFor: string) => string {
  let trusted: (address: string, hop: number) => boolean;
  if ('proxies' in trust) {
    const list = new net.BlockList();
    for (const p of trust.proxies) addToList(list, p);
    trusted = (address) => {
      const family = net.isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    };
  } else {
    trusted = (_address, hop) => hop < trust.hops;
  }
  return (peer, forwardedFor) => {
    const chain = [...forwardedFor.split(',').map((a) => a.trim()).filter(Boolean), peer];
    let i = chain.length - 1;
    while (i > 0 && trusted(chain[i]!, chain.length - 1 - i)) i--;
    return chain[i]!;
  };
}

/**
 * The network a limiter counts an address as: an IPv4 address itself (also when IPv4-mapped), an
 * IPv6 address by its /64, which one subscriber usually holds whole.
 */
export function clientNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (net.isIPv6(address)) {
    const [head = '', tail] = address.toLowerCase().split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    // A trailing dotted quad (::ffff:0:1.2.3.4) fills two groups.
    const width = left.length + right.length + (address.includes('.') ? 1 : 0);
    const groups = tail === undefined ? left : [...left, ...Array<string>(8 - width).fill('0'), ...right];
    return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
  }
  return address;
}

function addToList(list: net.BlockList, entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) return false;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) {
    list.addAddress(address, type);
    return true;
  }
  const bits = Number(prefix);
  if (!/^\d+$/.test(prefix) || bits > (family === 6 ? 128 : 32)) return false;
  list.addSubnet(address, bits, type);
  return true;
}
