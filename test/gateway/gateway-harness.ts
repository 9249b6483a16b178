/** Builds an in-process gateway daemon on a recording radio, pointed at a broker. */
import { GatewayDaemon } from '../../gateway/daemon.js';
import { GatewayEvents } from '../../gateway/events.js';
import { openStore, type GatewayStore } from '../../gateway/store/store.js';
import { memoryLogger } from '../fakes/memory-logger.js';
import { RecordingAdvertiser } from '../fakes/recording-advertiser.js';
import { classroomConfig } from './classroom.js';

export interface TestGateway {
  daemon: GatewayDaemon;
  store: GatewayStore;
  radio: RecordingAdvertiser;
  logs: ReturnType<typeof memoryLogger>;
  gatewayId: string;
  prefix: string;
  stop(): Promise<void>;
}

export function buildGateway(opts: { url: string; prefix: string; gatewayId?: string; dbPath?: string; drainMaxInFlight?: number }): TestGateway {
  const gatewayId = opts.gatewayId ?? `gw-${Math.random().toString(36).slice(2, 10)}`;
  const config = classroomConfig({ gateway_id: gatewayId, mqtt_url: opts.url, topic_prefix: opts.prefix, db_path: opts.dbPath ?? ':memory:', heartbeat_s: 3600 });
  const logs = memoryLogger('info');
  const events = new GatewayEvents(logs.log);
  const store = openStore(config.dbPath, gatewayId, opts.prefix, { events });
  const radio = new RecordingAdvertiser();
  const daemon = new GatewayDaemon({
    config,
    store,
    events,
    advertiser: radio,
    log: logs.log,
    version: 'test',
    radioKind: 'recording',
    env: {},
    mqttBackoff: { minMs: 100, maxMs: 400 },
    ...(opts.drainMaxInFlight ? { drainMaxInFlight: opts.drainMaxInFlight } : {}),
  });
  return {
    daemon,
    store,
    radio,
    logs,
    gatewayId,
    prefix: opts.prefix,
    stop: async () => {
      await daemon.stop();
      store.close();
    },
  };
}

/** Queues `n` token.rotated events, as a long offline stretch of rotations would. Returns their ids in order. */
export function queueRotations(store: GatewayStore, n: number, sessionId = '0192f3a0-7c00-7000-8000-000000000001', firstW = 1000): string[] {
  const ids: string[] = [];
  store.transaction(() => {
    for (let i = 0; i < n; i++) {
      const now = Date.now();
      ids.push(store.outbox.append('token.rotated', { session_id: sessionId, w: firstW + i, advertised_at: new Date(now).toISOString() }, now));
    }
  });
  return ids;
}
