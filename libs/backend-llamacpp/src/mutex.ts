/** Serialises access to the backend's one context sequence. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** `ready` resolves when it is this caller's turn; call `release` exactly once, even when giving up early. */
  lock(): { ready: Promise<void>; release: () => void } {
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ready = this.tail;
    this.tail = this.tail.then(() => done);
    return { ready, release };
  }

  /** Resolves once every holder so far has released. */
  idle(): Promise<void> {
    return this.tail;
  }
}
