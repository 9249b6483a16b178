/**
 * The settings the cloud may change at run time (`config.set`): file values, overridden by what
 * the cloud last set (kept in kv so it survives a restart). Announces `config.changed` after a commit.
 */
import type { CommandData } from '../shared/mqtt/messages.js';
import type { GatewayEvents } from './events.js';
import { KV } from './store/kv.js';
import type { GatewayStore, Tx } from './store/store.js';

export interface RuntimeSettings {
  heartbeatS: number;
  defaultPeriodS: number;
  idleFrame: boolean;
}

type Overrides = CommandData<'config.set'>;

export class RuntimeConfig {
  constructor(
    private readonly store: GatewayStore,
    private readonly events: GatewayEvents,
    private readonly fromFile: RuntimeSettings,
  ) {}

  get(): RuntimeSettings {
    const o = this.store.kv.get<Overrides>(KV.runtimeConfig) ?? {};
    return {
      heartbeatS: o.heartbeat_s ?? this.fromFile.heartbeatS,
      defaultPeriodS: o.default_period_s ?? this.fromFile.defaultPeriodS,
      idleFrame: o.idle_frame ?? this.fromFile.idleFrame,
    };
  }

  /** Merges new overrides, as part of the command's transaction `tx`. */
  setInTx(tx: Tx, overrides: Overrides): void {
    const prev = this.store.kv.get<Overrides>(KV.runtimeConfig) ?? {};
    this.store.kv.set(KV.runtimeConfig, { ...prev, ...overrides });
    tx.afterCommit(() => this.events.emit('config.changed', this.get()));
  }
}
