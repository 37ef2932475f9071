import { describe, expect, it } from 'vitest';
import { applyScoreKey, parsePending, scoreProblem } from './scoreInput';

const type = (keys: string[]) => keys.reduce((p, k) => applyScoreKey(p, k) ?? p, '');

describe('score typing', () => {
  it('builds whole and half scores', () => {
    expect(type(['2'])).toBe('2');
    expect(type(['1', '.', '5'])).toBe('1.5');
    expect(type(['.', '5'])).toBe('0.5');
    expect(type(['1', '0'])).toBe('10');
    expect(type(['1', '.', '5', '3'])).toBe('3');
    expect(type(['1', '.', '.'])).toBe('1.');
    expect(type(['2', 'Backspace'])).toBe('');
    expect(applyScoreKey('', 'j')).toBeNull();
  });

  it('parses and checks the range', () => {
    expect(parsePending('')).toBeNull();
    expect(parsePending('1.')).toBe(1);
    expect(parsePending('1.5')).toBe(1.5);
    expect(scoreProblem(3, 2)).toBe('Enter a score between 0 and 2.');
    expect(scoreProblem(2, 2)).toBeNull();
  });
});
