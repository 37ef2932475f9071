import { describe, expect, it } from 'vitest';
import { loadAnonymous, reviewName, saveAnonymous } from './anonymous';

function memoryStore() {
  const data = new Map<string, string>();
  return { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => void data.set(k, v) };
}

describe('anonymous review', () => {
  it('is off until the teacher turns it on, and is remembered', () => {
    const store = memoryStore();
    expect(loadAnonymous(store)).toBe(false);
    saveAnonymous(true, store);
    expect(loadAnonymous(store)).toBe(true);
    saveAnonymous(false, store);
    expect(loadAnonymous(store)).toBe(false);
  });

  it('survives a window whose storage throws', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
    };
    expect(loadAnonymous(broken)).toBe(false);
    expect(() => saveAnonymous(true, broken)).not.toThrow();
  });

  it('shows only the script number when names are hidden', () => {
    expect(reviewName('Núñez, Éloïse', 12, true)).toBe('Script #12');
    expect(reviewName('Núñez, Éloïse', 12, false)).toBe('Núñez, Éloïse');
    expect(reviewName('  ', 12, false)).toBe('Unnamed student');
  });
});
