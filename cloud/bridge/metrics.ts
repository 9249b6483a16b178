/** Prometheus metrics of the MQTT side, registered on the app's registry (served at /metrics). */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface BridgeMetrics {
  events: Counter<'type' | 'result'>;
  commands: Counter<'type'>;
  brokerLimits: Counter<'reason'>;
}

export function createBridgeMetrics(registry: Registry | undefined, connectedClients: () => number, linkUp: () => boolean): BridgeMetrics {
  const registers = registry ? [registry] : [];
  if (registry) {
    new Gauge({ name: 'attendance_mqtt_connected_clients', help: 'Clients connected to the embedded broker (gateways and the cloud itself)', registers, collect() {
      this.set(connectedClients());
    } });
    new Gauge({ name: 'attendance_mqtt_link_up', help: "1 while the cloud's own MQTT client is connected", registers, collect() {
      this.set(linkUp() ? 1 : 0);
    } });
  }
  return {
    events: new Counter({ name: 'attendance_gateway_events_total', help: 'Gateway events by type and result (applied, duplicate, or the rejection code)', labelNames: ['type', 'result'], registers }),
    commands: new Counter({ name: 'attendance_gateway_commands_published_total', help: 'Commands published to gateways (including re-sends)', labelNames: ['type'], registers }),
    brokerLimits: new Counter({ name: 'attendance_mqtt_connections_closed_over_limit_total', help: 'Connections the embedded broker closed over a limit, by reason (cloud/broker/limits.ts)', labelNames: ['reason'], registers }),
  };
}
