// Everything the bench starts registers its stop here; `stopAll()` runs them in reverse start order,
// each guarded, and runs once: on success, on error and on Ctrl-C / SIGTERM.
const stoppers = [];
let stopping;

/** Registers `stop` (async) under `label`; returns a function that runs and unregisters it early. */
export function onCleanup(label, stop) {
  const entry = { label, stop, done: undefined };
  stoppers.push(entry);
  return () => {
    entry.done ??= Promise.resolve().then(stop);
    return entry.done;
  };
}

/** Stops everything still registered, newest first. Memoised. */
export function stopAll() {
  stopping ??= (async () => {
    for (const entry of stoppers.reverse()) {
      try {
        entry.done ??= Promise.resolve().then(entry.stop);
        await entry.done;
      } catch (error) {
        console.error(`bench: cleanup of ${entry.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return stopping;
}

/** Installs the signal handlers: the first signal cleans up and exits 130; a second one exits at once. */
export function installSignalHandlers() {
  let signals = 0;
  const onSignal = (signal) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    console.error(`\nbench: ${signal} received, stopping everything it started …`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
