/**
 * Which conference rooms each of the user's devices joined, in the hub's SQLite, so a device
 * whose socket closes leaves them (rooms/Room.ts keeps the participants).
 */
import type { Env } from '../env.ts';
import { log } from '../log.ts';
import { actorOf } from '../objects/actor.ts';
import type { DeviceIdentity } from '../objects/identity.ts';
import { roomObject } from '../objects/stubs.ts';

export class DeviceRooms {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
  ) {
    sql.exec(
      `create table if not exists rooms (room_id text not null, device_id text not null, tenant_id text not null,
         primary key (room_id, device_id))`,
    );
  }

  joined(roomId: string, device: DeviceIdentity): void {
    this.sql.exec('insert or ignore into rooms (room_id, device_id, tenant_id) values (?, ?, ?)', roomId, device.deviceId, device.tenantId);
  }

  left(roomId: string, deviceId: string): void {
    this.sql.exec('delete from rooms where room_id = ? and device_id = ?', roomId, deviceId);
  }

  /** A device that is gone leaves its rooms; a room that cannot be told keeps it until its next join. */
  async leaveAll(device: DeviceIdentity): Promise<void> {
    const rooms = this.sql.exec<{ room_id: string; tenant_id: string }>('select room_id, tenant_id from rooms where device_id = ?', device.deviceId).toArray();
    await Promise.all(
      rooms.map(async (row) => {
        try {
          await roomObject(this.env, row.tenant_id, row.room_id).deviceGone(actorOf(device));
          this.left(row.room_id, device.deviceId);
        } catch (error) {
          log.warn('room.leave_failed', { ...actorOf(device), roomId: row.room_id }, error);
        }
      }),
    );
  }
}
