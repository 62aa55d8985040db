/**
 * Sends writes together when they come faster than the database takes them (`send`: one statement for many), like
 * a database's group commit: a write made while fewer than `maxInFlight` batches are out goes at once, alone; the
 * writes made while they are out wait and go together as soon as one returns. So a lone write waits for nothing,
 * and under load the statements per second fall as the writes per second rise.
 */
export class WriteBatcher<Item, Result> {
  private waiting: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    /** Writes the items in one statement; returns each item's result, or the error that item alone was refused with. */
    private readonly send: (items: Item[]) => Promise<(Result | Error)[]>,
    private readonly options: {
      maxItems: number;
      maxInFlight: number;
      /** Items with the same key never share a batch (a run's writes: each must see the one before it done). */
      keyOf: (item: Item) => string;
      /**
       * Whether a batch that failed as a whole certainly wrote nothing and may be sent again one item at a time, so
       * that one item's bad data does not fail the others. A lost connection is not such an error: the batch may
       * have been committed, and each writer gets the error as it would alone.
       */
      retryAlone: (error: unknown) => boolean;
    },
  ) {}

  write(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.sendBatch(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  /** The next batch: up to maxItems waiting items in order, at most one per key (a later one waits for the next). */
  private takeBatch(): typeof this.waiting {
    const batch: typeof this.waiting = [];
    const keys = new Set<string>();
    const left: typeof this.waiting = [];
    for (const waiting of this.waiting) {
      const key = this.options.keyOf(waiting.item);
      if (batch.length < this.options.maxItems && !keys.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else {
        left.push(waiting);
      }
    }
    this.waiting = left;
    return batch;
  }

  private async sendBatch(batch: typeof this.waiting): Promise<void> {
    let results: (Result | Error)[];
    try {
      results = await this.send(batch.map(({ item }) => item));
    } catch (error) {
      if (batch.length > 1 && this.options.retryAlone(error)) {
        await Promise.all(batch.map((one) => this.sendBatch([one])));
        return;
      }
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ resolve, reject }, index) => {
      const result = results[index]!;
      if (result instanceof Error) reject(result);
      else resolve(result);
    });
  }
}
