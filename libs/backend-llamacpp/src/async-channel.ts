/** A one-producer, one-consumer queue: callbacks push, an async iterator pulls. */
export class AsyncChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;

  get finished(): boolean {
    return this.ended || this.failure !== undefined;
  }

  push(item: T): void {
    if (this.finished) return;
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting.resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  end(): void {
    if (this.finished) return;
    this.ended = true;
    this.wake();
  }

  fail(error: unknown): void {
    if (this.finished) return;
    this.failure = { error };
    this.wake();
  }

  private wake(): void {
    if (!this.waiting || this.items.length > 0) return;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (this.failure) waiting.reject(this.failure.error);
    else waiting.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.failure) return Promise.reject(this.failure.error);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = { resolve, reject };
        });
      },
    };
  }
}

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
