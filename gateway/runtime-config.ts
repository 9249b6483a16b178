/**
 * The settings the cloud may change at run time (`config.set`): file values, overridden by what
 * the cloud last set (kept in kv so it survives a restart). Emits 'changed' after a commit.
 */
import { EventEmitter } from 'node:events';
import type { CommandData } from '../shared/mqtt/messages.js';
import { KV } from './store/kv.js';
import type { GatewayStore } from './store/store.js';

export interface RuntimeSettings {
  heartbeatS: number;
  defaultPeriodS: number;
  idleFrame: boolean;
}

type Overrides = CommandData<'config.set'>;

export class RuntimeConfig extends EventEmitter {
  constructor(
    private readonly store: GatewayStore,
    private readonly fromFile: RuntimeSettings,
  ) {
    super();
  }

  get(): RuntimeSettings {
    const o = this.store.kv.get<Overrides>(KV.runtimeConfig) ?? {};
    return {
      heartbeatS: o.heartbeat_s ?? this.fromFile.heartbeatS,
      defaultPeriodS: o.default_period_s ?? this.fromFile.defaultPeriodS,
      idleFrame: o.idle_frame ?? this.fromFile.idleFrame,
    };
  }

  /** Merges new overrides; call inside the command's transaction, then notify() after commit. */
  setInTx(overrides: Overrides): void {
    const prev = this.store.kv.get<Overrides>(KV.runtimeConfig) ?? {};
    this.store.kv.set(KV.runtimeConfig, { ...prev, ...overrides });
  }

  notify(): void {
    this.emit('changed', this.get());
  }
}
