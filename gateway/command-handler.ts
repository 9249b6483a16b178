/**
 * Cloud → gateway commands (docs/protocol.md §MQTT): parsed with the shared schemas, applied idempotently by
 * command id, answered with `command.result` through the outbox. The command's effect, its
 * processed_commands row and its result event commit in one transaction, so a crash can never
 * apply a command without remembering it (or the reverse). Bad input gets an error result and a
 * log line, never an exception out of handle().
 */
import type { Logger } from 'pino';
import { CheckinKeysError, applyKeySetPart } from './checkin-keys.js';
import { parseCommand, type CommandData, type CommandType, type Envelope } from '../shared/mqtt/messages.js';
import type { GatewayEvents } from './events.js';
import { SessionError, type SessionManager } from './sessions.js';
import type { RuntimeConfig } from './runtime-config.js';
import type { CommandResult } from './store/processed-commands.js';
import type { GatewayStore, Tx } from './store/store.js';
import { TimetableError, type Timetable } from './timetable.js';

type AnyCommand = { [T in CommandType]: Envelope<T, CommandData<T>> }[CommandType];

export interface CommandDeps {
  store: GatewayStore;
  events: GatewayEvents;
  sessions: SessionManager;
  runtime: RuntimeConfig;
  timetable: Timetable;
  log: Logger;
  now?: () => number;
}

export class CommandHandler {
  private readonly now: () => number;

  constructor(private readonly deps: CommandDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Handles what arrives on the cmd topic (`command.received`) until stop(). */
  start(): void {
    this.deps.events.on('command.received', this, (payload) => this.handle(payload));
  }

  stop(): void {
    this.deps.events.off(this);
  }

  /** Handles one raw MQTT payload from the cmd topic. Returns the result sent (for logs and tests). */
  handle(raw: Buffer | string): CommandResult | null {
    const { store, log } = this.deps;
    const parsed = parseCommand(raw);
    if (!parsed.ok) {
      log.warn({ code: parsed.code, commandId: parsed.id, detail: parsed.message }, 'command rejected');
      // Without an id there is nobody to answer: the log line is all we can do.
      return parsed.id ? this.answer({ command_id: parsed.id, ok: false, error: { code: parsed.code, message: parsed.message.slice(0, 500) } }) : null;
    }
    const cmd = parsed.value as AnyCommand;
    try {
      const prior = store.commands.get(cmd.id);
      if (prior) {
        log.info({ commandId: cmd.id, type: cmd.type }, 'repeated command: re-sending its result');
        return this.answer(prior);
      }
      const result = store.transaction(() => {
        const now = this.now();
        let r: CommandResult;
        try {
          // A savepoint: a command failing half-way leaves no trace (nor event) but its error result.
          store.transaction((tx) => this.apply(tx, cmd, now));
          r = { command_id: cmd.id, ok: true };
        } catch (err) {
          if (!(err instanceof SessionError) && !(err instanceof TimetableError) && !(err instanceof CheckinKeysError)) throw err;
          r = { command_id: cmd.id, ok: false, error: { code: err.code, message: err.message } };
        }
        store.commands.record(cmd.id, cmd.type, r, now);
        store.outbox.append('command.result', r, now);
        return r;
      });
      log.info({ commandId: cmd.id, type: cmd.type, ok: result.ok, error: result.error?.code }, 'command applied');
      return result;
    } catch (err) {
      // Not the command's fault (disk, bug): not recorded, so the cloud's retry can still succeed.
      log.error({ err, commandId: cmd.id, type: cmd.type }, 'command failed');
      return this.answer({ command_id: cmd.id, ok: false, error: { code: 'internal_error', message: 'the gateway could not apply the command' } });
    }
  }

  private apply(tx: Tx, cmd: AnyCommand, now: number): void {
    const { sessions, runtime, timetable } = this.deps;
    switch (cmd.type) {
      case 'session.start': {
        const d = cmd.data;
        sessions.startInTx(
          tx,
          { id: d.session_id, courseId: d.course_id, periodS: d.period_s, endsAt: d.ends_at ? Date.parse(d.ends_at) : null, source: 'cloud' },
          now,
        );
        return;
      }
      case 'session.end':
        sessions.endInTx(tx, cmd.data.session_id, 'command', now);
        return;
      case 'config.set':
        runtime.setInTx(tx, cmd.data);
        return;
      case 'timetable.set':
        timetable.setInTx(tx, cmd.data);
        return;
      case 'ping':
        return;
      case 'checkin_keys.set': {
        const progress = applyKeySetPart(this.deps.store, cmd.data, now);
        this.deps.log.info({ sessionId: cmd.data.session_id, part: cmd.data.part, parts: cmd.data.parts, ...progress }, 'check-in keys received');
        return;
      }
    }
  }

  private answer(result: CommandResult): CommandResult | null {
    try {
      const now = this.now();
      this.deps.store.transaction(() => this.deps.store.outbox.append('command.result', result, now));
      return result;
    } catch (err) {
      this.deps.log.error({ err, commandId: result.command_id }, 'could not queue the command result');
      return null;
    }
  }
}
