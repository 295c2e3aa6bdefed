// Summaries of the zoo's per-round figures: the median and how far the rounds spread.

/** Linear-interpolated quantile of `xs` (q in [0, 1]). */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

export const round = (x: number, digits = 0) => +x.toFixed(digits);

/** Median, min, max and interquartile range, rounded to `digits`; `relativeIqr` = IQR / median. */
export function spread(xs: number[], digits = 0) {
  const median = quantile(xs, 0.5);
  const iqr = quantile(xs, 0.75) - quantile(xs, 0.25);
  return {
    median: round(median, digits),
    min: round(Math.min(...xs), digits),
    max: round(Math.max(...xs), digits),
    iqr: round(iqr, digits),
    relativeIqr: round(iqr / median, 3),
  };
}

export const geometricMean = (xs: number[]) => (xs.length ? round(Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length), 3) : null);
