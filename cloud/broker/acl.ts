/**
 * Topic access rules at the broker (docs/protocol.md §MQTT). Pure functions of the
 * authenticated identity and the topic, so the rules can be tested without a broker:
 *
 *  - a gateway publishes only to its own `status` and `events`, subscribes only to its own `cmd`;
 *  - the cloud publishes only to gateways' `cmd` and subscribes to `events` and `status`
 *    (one gateway's, the `+` wildcard, or the shared-subscription form of those);
 *  - the broker keeps retained messages only where they mean something: a gateway's retained
 *    PUBLISH is refused except on its own `status`;
 *  - a gateway's status tells the truth about its connection: `online` while it is connected,
 *    `offline` only in its will, which the broker publishes when the connection is lost.
 */
import { parseStatus } from '../../shared/mqtt/messages.js';
import { DEFAULT_TOPIC_PREFIX, eventsWildcard, parseGatewayTopic, statusWildcard } from '../../shared/mqtt/topics.js';

export type Identity = { kind: 'gateway'; gatewayId: string } | { kind: 'cloud' };

export function mayPublish(who: Identity, topic: string, prefix = DEFAULT_TOPIC_PREFIX): boolean {
  const t = parseGatewayTopic(topic, prefix);
  if (!t) return false;
  if (who.kind === 'cloud') return t.kind === 'cmd';
  return t.gatewayId === who.gatewayId && (t.kind === 'status' || t.kind === 'events');
}

/** A PUBLISH as the broker sees it: a live one from a connected client, or that client's will. */
export interface PublishAttempt {
  topic: string;
  payload: Buffer | string;
  retain: boolean;
  /** The broker is publishing the client's will: its connection is gone. */
  will: boolean;
}

/**
 * What the broker does with a PUBLISH: pass it on; ignore it (acknowledge it, pass nothing on,
 * keep the connection); or refuse it (close the connection: 3.1.1 has no negative PUBACK).
 */
export type PublishRuling = { verdict: 'allow' } | { verdict: 'ignore' | 'refuse'; reason: string };

const ALLOW: PublishRuling = { verdict: 'allow' };

export function rulePublish(who: Identity, p: PublishAttempt, prefix = DEFAULT_TOPIC_PREFIX): PublishRuling {
  if (!mayPublish(who, p.topic, prefix)) return { verdict: 'refuse', reason: 'topic not allowed' };
  if (who.kind === 'cloud') return ALLOW;
  const isStatus = parseGatewayTopic(p.topic, prefix)!.kind === 'status';
  if (!isStatus) return p.retain ? { verdict: 'refuse', reason: 'retained publish' } : ALLOW;
  const status = p.payload.length > 0 ? parseStatus(p.payload) : null;
  const saysOffline = status?.ok === true && status.value.state === 'offline';
  // Ignored rather than refused: the gateway daemon says offline itself before it closes, and
  // closing it for that would make it reconnect. Its will says offline a moment later.
  if (!p.will && saysOffline) return { verdict: 'ignore', reason: 'offline while connected' };
  if (p.will && !saysOffline) return { verdict: 'refuse', reason: 'a will must say offline' };
  return ALLOW;
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
