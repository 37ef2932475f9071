import type { Plugin } from 'vite';

/**
 * The names Object.prototype carries that libraries assign onto their own objects. Under
 * Tauri's `freezePrototype` (Object.prototype frozen, so no script can poison it) such an
 * assignment throws when the object inherits the frozen property — JavaScript's "override
 * mistake": `Foo.prototype.toString = …` gives "Cannot assign to read only property
 * 'toString'". recharts' decimal.js-light, d3-color and d3-format all do it, and the page
 * went blank.
 */
const INHERITED = ['constructor', 'toString', 'valueOf', 'toLocaleString', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable'];

// `obj.name =` (not `==`), where obj is a plain dotted path that does not continue an
// expression (`a[b].x.toString =` is left alone: there the path is not the whole object).
const ASSIGNMENT = new RegExp(String.raw`(?<![\w$.\])])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.(${INHERITED.join('|')})\s*=(?![=>])`, 'g');

/**
 * Rewrites every `obj.toString = value` (and the other inherited names) into a definition
 * followed by the same assignment: `Object.defineProperty(obj, "toString", {…}).toString =
 * value`. defineProperty returns `obj`, and gives it an own writable, enumerable,
 * configurable slot — what the assignment would have made — so the assignment then lands on
 * it whatever the prototype says. Evaluation order is kept: the object first, then the value.
 */
export function defineInsteadOfAssign(code: string): string {
  return code.replace(
    ASSIGNMENT,
    (_all, object: string, name: string) =>
      `Object.defineProperty(${object}, ${JSON.stringify(name)}, { value: undefined, writable: true, enumerable: true, configurable: true }).${name} =`,
  );
}

/**
 * The Vite plugin: every dependency's module is rewritten by [`defineInsteadOfAssign`]
 * (the app's own code never assigns those names). Checked in Chromium with a frozen
 * Object.prototype (`npm run test:ui`) and in the real window (the e2e Statistics step).
 */
export function frozenPrototypeSafe(): Plugin {
  return {
    name: 'gradedesk-frozen-prototype-safe',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('/node_modules/') || !/\.[cm]?js(\?|$)/.test(id)) return null;
      const rewritten = defineInsteadOfAssign(code);
      return rewritten === code ? null : { code: rewritten, map: null };
    },
  };
}
