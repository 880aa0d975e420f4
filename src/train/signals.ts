/** A stop request the training loop polls between batches. */
export interface StopSignals {
  /** The first SIGINT/SIGTERM received, or null. */
  readonly received: NodeJS.Signals | null;
  /** Stop listening (the process's default handling returns). */
  dispose(): void;
}

/**
 * Turn SIGINT and SIGTERM into a flag, so that the loop finishes its batch and writes a
 * checkpoint. A second signal while that is under way means "now": exit 130 at once, which loses
 * nothing since every write is atomic.
 */
export function watchStopSignals(): StopSignals {
  let received: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (received) process.exit(130);
    received = sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
