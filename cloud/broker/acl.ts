/**
 * Topic access rules at the broker (docs/protocol.md §MQTT). Pure functions of the
 * authenticated identity and the topic, so the rules can be tested without a broker:
 *
 *  - a gateway publishes only to its own `status` and `events`, subscribes only to its own `cmd`;
 *  - the cloud publishes only to gateways' `cmd` and subscribes to `events` and `status`
 *    (one gateway's, the `+` wildcard, or the shared-subscription form of those).
 */
import { DEFAULT_TOPIC_PREFIX, eventsWildcard, parseGatewayTopic, statusWildcard } from '../../shared/mqtt/topics.js';

export type Identity = { kind: 'gateway'; gatewayId: string } | { kind: 'cloud' };

export function mayPublish(who: Identity, topic: string, prefix = DEFAULT_TOPIC_PREFIX): boolean {
  const t = parseGatewayTopic(topic, prefix);
  if (!t) return false;
  if (who.kind === 'cloud') return t.kind === 'cmd';
  return t.gatewayId === who.gatewayId && (t.kind === 'status' || t.kind === 'events');
}

/** `$share/<group>/<filter>` → `<filter>` (MQTT 5 §4.8.2; Mosquitto and EMQX accept it from 3.1.1 clients too). */
function withoutShare(filter: string): string {
  const m = /^\$share\/[^/+#]+\/(.+)$/.exec(filter);
  return m ? m[1]! : filter;
}

export function maySubscribe(who: Identity, filter: string, prefix = DEFAULT_TOPIC_PREFIX): boolean {
  if (who.kind === 'gateway') {
    const t = parseGatewayTopic(filter, prefix);
    return t !== null && t.gatewayId === who.gatewayId && t.kind === 'cmd';
  }
  const plain = withoutShare(filter);
  if (plain === eventsWildcard(prefix) || plain === statusWildcard(prefix)) return true;
  const t = parseGatewayTopic(plain, prefix);
  return t !== null && (t.kind === 'events' || t.kind === 'status');
}
