// The colour map from the low to the high end of a scale, with the values at
// its ends and middle: what a colour on a map stands for.
import { cssColor, type ColormapName } from './colormaps.js';
import { fmtValue, ticks, type Range } from './scale.js';

export function ColourBar({ colormap, range, testId }: { colormap: ColormapName; range: Range; testId?: string }) {
  const stops = Array.from({ length: 11 }, (_, i) => `${cssColor(colormap, i / 10)} ${i * 10}%`).join(', ');
  return (
    <div className="colour-bar" data-testid={testId} data-range={range.join(' ')}>
      <span className="colour-bar__scale">
        <span className="colour-bar__ramp" style={{ background: `linear-gradient(to right, ${stops})` }} />
        <span className="colour-bar__ticks num">
          {ticks(range).map((v, i) => (
            <span key={i}>{fmtValue(v)}</span>
          ))}
        </span>
      </span>
    </div>
  );
}
