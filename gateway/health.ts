/**
 * Is the gateway doing its job? Radio: powered on and the controller holds what we want on air.
 * Store: readable, and the last rotation could be written. A problem is tolerated for a grace
 * period (an adapter reset takes a few seconds); after that the watchdog stops being fed and
 * systemd restarts the daemon — the cure for a hung adapter that BLE daemons are known for.
 */
import type { Advertiser } from './ble/advertiser.js';
import type { GatewayStore } from './store/store.js';

export interface HealthReport {
  ok: boolean;
  radio: { ok: boolean; state: string; inSync: boolean; lastError: string | null };
  store: { ok: boolean; error: string | null };
}

export interface HealthDeps {
  advertiser: Advertiser;
  store: GatewayStore;
  rotationError: () => string | null;
  graceMs?: number;
  now?: () => number;
}

export class Health {
  private radioBadSince: number | null = null;
  private storeBadSince: number | null = null;

  constructor(private readonly deps: HealthDeps) {}

  check(): HealthReport {
    const now = (this.deps.now ?? Date.now)();
    const grace = this.deps.graceMs ?? 20_000;
    const r = this.deps.advertiser.health();
    const radioGood = r.state === 'poweredOn' && r.inSync;
    let storeError: string | null = this.deps.rotationError();
    if (!storeError) {
      try {
        this.deps.store.probe();
      } catch (err) {
        storeError = (err as Error).message;
      }
    }
    this.radioBadSince = radioGood ? null : (this.radioBadSince ?? now);
    this.storeBadSince = storeError === null ? null : (this.storeBadSince ?? now);
    const radioOk = this.radioBadSince === null || now - this.radioBadSince < grace;
    const storeOk = this.storeBadSince === null || now - this.storeBadSince < grace;
    return {
      ok: radioOk && storeOk,
      radio: { ok: radioOk, state: r.state, inSync: r.inSync, lastError: r.lastError },
      store: { ok: storeOk, error: storeError },
    };
  }
}
