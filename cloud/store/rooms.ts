/**
 * Rooms. Each has a unique 32-bit room code (broadcast in every frame) and a 32-byte secret the
 * tokens are derived from; the secret is read for token validation and never shown.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { uuidv7 } from '../../shared/ids.js';
import { isUniqueViolation } from './errors.js';
import type { Queryable } from './repositories.js';
import type { Room } from './schema.js';

export type RoomView = Omit<Room, 'secret'>;

export class RoomNameTakenError extends Error {}
export class RoomCodeExhaustedError extends Error {}

/** Allocation attempts before giving up on a unique room code (a collision is ~n / 2^32). */
const CODE_ATTEMPTS = 5;

export class RoomRepository {
  constructor(private readonly db: Queryable) {}

  /** The room with its secret. */
  get(id: string): Promise<Room | undefined> {
    return this.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  view(id: string): Promise<RoomView | undefined> {
    return this.db.selectFrom('rooms').select(['id', 'name', 'room_code', 'created_at']).where('id', '=', id).executeTakeFirst();
  }

  list(): Promise<RoomView[]> {
    return this.db.selectFrom('rooms').select(['id', 'name', 'room_code', 'created_at']).orderBy('name').execute();
  }

  /**
   * Creates a room with a fresh room code and secret. Throws RoomNameTakenError for a name in
   * use, RoomCodeExhaustedError when no unique code was found.
   */
  async create(name: string, now: number): Promise<RoomView> {
    if (await this.db.selectFrom('rooms').select('id').where('name', '=', name).executeTakeFirst()) throw new RoomNameTakenError(name);
    for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
      const row: Room = { id: uuidv7(now), name, room_code: randomInt(1, 2 ** 32 - 1), secret: randomBytes(32).toString('hex'), created_at: now };
      try {
        await this.db.insertInto('rooms').values(row).execute();
      } catch (e) {
        if (isUniqueViolation(e)) continue; // room code collision (or a concurrent same-name create): try again
        throw e;
      }
      return { id: row.id, name: row.name, room_code: row.room_code, created_at: row.created_at };
    }
    throw new RoomCodeExhaustedError(name);
  }
}
