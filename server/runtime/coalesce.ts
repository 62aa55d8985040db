/**
 * Wraps a read so that calls with equal arguments made in the same turn of the event loop share one call — as when
 * a worker takes up twenty runs of one agent at once, and each would read the same agent, tools and org settings.
 *
 * The shared call is made at the end of the turn, after every caller asked, never before: a caller never gets a read
 * older than its request (a run claimed after a tool was revoked never sees it granted). The result is shared by
 * every caller of that turn, so callers must treat it as read-only. Errors reach every caller alike.
 */
export function coalescePerTurn<Args extends readonly unknown[], Value>(read: (...args: Args) => Promise<Value>): (...args: Args) => Promise<Value> {
  interface Waiting {
    args: Args;
    promise: Promise<Value>;
    resolve: (value: Value) => void;
    reject: (error: unknown) => void;
  }
  let waiting: Map<string, Waiting> | null = null;
  return (...args) => {
    let turn = waiting;
    if (!turn) {
      const thisTurn = new Map<string, Waiting>();
      turn = waiting = thisTurn;
      setImmediate(() => {
        waiting = null;
        for (const entry of thisTurn.values()) {
          Promise.resolve()
            .then(() => read(...entry.args))
            .then(entry.resolve, entry.reject);
        }
      });
    }
    const key = JSON.stringify(args);
    let entry = turn.get(key);
    if (!entry) {
      let resolve!: (value: Value) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<Value>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      entry = { args, promise, resolve, reject };
      turn.set(key, entry);
    }
    return entry.promise;
  };
}

/**
 * Wraps a read of many keys so that single reads made in the same turn of the event loop become one call with all
 * their keys, made at the end of the turn (after every caller asked, as in coalescePerTurn). `readMany` returns one
 * value per key, in the keys' order.
 */
export function batchPerTurn<Key, Value>(readMany: (keys: Key[]) => Promise<Value[]>): (key: Key) => Promise<Value> {
  let waiting: { key: Key; resolve: (value: Value) => void; reject: (error: unknown) => void }[] | null = null;
  return (key) =>
    new Promise<Value>((resolve, reject) => {
      let turn = waiting;
      if (!turn) {
        const thisTurn: NonNullable<typeof waiting> = [];
        turn = waiting = thisTurn;
        setImmediate(() => {
          waiting = null;
          Promise.resolve()
            .then(() => readMany(thisTurn.map((entry) => entry.key)))
            .then(
              (values) => thisTurn.forEach((entry, index) => entry.resolve(values[index]!)),
              (error: unknown) => thisTurn.forEach((entry) => entry.reject(error)),
            );
        });
      }
      turn.push({ key, resolve, reject });
    });
}
