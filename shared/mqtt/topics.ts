/** MQTT topic layout — docs/protocol.md §MQTT (contract). */
export const DEFAULT_TOPIC_PREFIX = 'att/v1';
/** Payloads larger than this are refused by both sides (a gateway event is a few hundred bytes). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const GATEWAY_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidGatewayId(id: string): boolean {
  return GATEWAY_ID_RE.test(id);
}

export function gatewayClientId(gatewayId: string): string {
  return `gw-${gatewayId}`;
}

export interface GatewayTopics {
  status: string;
  events: string;
  cmd: string;
}

export function gatewayTopics(gatewayId: string, prefix = DEFAULT_TOPIC_PREFIX): GatewayTopics {
  if (!isValidGatewayId(gatewayId)) throw new RangeError(`invalid gateway id: ${gatewayId}`);
  const base = `${prefix}/gw/${gatewayId}`;
  return { status: `${base}/status`, events: `${base}/events`, cmd: `${base}/cmd` };
}

/** Shared subscription so several cloud instances split the ingest (MQTT 5 / broker extension). */
export function sharedEventsSubscription(prefix = DEFAULT_TOPIC_PREFIX, group = 'cloud'): string {
  return `$share/${group}/${prefix}/gw/+/events`;
}

export function eventsWildcard(prefix = DEFAULT_TOPIC_PREFIX): string {
  return `${prefix}/gw/+/events`;
}

export function statusWildcard(prefix = DEFAULT_TOPIC_PREFIX): string {
  return `${prefix}/gw/+/status`;
}

/** Extracts the gateway id and kind from a gateway topic, or null when it is not one. */
export function parseGatewayTopic(topic: string, prefix = DEFAULT_TOPIC_PREFIX): { gatewayId: string; kind: keyof GatewayTopics } | null {
  const head = `${prefix}/gw/`;
  if (!topic.startsWith(head)) return null;
  const rest = topic.slice(head.length).split('/');
  if (rest.length !== 2) return null;
  const [gatewayId, kind] = rest as [string, string];
  if (!isValidGatewayId(gatewayId)) return null;
  if (kind !== 'status' && kind !== 'events' && kind !== 'cmd') return null;
  return { gatewayId, kind };
}
