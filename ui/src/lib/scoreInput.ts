// Typing a score with the keyboard on the review page: digits, "." for halves, Backspace.

/** The pending text after a key, or null when the key is not part of a score. */
export function applyScoreKey(pending: string, key: string): string | null {
  if (/^[0-9]$/.test(key)) {
    // After a ".", one decimal is enough ("1.5"); a new digit then starts over.
    if (/\.\d$/.test(pending)) return key;
    return pending.length >= 4 ? pending : pending + key;
  }
  if (key === '.' || key === ',') {
    if (pending.includes('.')) return pending;
    return pending === '' ? '0.' : `${pending}.`;
  }
  if (key === 'Backspace') return pending.slice(0, -1);
  return null;
}

/** The score the pending text stands for ("1." → 1, "" → null). */
export function parsePending(pending: string): number | null {
  if (pending === '') return null;
  const n = Number(pending.endsWith('.') ? pending.slice(0, -1) : pending);
  return Number.isFinite(n) ? n : null;
}

/** Why a score cannot be used for this question, as a sentence, or null when it is fine. */
export function scoreProblem(score: number, maxPoints: number): string | null {
  if (score < 0 || score > maxPoints) return `Enter a score between 0 and ${maxPoints}.`;
  return null;
}
