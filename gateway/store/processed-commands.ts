/** Commands already applied, with the result they got: a repeated command id gets the same answer. */
import type { Db } from './open.js';

export interface CommandResult {
  command_id: string;
  ok: boolean;
  error?: { code: string; message: string };
}

export class ProcessedCommandRepo {
  private readonly getStmt;
  private readonly insertStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], { result: string }>('SELECT result FROM processed_commands WHERE id = ?');
    this.insertStmt = db.prepare<[string, string, string, number]>('INSERT INTO processed_commands (id, type, result, processed_at) VALUES (?, ?, ?, ?)');
  }

  get(id: string): CommandResult | null {
    const row = this.getStmt.get(id);
    return row ? (JSON.parse(row.result) as CommandResult) : null;
  }

  record(id: string, type: string, result: CommandResult, at: number): void {
    this.insertStmt.run(id, type, JSON.stringify(result), at);
  }
}
