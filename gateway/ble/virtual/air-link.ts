/**
 * Link-layer PDUs of a connection on the virtual air (after the Link Layer of Core v5.3 Vol 6
 * Part B): CONNECT_IND (§2.3.3.1) from the initiator to the advertiser, data channel PDUs
 * (§2.4) carrying one ACL fragment each or nothing (the empty PDU that keeps a link alive),
 * LL_CONNECTION_UPDATE_IND (§2.4.2.1) and LL_TERMINATE_IND (§2.4.2.2). A link is named by its
 * access address (8 hex digits), chosen by the initiator.
 *
 * Acknowledgement follows §4.5.9 in spirit: every data PDU carries `ack`, the number of data
 * PDUs received in order from the peer, so the sender knows what was delivered (and tells its
 * host with Number Of Completed Packets) and sends again what was not.
 */

interface LinkPduBase {
  from: string;
  to: string;
  link: string;
  /** Wall-clock ms (fractional) at the transmitter. */
  at: number;
}

export interface ConnectIndPdu extends LinkPduBase {
  kind: 'connect';
  intervalUnits: number;
  latency: number;
  timeoutUnits: number;
}

export interface DataPdu extends LinkPduBase {
  kind: 'data';
  /** Sequence number of this fragment on the link, or null for an empty PDU. */
  seq: number | null;
  /** Data PDUs received in order from the peer so far. */
  ack: number;
  /** LLID: start of an L2CAP message (true) or a continuation fragment (false). */
  start: boolean;
  payload: Buffer;
}

export interface UpdateIndPdu extends LinkPduBase {
  kind: 'update';
  intervalUnits: number;
  latency: number;
  timeoutUnits: number;
}

export interface TerminateIndPdu extends LinkPduBase {
  kind: 'terminate';
  reason: number;
}

export type LinkPdu = ConnectIndPdu | DataPdu | UpdateIndPdu | TerminateIndPdu;

/** Longest LE data channel payload without Data Length Extension (Vol 6 Part B §2.4). */
export const MAX_LINK_PAYLOAD = 27;

export type LinkPduJson = Omit<LinkPdu, 'payload'> & { payload?: string };

export function linkPduToJson(pdu: LinkPdu): LinkPduJson {
  if (pdu.kind !== 'data') return { ...pdu };
  return { ...pdu, payload: pdu.payload.toString('hex') };
}

const ADDRESS_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const LINK_RE = /^[0-9a-f]{8}$/;
const PAYLOAD_RE = new RegExp(`^(?:[0-9a-f]{2}){0,${MAX_LINK_PAYLOAD}}$`);

const isUint = (value: unknown, max: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;

/** Parses a link PDU from another process; null for anything malformed (never trust the wire). */
export function linkPduFromJson(value: Record<string, unknown>): LinkPdu | null {
  const { kind, from, to, link, at } = value;
  if (typeof from !== 'string' || !ADDRESS_RE.test(from) || typeof to !== 'string' || !ADDRESS_RE.test(to)) return null;
  if (typeof link !== 'string' || !LINK_RE.test(link) || typeof at !== 'number' || !Number.isFinite(at)) return null;
  const base = { from, to, link, at };
  switch (kind) {
    case 'connect':
    case 'update': {
      const { intervalUnits, latency, timeoutUnits } = value;
      if (!isUint(intervalUnits, 0x0c80) || !isUint(latency, 0x01f3) || !isUint(timeoutUnits, 0x0c80)) return null;
      return { kind, ...base, intervalUnits, latency, timeoutUnits };
    }
    case 'data': {
      const { seq, ack, start, payload } = value;
      if (!(seq === null || isUint(seq, Number.MAX_SAFE_INTEGER)) || !isUint(ack, Number.MAX_SAFE_INTEGER)) return null;
      if (typeof start !== 'boolean' || typeof payload !== 'string' || !PAYLOAD_RE.test(payload)) return null;
      return { kind, ...base, seq, ack, start, payload: Buffer.from(payload, 'hex') };
    }
    case 'terminate': {
      const { reason } = value;
      if (!isUint(reason, 0xff)) return null;
      return { kind, ...base, reason };
    }
    default:
      return null;
  }
}
