/**
 * The SIP accounts of a hub's user as devices, in the hub's SQLite: which gateway reaches each
 * one, and until when its phone is registered. A registered phone counts for presence and rings;
 * an account that only calls out (no registration) is reachable for the calls it places.
 *
 * The registrar reports each Contact by itself, and an account may hold several at once (a phone
 * that restarted leaves its old binding until it lapses or is removed, a user runs two clients):
 * the account is registered until the last of its contacts lapses, so a report that removes one
 * contact leaves the others standing.
 */
import { ALL_SIP_CONTACTS, type SipDevice, type SipGatewayNode } from '@callstack/protocol';

export interface SipDeviceRoute {
  device: SipDevice;
  node: SipGatewayNode;
  /** Epoch ms until which the phone is registered; 0 when it is not. */
  registeredUntil: number;
}

type Row = { device_id: string; device: string; node: string; registered_until: number };

export class SipDevices {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `create table if not exists sip_devices (device_id text primary key, device text not null, node text not null, registered_until integer not null)`,
    );
    sql.exec(
      `create table if not exists sip_contacts (device_id text not null, contact text not null, registered_until integer not null,
         primary key (device_id, contact))`,
    );
  }

  /** What a REGISTER left for one contact (`until` 0: removed; contact `*`: every one removed). */
  register(device: SipDevice, node: SipGatewayNode, contact: string, until: number): void {
    if (contact === ALL_SIP_CONTACTS) this.sql.exec('delete from sip_contacts where device_id = ?', device.deviceId);
    else if (until === 0) this.sql.exec('delete from sip_contacts where device_id = ? and contact = ?', device.deviceId, contact);
    else
      this.sql.exec(
        `insert into sip_contacts (device_id, contact, registered_until) values (?, ?, ?)
         on conflict (device_id, contact) do update set registered_until = excluded.registered_until`,
        device.deviceId,
        contact,
        until,
      );
    const latest = this.sql
      .exec<{ until: number | null }>('select max(registered_until) as until from sip_contacts where device_id = ?', device.deviceId)
      .one().until;
    this.upsert(device, node, latest ?? 0, true);
  }

  /** The device talked through `node`: its messages go there from now on; its registration stays. */
  seen(device: SipDevice, node: SipGatewayNode): void {
    this.upsert(device, node, 0, false);
  }

  /** Every phone of the user stops counting (the account was deactivated or signed out everywhere). */
  unregisterAll(): void {
    this.sql.exec('delete from sip_contacts');
    this.sql.exec('update sip_devices set registered_until = 0');
  }

  find(deviceId: string): SipDeviceRoute | null {
    const row = this.sql.exec<Row>('select * from sip_devices where device_id = ?', deviceId).toArray()[0];
    return row ? toRoute(row) : null;
  }

  all(): SipDeviceRoute[] {
    return this.sql.exec<Row>('select * from sip_devices').toArray().map(toRoute);
  }

  registered(now: number): SipDeviceRoute[] {
    return this.sql.exec<Row>('select * from sip_devices where registered_until > ?', now).toArray().map(toRoute);
  }

  /** When the next registration lapses (presence must look again then); null when none will. */
  nextExpiry(now: number): number | null {
    const row = this.sql.exec<{ next: number | null }>('select min(registered_until) as next from sip_devices where registered_until > ?', now).one();
    return row.next ?? null;
  }

  private upsert(device: SipDevice, node: SipGatewayNode, until: number, setRegistration: boolean): void {
    this.sql.exec(
      `insert into sip_devices (device_id, device, node, registered_until) values (?, ?, ?, ?)
       on conflict (device_id) do update set device = excluded.device, node = excluded.node
         ${setRegistration ? ', registered_until = excluded.registered_until' : ''}`,
      device.deviceId,
      JSON.stringify(device),
      JSON.stringify(node),
      until,
    );
  }
}

function toRoute(row: Row): SipDeviceRoute {
  return { device: JSON.parse(row.device) as SipDevice, node: JSON.parse(row.node) as SipGatewayNode, registeredUntil: row.registered_until };
}
