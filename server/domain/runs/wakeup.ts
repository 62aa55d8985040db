import { EventEmitter } from "node:events";

/**
 * In-process doorbell: creating a run rings it so an in-process worker starts at once instead of at its next poll.
 * Only a latency optimisation — workers in other processes find runs by polling the database, which owns the state.
 */
const globalForWakeup = globalThis as unknown as { switchboardRunWakeup?: EventEmitter };
const emitter = (globalForWakeup.switchboardRunWakeup ??= new EventEmitter().setMaxListeners(100));

export function signalRunnable(): void {
  emitter.emit("runnable");
}

export function onRunnable(listener: () => void): () => void {
  emitter.on("runnable", listener);
  return () => emitter.off("runnable", listener);
}
