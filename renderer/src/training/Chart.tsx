// A live line chart on uPlot: created once, fed with setData as points arrive,
// resized with its box. Series that share a scale share an axis.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { observeSize } from '../resizeObserver.js';

export interface ChartSeries {
  label: string;
  color: string;
  /** 'y' (left axis) or 'y2' (right axis, 0..1 for accuracies). */
  scale?: 'y' | 'y2';
  dash?: number[];
  points?: boolean;
}

export interface ChartProps {
  title: string;
  xLabel: string;
  series: ChartSeries[];
  /** [x, ...one array per series]; null: a gap. */
  data: uPlot.AlignedData;
  /** Changes whenever `data` changed in place. */
  version: number;
  testId?: string;
  /** Only integers on the x axis (epochs). */
  integerX?: boolean;
}

const AXIS = { stroke: '#8b93a1', grid: { stroke: '#2a2f38', width: 1 }, ticks: { stroke: '#343a45', width: 1 }, font: '10px system-ui, sans-serif' };

export function Chart({ title, xLabel, series, data, version, testId, integerX }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;
  const shape = series.map((s) => `${s.label}:${s.scale ?? 'y'}`).join('|');

  useEffect(() => {
    const el = box.current!;
    const hasY2 = series.some((s) => s.scale === 'y2');
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: Math.max(100, el.clientHeight - 4),
      legend: { show: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: { auto: true }, ...(hasY2 ? { y2: { range: [0, 1] as uPlot.Range.MinMax } } : {}) },
      axes: [
        {
          ...AXIS,
          label: xLabel,
          labelSize: 14,
          labelFont: AXIS.font,
          ...(integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u: uPlot, v: number[]) => v.map((x) => String(x + 1)) } : {}),
        },
        { ...AXIS, scale: 'y', size: 46 },
        ...(hasY2 ? [{ ...AXIS, scale: 'y2', side: 1, size: 36, grid: { show: false } }] : []),
      ],
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          scale: s.scale ?? 'y',
          dash: s.dash,
          spanGaps: true,
          points: { show: s.points ?? false, size: 5 },
        })),
      ],
    };
    // Mounted through the callback, not `new uPlot(opts, data, el)`: uPlot tests the
    // target with `instanceof HTMLElement`, false for a detached dock window's elements.
    plot.current = new uPlot(opts, latest.current, (u, init) => {
      el.appendChild(u.root);
      init();
    });
    const unobserve = observeSize(el, () => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: Math.max(100, el.clientHeight - 4) }));
    return () => {
      unobserve();
      plot.current?.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its series change; data flows through setData.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, xLabel]);

  useEffect(() => {
    const p = plot.current;
    if (!p) return;
    p.setData(data);
    // Epochs: whole numbers from the first, even with a single point.
    if (integerX) p.setScale('x', { min: 0, max: Math.max(1, (data[0].at(-1) as number | undefined) ?? 1) });
  }, [data, version, integerX]);

  return (
    <div className="chart" data-testid={testId} data-points={data[0].length} data-last={data.map((col) => col.at(-1) ?? '').join(' ')}>
      <div className="chart__title">
        {title}
        <span className="chart__legend">
          {series.map((s) => (
            <span key={s.label}>
              <i style={{ borderTop: `2px ${s.dash ? 'dashed' : 'solid'} ${s.color}` }} />
              {s.label}
            </span>
          ))}
        </span>
      </div>
      <div className="chart__plot" ref={box} />
    </div>
  );
}
