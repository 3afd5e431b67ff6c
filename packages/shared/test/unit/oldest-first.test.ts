import { describe, expect, it } from 'vitest';
import { OldestFirst } from '../../src/collections/oldest-first.js';

describe('OldestFirst', () => {
  it('deletes entries in insertion order, and a re-inserted entry counts as new', () => {
    const map = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    const oldest = new OldestFirst(map);
    expect(oldest.evict()).toBe(true);
    expect([...map.keys()]).toEqual(['b', 'c']);
    map.delete('b');
    map.set('b', 4);
    map.set('d', 5);
    expect(oldest.evict()).toBe(true);
    expect([...map.keys()]).toEqual(['b', 'd']);
    expect(oldest.evict()).toBe(true);
    expect([...map.keys()]).toEqual(['d']);
  });

  it('answers false on an empty map and goes on with entries added afterwards', () => {
    const map = new Map<string, number>();
    const oldest = new OldestFirst(map);
    expect(oldest.evict()).toBe(false);
    map.set('x', 1);
    expect(oldest.evict()).toBe(true);
    expect(oldest.evict()).toBe(false);
    map.set('y', 2);
    map.set('z', 3);
    expect(oldest.evict()).toBe(true);
    expect([...map.keys()]).toEqual(['z']);
  });

  it('keeps to insertion order over many inserts, re-inserts, deletes and table compactions', () => {
    const map = new Map<string, number>();
    const oldest = new OldestFirst(map);
    // reference model: the keys in the map's order, oldest first
    const model: string[] = [];
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let step = 0; step < 30_000; step++) {
      const roll = random();
      if (roll < 0.1 && model.length > 0) {
        const key = model[Math.floor(random() * model.length)] as string;
        map.delete(key);
        map.set(key, step);
        model.splice(model.indexOf(key), 1);
        model.push(key);
      } else if (roll < 0.15 && model.length > 0) {
        // a delete by the owner, not through the evictor
        const key = model[Math.floor(random() * model.length)] as string;
        map.delete(key);
        model.splice(model.indexOf(key), 1);
      } else {
        map.set(`k${step}`, step);
        model.push(`k${step}`);
        if (model.length > 40) {
          expect(oldest.evict()).toBe(true);
          model.shift();
        }
      }
      expect(map.size).toBe(model.length);
    }
    expect([...map.keys()]).toEqual(model);
  });
});
