/**
 * Runs async work one piece at a time, in the order it was queued: a Durable Object's input gate
 * opens at every `await` on I/O, so changes that read, call out and write back must queue. Work
 * queued from inside queued work waits for itself: never nest.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
