import { describe, expect, it } from 'vitest';
import type { Agreement } from '../api/types';
import { fig, levelBars, pct, rangeBars, shade, slug, suggestedFeedbackFolder, suggestedFile, trust } from './stats';

const agreement = (over: Partial<Agreement>): Agreement => ({
  n: 20,
  exact: 0.8,
  within_one: 1,
  mae: 0.2,
  qwk: 0.9,
  levels: [0, 1, 2],
  confusion: [
    [5, 1, 0],
    [0, 6, 1],
    [0, 2, 5],
  ],
  ...over,
});

describe('statistics figures', () => {
  it('show two decimals or a dash, shares as percentages', () => {
    expect(fig(0.4695)).toBe('0.47');
    expect(fig(null)).toBe('–');
    expect(fig(Number.NaN)).toBe('–');
    expect(pct(0.125)).toBe('13%');
    expect(pct(undefined)).toBe('–');
  });

  it('label bars by level and by range', () => {
    const bins = [
      { lo: -0.25, hi: 0.25, count: 2 },
      { lo: 0.25, hi: 0.75, count: 0 },
    ];
    expect(levelBars(bins)).toEqual([
      { label: '0', count: 2 },
      { label: '0.5', count: 0 },
    ]);
    expect(rangeBars([{ lo: 0, hi: 1.5, count: 3 }])).toEqual([{ label: '0–1.5', count: 3 }]);
  });

  it('shade heatmap cells against the most common one', () => {
    const c = agreement({}).confusion;
    expect(shade(6, c)).toBe(1);
    expect(shade(3, c)).toBe(0.5);
    expect(shade(0, [[0]])).toBe(0);
  });

  it('say whether to trust the AI from kappa and the number reviewed', () => {
    expect(trust(agreement({})).level).toBe('trust');
    expect(trust(agreement({ n: 5 })).level).toBe('check');
    expect(trust(agreement({ n: 5 })).text).toContain('only 5 reviewed');
    expect(trust(agreement({ qwk: 0.3 })).level).toBe('review');
    expect(trust(agreement({ qwk: null })).level).toBe('unknown');
    expect(trust(agreement({ n: 0, qwk: null })).text).toContain('No answer reviewed');
  });

  it('suggest file names that keep accents and drop separators', () => {
    expect(slug('Physics — mid-term')).toBe('Physics-mid-term');
    expect(slug("Zoë's ../ quiz")).toBe('Zoë-s-quiz');
    expect(slug('///')).toBe('exam');
    expect(suggestedFile('/home/t/Downloads/GradeDesk/', 'Physics — mid-term', 'canvas')).toBe(
      '/home/t/Downloads/GradeDesk/Physics-mid-term-canvas.csv',
    );
    expect(suggestedFile('C:\\Users\\t\\Downloads', 'Quiz', 'xlsx')).toBe('C:\\Users\\t\\Downloads\\Quiz-xlsx.xlsx');
    expect(suggestedFeedbackFolder('/d', 'Quiz 1')).toBe('/d/Quiz-1-feedback');
  });
});
