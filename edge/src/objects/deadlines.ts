/**
 * A Durable Object has one alarm; objects serve several deadlines with it (ring timeout, grace
 * periods, retries of durable writes, clean-up). Each concern says when it is next due (or null);
 * the alarm is set to the earliest, or deleted when none is due.
 */
export async function setAlarmToEarliest(storage: DurableObjectStorage, deadlines: readonly (number | null | undefined)[]): Promise<number | null> {
  const due = deadlines.filter((at): at is number => typeof at === 'number' && Number.isFinite(at));
  if (due.length === 0) {
    await storage.deleteAlarm();
    return null;
  }
  const at = Math.min(...due);
  await storage.setAlarm(at);
  return at;
}
