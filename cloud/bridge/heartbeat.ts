/**
 * Heartbeats update the gateway's row: last heartbeat, outbox depth, radio, version, uptime and
 * clock skew. Tokens are time based (docs/protocol.md §Tokens), so a gateway clock off by more than
 * 2 s is flagged.
 *
 * Skew = gateway clock − cloud receive time. A heartbeat that waited in the gateway's outbox
 * while it was offline looks like a clock running behind; such a heartbeat (arriving within
 * QUEUED_WINDOW_MS of the gateway coming online and behind by more than the threshold) leaves
 * the last measured skew alone — the next fresh heartbeat measures it again.
 */
import type { EventData } from '../../shared/mqtt/messages.js';
import type { GatewayRepository } from '../store/gateways.js';
import type { Gateway } from '../store/schema.js';

export const CLOCK_SKEW_LIMIT_MS = 2000;
const QUEUED_WINDOW_MS = 10_000;

export function measuredSkew(gateway: Pick<Gateway, 'online_since'>, clockIso: string, receivedAt: number): number | null {
  const skew = Date.parse(clockIso) - receivedAt;
  const justReconnected = gateway.online_since !== null && receivedAt - gateway.online_since < QUEUED_WINDOW_MS;
  if (skew < -CLOCK_SKEW_LIMIT_MS && justReconnected) return null;
  return skew;
}

export async function applyHeartbeat(gateways: GatewayRepository, gateway: Gateway, d: EventData<'heartbeat'>, receivedAt: number): Promise<void> {
  const skew = measuredSkew(gateway, d.clock, receivedAt);
  await gateways.recordHeartbeat(gateway.id, {
    last_heartbeat_at: receivedAt,
    outbox_depth: d.outbox_depth,
    radio: d.radio,
    version: d.version,
    uptime_s: Math.round(d.uptime_s),
    live_session_id: d.session_id ?? null,
    ...(skew === null ? {} : { clock_skew_ms: skew }),
  });
}

export function clockSkewFlagged(skewMs: number | null): boolean {
  return skewMs !== null && Math.abs(skewMs) > CLOCK_SKEW_LIMIT_MS;
}
