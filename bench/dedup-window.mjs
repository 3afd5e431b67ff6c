// Agent B's duplicate-suppression window at capacity: CPU per delivered message of `DedupWindow.remember` (evicts the
// least recently used key through a long-lived Map iterator) against the same LRU evicting through a fresh
// `keys().next()` (the implementation before), measured in this run. Usage: node bench/dedup-window.mjs
// (after `bash scripts/setup.sh`, which builds packages/agent/dist).
import { DedupWindow } from '../packages/agent/dist/delivery/dedup-window.js';

/** The previous eviction: a fresh iterator per eviction walks over every key deleted since the last compaction. */
class FreshIteratorWindow {
  #keys = new Map();
  constructor(capacity) {
    this.capacity = capacity;
  }
  remember(key) {
    this.#keys.delete(key);
    this.#keys.set(key, true);
    if (this.#keys.size > this.capacity) this.#keys.delete(this.#keys.keys().next().value);
  }
}

const CAPACITY = 100_000; // DMR_DEDUP_WINDOW_SIZE default
const OPS = 200_000;
const sender = 'ec-a-175efc44-9907-41e8-a9ae-75ccc356b64a';

function microsPerRemember(window) {
  let i = 0;
  for (; i < CAPACITY; i++) window.remember(`${sender}:warm-${i}`);
  const started = performance.now();
  for (let n = 0; n < OPS; n++, i++) window.remember(`${sender}:msg-${i}`);
  return ((performance.now() - started) * 1000) / OPS;
}

for (let round = 1; round <= 3; round++) {
  const fresh = microsPerRemember(new FreshIteratorWindow(CAPACITY));
  const kept = microsPerRemember(new DedupWindow(CAPACITY));
  console.log(
    `round ${round}: capacity ${CAPACITY}, ${OPS} deliveries: fresh iterator ${fresh.toFixed(2)} µs, DedupWindow ${kept.toFixed(2)} µs per remember (${(fresh / kept).toFixed(1)}× less)`,
  );
}
