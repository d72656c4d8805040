// Live charts of a run: loss per step (raw and smoothed) and per epoch, accuracy per epoch,
// per-class precision / recall / F1, and a confusion matrix whose cells list their images. Every
// mid-run change is a labelled vertical mark.

import { memo, useDeferredValue, useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChangeRecord, EpochRecord, RunInfo, StepRecord } from '../../state/lab-state';
import { useLabActions, useTrainingThrottled } from '../../state/hooks';
import { CELL_PREVIEWS, CellImages } from './ImageThumbs';
import { TopLosses } from './TopLosses';
import { PlainTick } from '../PlainTick';
import { Staggered, useStages } from '../Staggered';
import { DEFAULT_SMOOTHING, MAX_SMOOTHING, stepSeries } from './downsample';
import { changeMarks } from './format';

const COLORS = { train: '#2f6fde', validation: '#d9480f', raw: '#b8c7e8', precision: '#2f6fde', recall: '#2b8a3e', f1: '#d9480f' };

const MAX_EPOCH_DOTS = 40;

// Mounting a recharts chart is the heaviest thing the page does while a run trains: its store
// re-renders the chart once per part that registers itself. recharts' own Legend also measures
// itself and renders the chart again, so the key is plain HTML; the Tooltip is mounted when the
// pointer first comes over the chart, not with it. The axes show all of their (about five) nice
// ticks, `interval={0}`, as plain text (PlainTick): thinning them out, and recharts' own labels,
// measure every label's text in the DOM on each render.

function ChartKey({ items }: { items: [label: string, color: string][] }) {
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

/** True from the first time the pointer comes over the element that spreads `hoverProps`. */
function useHovered() {
  const [hovered, setHovered] = useState(false);
  return { hovered, hoverProps: hovered ? {} : { onPointerEnter: () => setHovered(true) } };
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

const StepChart = memo(function StepChart({ steps, changes }: { steps: StepRecord[]; changes: ChangeRecord[] }) {
  const [smoothing, setSmoothing] = useState(DEFAULT_SMOOTHING);
  // Counted from 1, as the progress line counts them.
  const data = useMemo(() => stepSeries(steps, undefined, smoothing).map((point) => ({ ...point, step: point.step + 1 })), [steps, smoothing]);
  // With class weighting on, a step's loss is the weighted objective; the epoch chart's is not.
  const weighted = useMemo(() => steps.some((s) => s.classWeights.some((w) => w !== s.classWeights[0])), [steps]);
  const { hovered, hoverProps } = useHovered();
  // The page's first chart mounts on code the browser has not compiled yet: the chart alone, then
  // its grid and axes, then its lines and marks, each in a turn of its own.
  const stage = useStages(3, 0);
  return (
    <figure
      className="chart"
      data-testid="chart-steps"
      data-points={data.length}
      data-changes={changes.length}
      data-last-loss={data.at(-1)?.loss}
      data-last-smoothed={data.at(-1)?.smoothed}
      {...hoverProps}
    >
      <figcaption>
        Loss per step{weighted && <span className="muted"> (class-weighted, as the optimiser sees it)</span>}
        <ChartKey items={[['loss', COLORS.raw], ['smoothed', COLORS.train]]} />
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
      </figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }}>
          {stage > 1 && <CartesianGrid stroke="#eee" />}
          {stage > 1 && <XAxis tick={PlainTick} dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} interval={0} />}
          {stage > 1 && <YAxis tick={PlainTick} width={48} interval={0} />}
          {hovered && <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : v)} />}
          {stage > 2 && <Line dataKey="loss" name="loss" stroke={COLORS.raw} dot={false} isAnimationActive={false} />}
          {stage > 2 && <Line dataKey="smoothed" name="smoothed" stroke={COLORS.train} dot={false} strokeWidth={2} isAnimationActive={false} />}
          {stage > 2 && <ChangeMarks changes={changes} x={(c) => c.step + 1} />}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});

const EpochChart = memo(function EpochChart({ metric, epochs, changes, run }: { metric: 'loss' | 'accuracy'; epochs: EpochRecord[]; changes: ChangeRecord[]; run: RunInfo }) {
  const data = epochs.map((e) => ({
    epoch: e.epoch + 1,
    train: metric === 'loss' ? e.train.loss : e.train.metrics.accuracy,
    validation: e.validation ? (metric === 'loss' ? e.validation.loss : e.validation.metrics.accuracy) : null,
  }));
  const perEpoch = run.stepsPerEpoch;
  // A dot per epoch while they can be told apart; a long run is a line (and hundreds fewer elements).
  const dots = data.length <= MAX_EPOCH_DOTS;
  const { hovered, hoverProps } = useHovered();
  return (
    <figure className="chart" data-testid={`chart-epoch-${metric}`} data-points={data.length} {...hoverProps}>
      <figcaption>
        {metric === 'loss' ? 'Loss per epoch' : 'Accuracy per epoch'}
        {metric === 'loss' && <span className="muted"> (unweighted)</span>}
        <ChartKey items={[['train', COLORS.train], ['validation', COLORS.validation]]} />
      </figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eee" />
          <XAxis tick={PlainTick} dataKey="epoch" type="number" domain={[0.5, 'dataMax']} allowDecimals={false} interval={0} />
          <YAxis tick={PlainTick} width={48} domain={metric === 'accuracy' ? [0, 1] : ['auto', 'auto']} interval={0} />
          {hovered && <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : v)} />}
          <Line dataKey="train" name="train" stroke={COLORS.train} dot={dots} isAnimationActive={false} />
          <Line dataKey="validation" name="validation" stroke={COLORS.validation} dot={dots} isAnimationActive={false} />
          <ChangeMarks changes={changes} x={(c) => c.step / perEpoch} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
});

const ClassMetricsChart = memo(function ClassMetricsChart({ run, epoch }: { run: RunInfo; epoch: EpochRecord }) {
  const data = epoch.validation!.metrics.perClass.map((m, c) => ({ name: run.classNames[c], precision: m.precision, recall: m.recall, f1: m.f1 }));
  const { hovered, hoverProps } = useHovered();
  return (
    <figure className="chart" data-testid="chart-classes" data-points={data.length} {...hoverProps}>
      <figcaption>
        Validation per class, epoch {epoch.epoch + 1} (macro-F1 {epoch.validation!.metrics.macroF1.toFixed(2)} on {epoch.validation!.metrics.count} images; the smallest class has{' '}
        {Math.min(...epoch.validation!.metrics.perClass.map((m) => m.support))})
        <ChartKey items={[['precision', COLORS.precision], ['recall', COLORS.recall], ['F1', COLORS.f1]]} />
      </figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eee" />
          <XAxis tick={PlainTick} dataKey="name" interval={0} fontSize={11} />
          <YAxis tick={PlainTick} width={48} domain={[0, 1]} interval={0} />
          {hovered && <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : v)} />}
          <Bar dataKey="precision" fill={COLORS.precision} isAnimationActive={false} />
          <Bar dataKey="recall" fill={COLORS.recall} isAnimationActive={false} />
          <Bar dataKey="f1" name="F1" fill={COLORS.f1} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
});

const ConfusionMatrix = memo(function ConfusionMatrix({ run, epoch }: { run: RunInfo; epoch: EpochRecord }) {
  const [cell, setCell] = useState<[number, number] | null>(null);
  const { requestThumbnails } = useLabActions();
  const { confusion } = epoch.validation!.metrics;
  const max = Math.max(1, ...confusion.flat());
  const images = cell
    ? run.validationPaths.filter((_, i) => run.validationLabels[i] === cell[0] && epoch.validation!.predictions[i] === cell[1])
    : [];
  return (
    <figure className="chart" data-testid="confusion-matrix">
      <figcaption>Confusion matrix (validation, rows: actual, columns: predicted). Click a cell for its images.</figcaption>
      <table className="confusion">
        <thead>
          <tr>
            <th />
            {run.classNames.map((name) => (
              <th key={name} title={name}>
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {confusion.map((row, actual) => (
            <tr key={actual}>
              <th>{run.classNames[actual]}</th>
              {row.map((count, predicted) => (
                <td
                  key={predicted}
                  className={actual === predicted ? 'diagonal' : undefined}
                  style={{ background: `rgba(47, 111, 222, ${count / max})`, color: count / max > 0.5 ? '#fff' : undefined }}
                  onClick={() => {
                    setCell([actual, predicted]);
                    requestThumbnails(
                      run.validationPaths.filter((_, i) => run.validationLabels[i] === actual && epoch.validation!.predictions[i] === predicted).slice(0, CELL_PREVIEWS),
                    );
                  }}
                  data-testid="confusion-cell"
                >
                  {count}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {cell && (
        <div className="cell-images" data-testid="cell-images">
          <strong>
            {run.classNames[cell[0]]} predicted as {run.classNames[cell[1]]}: {images.length} image{images.length === 1 ? '' : 's'}
          </strong>
          <CellImages paths={images} />
        </div>
      )}
    </figure>
  );
});

interface ChartsProps {
  run: RunInfo;
  steps: StepRecord[];
  epochs: EpochRecord[];
  changes: ChangeRecord[];
}

const Charts = memo(function Charts({ run, steps, epochs, changes }: ChartsProps) {
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
            <ConfusionMatrix run={run} epoch={last} />
          </Staggered>
        </div>
      )}
      {last?.validation && <TopLosses run={run} epoch={last} />}
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
