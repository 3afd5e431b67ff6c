/**
 * Deletes a Map's entries oldest first (in insertion order) through one long-lived iterator.
 *
 * A fresh `map.keys().next()` per eviction walks over every entry deleted since V8 last compacted the Map's table,
 * so a bounded Map that evicts on every insert pays for its whole slack each time: 20–40 µs per eviction at 100 000
 * entries (agent B's dedup window, once per delivered message), against well under 1 µs here
 * (`node bench/dedup-window.mjs`). The iterator stays at the oldest live entry: every entry before it was deleted
 * through it, and an entry re-inserted (delete, then set) moves behind it, as the Map's own order does.
 */
export class OldestFirst<K> {
  readonly #map: Map<K, unknown>;
  #cursor: MapIterator<K> | undefined;

  constructor(map: Map<K, unknown>) {
    this.#map = map;
  }

  /** Deletes the oldest entry of the map; false when the map is empty. */
  evict(): boolean {
    // made at the first eviction, so a map still filling up keeps no iterator (and no outgrown tables) alive
    this.#cursor ??= this.#map.keys();
    let oldest = this.#cursor.next();
    // Stryker disable next-line ConditionalExpression: a fresh iterator starts at the same oldest entry the live cursor would give (evict deletes every entry it passes)
    if (oldest.done) {
      // the map was empty at some call; a finished iterator stays finished, so entries added since need a new one
      this.#cursor = this.#map.keys();
      oldest = this.#cursor.next();
      // Stryker disable next-line ConditionalExpression: reached only when the cursor was done, and a live Map cursor is done only when the map is empty
      if (oldest.done) {
        this.#cursor = undefined;
        return false;
      }
    }
    this.#map.delete(oldest.value);
    return true;
  }
}
