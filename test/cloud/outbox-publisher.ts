/**
 * Gateways in a child process for the cloud crash test: each connects with its provisioned
 * credentials (client id gw-<id>, clean session false, QoS 1) and publishes its outbox in order,
 * up to MAX_IN_FLIGHT at once, like gateway/mqtt/drain.ts; a message leaves the outbox only on its
 * PUBACK, which is reported to the parent at once ({type: 'acked', id}). The cloud may die and come
 * back on the same port: mqtt.js reconnects, and what was not acknowledged is sent again.
 *
 * IPC in: {type: 'go', brokerUrl, gateways: [{id, password, events: [{id, payload}]}]}.
 * IPC out: 'acked' per PUBACK, 'done' when every outbox is empty.
 */
import { connect } from 'mqtt';
import { gatewayTopics } from '../../shared/mqtt/topics.js';

export interface OutboxGateway {
  id: string;
  password: string;
  events: Array<{ id: string; payload: string }>;
}

const MAX_IN_FLIGHT = 32;
const send = (m: unknown) => process.send?.(m);

function drain(brokerUrl: string, g: OutboxGateway): Promise<void> {
  return new Promise((resolve) => {
    const client = connect(brokerUrl, { clientId: `gw-${g.id}`, username: g.id, password: g.password, clean: false, protocolVersion: 4, reconnectPeriod: 100, connectTimeout: 5000 });
    const topic = gatewayTopics(g.id).events;
    let next = 0;
    let inFlight = 0;
    let acked = 0;
    /** Not acknowledged when the connection closed: sent again first, in order. */
    const again: number[] = [];
    const pump = () => {
      while (client.connected && inFlight < MAX_IN_FLIGHT && (again.length || next < g.events.length)) {
        const index = again.length ? again.shift()! : next++;
        const event = g.events[index]!;
        inFlight++;
        client.publish(topic, event.payload, { qos: 1 }, (err) => {
          inFlight--;
          if (err) {
            again.push(index);
            again.sort((a, b) => a - b);
            return;
          }
          send({ type: 'acked', id: event.id });
          if (++acked === g.events.length) {
            client.end(true);
            resolve();
          }
          pump();
        });
      }
    };
    client.on('connect', pump);
    client.on('error', () => undefined); // refused while the cloud restarts: reconnect again
  });
}

process.on('message', (m: { type: 'go'; brokerUrl: string; gateways: OutboxGateway[] }) => {
  void Promise.all(m.gateways.map((g) => drain(m.brokerUrl, g))).then(() => send({ type: 'done' }));
});
process.on('disconnect', () => process.exit(0));
