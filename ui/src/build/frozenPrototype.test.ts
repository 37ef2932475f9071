import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { defineInsteadOfAssign } from '../../frozen-prototype';

/** Runs `code` as a strict function body in a fresh realm whose Object.prototype is frozen, as the window's is. */
function runFrozen(code: string): unknown {
  const script = `"use strict"; Object.freeze(Object.prototype); JSON.stringify((function () { ${code} })());`;
  return JSON.parse(runInNewContext(script) as string) as unknown;
}

describe('defineInsteadOfAssign', () => {
  const libraryCode = `
    function Spec() {}
    Spec.prototype.toString = function () { return 'spec'; };
    var P = {};
    P.toString = P.valueOf = P.val = function () { return 'decimal'; };
    var x = Object.create(P); x.constructor = Spec;
    return [new Spec().toString(), P.valueOf(), P.val(), x.constructor === Spec, Object.keys(x)];`;

  it('the libraries\u2019 assignments throw on a frozen prototype as written', () => {
    expect(() => runFrozen(libraryCode)).toThrow(/read only property/);
  });

  it('and work, with the same results, once rewritten', () => {
    expect(runFrozen(defineInsteadOfAssign(libraryCode))).toEqual(['spec', 'decimal', 'decimal', true, ['constructor']]);
  });

  it('leaves comparisons, arrows and expressions it cannot see whole alone', () => {
    for (const code of ['a.toString == b', 'a.valueOf === b', 'f = a.constructor => 1', 'a[b].x.toString = y', 'f().toString = y']) {
      expect(defineInsteadOfAssign(code)).toBe(code);
    }
  });
});
