// The server's clock as the page knows it: each answer carrying `server_time` is a sample; the request's
// round trip is halved (the server read its clock about half-way) and the sample is anchored on the
// monotonic clock (performance.now()), so changing the computer's time changes nothing.

export interface ClockSample {
  /** the server's time in the answer (ISO 8601) */
  serverTime: string
  /** monotonic milliseconds when the request was sent and when its answer arrived */
  sentAt: number
  receivedAt: number
}

export class ServerClock {
  private serverMs: number | null = null
  private anchor = 0
  private rtt = Infinity
  private takenAt = -Infinity

  /** Take a sample. A newer sample replaces the older one unless it is much slower (a long round trip
   * is a poor estimate) and the older one is recent (less than a minute). */
  sync(sample: ClockSample): void {
    const server = Date.parse(sample.serverTime)
    if (Number.isNaN(server) || sample.receivedAt < sample.sentAt) return
    const rtt = sample.receivedAt - sample.sentAt
    const fresh = sample.receivedAt - this.takenAt < 60_000
    if (this.serverMs !== null && fresh && rtt > this.rtt * 4 + 500) return
    this.serverMs = server + rtt / 2
    this.anchor = sample.receivedAt
    this.rtt = rtt
    this.takenAt = sample.receivedAt
  }

  get synced(): boolean {
    return this.serverMs !== null
  }

  /** The uncertainty of the estimate: half the sample's round trip (ms). */
  get uncertainty(): number {
    return this.serverMs === null ? Infinity : this.rtt / 2
  }

  /** The server's time now (ms since the epoch), given the monotonic clock's reading. */
  now(monotonic: number): number {
    if (this.serverMs === null) throw new Error('the server clock has no sample yet')
    return this.serverMs + (monotonic - this.anchor)
  }

  /** Whole seconds from the server's now until `iso` (never below 0). */
  secondsUntil(iso: string, monotonic: number): number {
    const target = Date.parse(iso)
    return Math.max(0, Math.ceil((target - this.now(monotonic)) / 1000))
  }
}
