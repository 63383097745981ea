/**
 * Notices a transport that stopped receiving although it should be busy: `sample` returns true
 * after `limit` samples in a row without new bytes while busy (a sending camera gets constant
 * feedback; a resumed video consumer gets media). Idle samples reset it.
 */
export class StallDetector {
  private last: number | null = null;
  private stalls = 0;

  constructor(private readonly limit = 2) {}

  sample(bytesReceived: number, busy: boolean): boolean {
    const stalled = busy && this.last !== null && bytesReceived <= this.last;
    this.last = bytesReceived;
    this.stalls = stalled ? this.stalls + 1 : 0;
    return this.stalls >= this.limit;
  }
}
