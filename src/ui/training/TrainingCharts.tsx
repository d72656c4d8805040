// Live charts of a run: loss per step (raw and smoothed) and per epoch, accuracy per epoch,
// per-class precision / recall / F1, and a confusion matrix whose cells list their images. Every
// mid-run change is a labelled vertical mark. The axes follow TensorBoard's: a loss from 0 (or on a
// log scale), a fraction from 0 to 1; every chart downloads as CSV, SVG and PNG.

import { memo, useDeferredValue, useMemo, useRef, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChangeRecord, EpochRecord, RunInfo, StepRecord } from '../../state/lab-state';
import { useTrainingThrottled } from '../../state/hooks';
import { TopLosses } from './TopLosses';
import { PlainTick } from '../PlainTick';
import { Staggered, useStages } from '../Staggered';
import { DEFAULT_SMOOTHING, MAX_SMOOTHING, stepSeries, type SeriesPoint } from './downsample';
import { changeMarks } from './format';
import { formatPercentTick, formatTick, FRACTION_AXIS, lossAxis, TICK_FONT_PX, type LossScale } from './charts/axis';
import { ChartDownloads } from './charts/ChartDownloads';
import { chartA11y, tooltipValue, useHovered, yAxisProps } from './charts/chart-parts';
import { chartSvg } from './charts/chart-export';
import { classesCsv, epochsCsv, stepsCsv } from './charts/chart-csv';
import { ConfusionMatrix } from './charts/ConfusionMatrix';
import { abbreviate } from './charts/confusion';
import { classesSummary, epochsSummary, stepsSummary } from './charts/summaries';
import './charts/charts.css';

const COLORS = { train: '#2f6fde', validation: '#d9480f', raw: '#b8c7e8', precision: '#2f6fde', recall: '#2b8a3e', f1: '#d9480f' };

const MAX_EPOCH_DOTS = 40;
/** Class names under the per-class bars are cut to this many characters (the tooltip names them in full). */
const CLASS_TICK_CHARS = 10;

type Key = [label: string, color: string][];

// Mounting a recharts chart is the heaviest thing the page does while a run trains: its store
// re-renders the chart once per part that registers itself. recharts' own Legend also measures
// itself and renders the chart again, so the key is plain HTML; the Tooltip is mounted when the
// pointer first comes over the chart, not with it. The axes show all of their (about five) nice
// ticks, `interval={0}`, as plain text (PlainTick): thinning them out, and recharts' own labels,
// measure every label's text in the DOM on each render. The y ticks are computed here (axis.ts),
// so the axis's width can be too.
//
// The parts the live and the compare charts share (accessibility, hover, y axis) are in
// charts/chart-parts.ts.

function ChartKey({ items }: { items: Key }) {
  return (
    <ul className="chart-key">
      {items.map(([label, color]) => (
        <li key={label}>
          <span className="swatch" style={{ background: color }} />
          {label}
        </li>
      ))}
    </ul>
  );
}

function ChangeMarks({ changes, x }: { changes: ChangeRecord[]; x: (change: ChangeRecord) => number }) {
  return (
    <>
      {changeMarks(changes, x).map((mark) => (
        <ReferenceLine
          key={mark.x}
          x={mark.x}
          stroke="#888"
          strokeDasharray="4 3"
          label={{ value: mark.label, position: 'insideTopLeft', fontSize: 11, fill: '#555' }}
          className="change-mark"
        />
      ))}
    </>
  );
}

function ScaleToggle({ scale, onChange }: { scale: LossScale; onChange: (scale: LossScale) => void }) {
  return (
    <label title="A log scale shows the late, small changes of a loss that fell by orders of magnitude">
      <input type="checkbox" checked={scale === 'log'} onChange={(event) => onChange(event.target.checked ? 'log' : 'linear')} data-testid="loss-scale" /> log scale
    </label>
  );
}


/** On a log axis a loss of 0 has no place: it is left out, as TensorBoard does. */
const onLogAxis = (value: number | null, scale: LossScale) => (scale === 'log' && value !== null && !(value > 0) ? null : value);

function stepLabel(point: SeriesPoint | undefined): string {
  if (!point) return '';
  return point.from === point.step ? `step ${point.step}` : `steps ${point.from}–${point.step} (mean loss)`;
}

const StepChart = memo(function StepChart({ steps, changes }: { steps: StepRecord[]; changes: ChangeRecord[] }) {
  const [smoothing, setSmoothing] = useState(DEFAULT_SMOOTHING);
  const [scale, setScale] = useState<LossScale>('linear');
  const figure = useRef<HTMLElement>(null);
  // Counted from 1, as the progress line counts them.
  const data = useMemo(() => stepSeries(steps, undefined, smoothing).map((point) => ({ ...point, step: point.step + 1, from: point.from + 1 })), [steps, smoothing]);
  const axis = useMemo(() => lossAxis(data.flatMap((p) => [p.loss, p.smoothed]), scale), [data, scale]);
  const plotted = useMemo(() => (scale === 'log' ? data.map((p) => ({ ...p, loss: onLogAxis(p.loss, scale), smoothed: onLogAxis(p.smoothed, scale) })) : data), [data, scale]);
  // With class weighting on, a step's loss is the weighted objective; the epoch chart's is not.
  const weighted = useMemo(() => steps.some((s) => s.classWeights.some((w) => w !== s.classWeights[0])), [steps]);
  const { hovered, hoverProps } = useHovered();
  // The page's first chart mounts on code the browser has not compiled yet: the chart alone, then
  // its grid and axes, then its lines and marks, each in a turn of its own.
  const stage = useStages(3, 0);
  const key: Key = [['loss', COLORS.raw], ['smoothed', COLORS.train]];
  const last = data.at(-1);
  return (
    <figure
      className="chart"
      ref={figure}
      data-testid="chart-steps"
      data-points={data.length}
      data-changes={changes.length}
      data-last-loss={last?.loss}
      data-last-smoothed={last?.smoothed}
      data-scale={scale}
      data-y-domain={axis.domain.join(',')}
      {...hoverProps}
    >
      <figcaption>
        Loss per step{weighted && <span className="muted"> (class-weighted, as the optimiser sees it)</span>}
        <ChartKey items={key} />
        <span className="chart-tools">
          <label className="smoothing" title="TensorBoard's smoothing: an exponential moving average, debiased at the start">
            smoothing{' '}
            <input
              type="range"
              min={0}
              max={MAX_SMOOTHING}
              step={0.001}
              value={smoothing}
              onChange={(event) => setSmoothing(Number(event.target.value))}
              data-testid="smoothing"
              aria-label="Smoothing of the step loss"
            />{' '}
            {smoothing.toFixed(3)}
          </label>
          <ScaleToggle scale={scale} onChange={setScale} />
          <ChartDownloads
            name="steps"
            subject="the loss per step"
            csv={() => stepsCsv(steps, changes, smoothing)}
            picture={() => figure.current && chartSvg(figure.current, { title: `Loss per step (smoothing ${smoothing.toFixed(3)})`, key })}
          />
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={plotted} margin={{ top: 16, right: 16, bottom: 0, left: 0 }} {...chartA11y(stepsSummary(steps.length, last, smoothing))}>
          {stage > 1 && <CartesianGrid stroke="#eee" />}
          {stage > 1 && <XAxis tick={PlainTick} dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} interval={0} fontSize={TICK_FONT_PX} />}
          {stage > 1 && <YAxis {...yAxisProps(axis, formatTick, scale)} />}
          {hovered && <Tooltip formatter={tooltipValue} labelFormatter={(_, payload) => stepLabel(payload[0]?.payload as SeriesPoint | undefined)} />}
          {stage > 2 && <Line dataKey="loss" name="loss" stroke={COLORS.raw} dot={false} isAnimationActive={false} />}
          {stage > 2 && <Line dataKey="smoothed" name="smoothed" stroke={COLORS.train} dot={false} strokeWidth={2} isAnimationActive={false} />}
          {stage > 2 && <ChangeMarks changes={changes} x={(c) => c.step + 1} />}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});

const EpochChart = memo(function EpochChart({ metric, epochs, changes, run }: { metric: 'loss' | 'accuracy'; epochs: EpochRecord[]; changes: ChangeRecord[]; run: RunInfo }) {
  const [scale, setScale] = useState<LossScale>('linear');
  const figure = useRef<HTMLElement>(null);
  const data = useMemo(
    () =>
      epochs.map((e) => ({
        epoch: e.epoch + 1,
        train: metric === 'loss' ? e.train.loss : e.train.metrics.accuracy,
        validation: e.validation ? (metric === 'loss' ? e.validation.loss : e.validation.metrics.accuracy) : null,
      })),
    [epochs, metric],
  );
  const lossScale = metric === 'loss' ? scale : 'linear';
  const axis = useMemo(() => (metric === 'loss' ? lossAxis(data.flatMap((p) => [p.train, p.validation]), lossScale) : FRACTION_AXIS), [data, metric, lossScale]);
  const plotted = useMemo(
    () => (lossScale === 'log' ? data.map((p) => ({ ...p, train: onLogAxis(p.train, lossScale), validation: onLogAxis(p.validation, lossScale) })) : data),
    [data, lossScale],
  );
  const perEpoch = run.stepsPerEpoch;
  // A dot per epoch while they can be told apart; a long run is a line (and hundreds fewer elements).
  const dots = data.length <= MAX_EPOCH_DOTS;
  const { hovered, hoverProps } = useHovered();
  const title = metric === 'loss' ? 'Loss per epoch' : 'Accuracy per epoch';
  const key: Key = [['train', COLORS.train], ['validation', COLORS.validation]];
  const format = metric === 'loss' ? formatTick : formatPercentTick;
  const value = metric === 'loss' ? tooltipValue : (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : String(v ?? ''));
  return (
    <figure className="chart" ref={figure} data-testid={`chart-epoch-${metric}`} data-points={data.length} data-scale={lossScale} data-y-domain={axis.domain.join(',')} {...hoverProps}>
      <figcaption>
        {title}
        {metric === 'loss' && <span className="muted"> (unweighted)</span>}
        <ChartKey items={key} />
        <span className="chart-tools">
          {metric === 'loss' && <ScaleToggle scale={scale} onChange={setScale} />}
          <ChartDownloads
            name={`epoch-${metric}`}
            subject={`the ${metric} per epoch`}
            csv={() => epochsCsv(epochs, metric)}
            picture={() => figure.current && chartSvg(figure.current, { title, key })}
          />
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={plotted} margin={{ top: 16, right: 16, bottom: 0, left: 0 }} {...chartA11y(epochsSummary(metric, data))}>
          <CartesianGrid stroke="#eee" />
          <XAxis tick={PlainTick} dataKey="epoch" type="number" domain={[0.5, 'dataMax']} allowDecimals={false} interval={0} fontSize={TICK_FONT_PX} />
          <YAxis {...yAxisProps(axis, format, lossScale)} />
          {hovered && <Tooltip formatter={value} labelFormatter={(epoch) => `epoch ${epoch}`} />}
          <Line dataKey="train" name="train" stroke={COLORS.train} dot={dots} isAnimationActive={false} />
          <Line dataKey="validation" name="validation" stroke={COLORS.validation} dot={dots} isAnimationActive={false} />
          <ChangeMarks changes={changes} x={(c) => c.step / perEpoch} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});

const ClassMetricsChart = memo(function ClassMetricsChart({ run, epoch }: { run: RunInfo; epoch: EpochRecord }) {
  const figure = useRef<HTMLElement>(null);
  const { perClass, macroF1, count } = epoch.validation!.metrics;
  const data = perClass.map((m, c) => ({ name: run.classNames[c]!, precision: m.precision, recall: m.recall, f1: m.f1 }));
  const { hovered, hoverProps } = useHovered();
  const key: Key = [['precision', COLORS.precision], ['recall', COLORS.recall], ['F1', COLORS.f1]];
  const title = `Validation per class, epoch ${epoch.epoch + 1}`;
  return (
    <figure className="chart" ref={figure} data-testid="chart-classes" data-points={data.length} {...hoverProps}>
      <figcaption>
        {title} (macro-F1 {macroF1.toFixed(2)} on {count} images; the smallest class has {Math.min(...perClass.map((m) => m.support))})
        <ChartKey items={key} />
        <span className="chart-tools">
          <ChartDownloads
            name="classes"
            subject="the per-class metrics"
            csv={() => classesCsv(run.classNames, perClass)}
            picture={() => figure.current && chartSvg(figure.current, { title, key })}
          />
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }} {...chartA11y(classesSummary(epoch.epoch + 1, data))}>
          <CartesianGrid stroke="#eee" />
          <XAxis tick={PlainTick} dataKey="name" interval={0} fontSize={TICK_FONT_PX} tickFormatter={(name) => abbreviate(String(name), CLASS_TICK_CHARS)} />
          <YAxis {...yAxisProps(FRACTION_AXIS, formatTick)} />
          {hovered && <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : v)} />}
          <Bar dataKey="precision" fill={COLORS.precision} isAnimationActive={false} />
          <Bar dataKey="recall" fill={COLORS.recall} isAnimationActive={false} />
          <Bar dataKey="f1" name="F1" fill={COLORS.f1} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
});

interface ChartsProps {
  run: RunInfo;
  steps: StepRecord[];
  epochs: EpochRecord[];
  changes: ChangeRecord[];
  /**
   * The open dataset's run (default): the confusion matrix's cells open their images, and the top
   * losses offer to leave each out. A stored run's images may not be open: its charts alone.
   */
  live?: boolean;
}

/** Every chart of a run, from its records: the live run's, or a stored one's. */
export const Charts = memo(function Charts({ run, steps, epochs, changes, live = true }: ChartsProps) {
  const last = epochs.at(-1);
  return (
    <div className="charts">
      <Staggered order={0} placeholderHeight={240}>
        <StepChart steps={steps} changes={changes} />
      </Staggered>
      <div className="chart-row">
        <Staggered order={1} placeholderHeight={220}>
          <EpochChart metric="loss" epochs={epochs} changes={changes} run={run} />
        </Staggered>
        <Staggered order={2} placeholderHeight={220}>
          <EpochChart metric="accuracy" epochs={epochs} changes={changes} run={run} />
        </Staggered>
      </div>
      {last?.validation && (
        <div className="chart-row">
          <Staggered order={3} placeholderHeight={220}>
            <ClassMetricsChart run={run} epoch={last} />
          </Staggered>
          <Staggered order={4} placeholderHeight={220}>
            <ConfusionMatrix run={run} epoch={last} showImages={live} />
          </Staggered>
        </div>
      )}
      {live && last?.validation && <TopLosses run={run} epoch={last} />}
    </div>
  );
});

export function TrainingCharts() {
  // A cached run ends a step every few milliseconds: the charts follow it 5 times a second.
  const training = useTrainingThrottled();
  // Drawing the charts is the page's heaviest work: a deferred render yields to input, and each
  // chart then commits in a turn of its own (Staggered).
  const deferred = useDeferredValue(training);
  // Mounted as soon as the run starts (empty), so the first steps only update them.
  if (!deferred.run) return null;
  return <Charts run={deferred.run} steps={deferred.steps} epochs={deferred.epochs} changes={deferred.changes} />;
}
