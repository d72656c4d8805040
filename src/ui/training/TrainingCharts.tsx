// Live charts of a run: loss per step (raw and smoothed) and per epoch, accuracy per epoch,
// per-class precision / recall / F1, and a confusion matrix whose cells list their images. Every
// mid-run change is a labelled vertical mark.

import { memo, useDeferredValue, useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChangeInfo, EpochInfo, RunInfo, StepInfo } from '../../state/lab-state';
import { useLabActions, useThumbnails, useTraining } from '../../state/hooks';
import { useObjectUrl } from '../dataset/useObjectUrls';
import { Staggered } from '../Staggered';
import { stepSeries } from './downsample';
import { changeLabel } from './format';

const COLORS = { train: '#2f6fde', validation: '#d9480f', raw: '#b8c7e8', precision: '#2f6fde', recall: '#2b8a3e', f1: '#d9480f' };

function ChangeMarks({ changes, x }: { changes: ChangeInfo[]; x: (change: ChangeInfo) => number }) {
  return (
    <>
      {changes.map((change, i) => (
        <ReferenceLine
          key={i}
          x={x(change)}
          stroke="#888"
          strokeDasharray="4 3"
          label={{ value: changeLabel(change.kind, change.value), position: 'insideTopLeft', fontSize: 11, fill: '#555' }}
          className="change-mark"
        />
      ))}
    </>
  );
}

function StepChart({ steps, changes }: { steps: StepInfo[]; changes: ChangeInfo[] }) {
  const data = useMemo(() => stepSeries(steps), [steps]);
  return (
    <figure className="chart" data-testid="chart-steps" data-points={data.length} data-marks={changes.length}>
      <figcaption>Loss per step</figcaption>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eee" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} />
          <YAxis width={48} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : v)} />
          <Legend />
          <Line dataKey="loss" name="loss" stroke={COLORS.raw} dot={false} isAnimationActive={false} />
          <Line dataKey="smoothed" name="smoothed" stroke={COLORS.train} dot={false} strokeWidth={2} isAnimationActive={false} />
          <ChangeMarks changes={changes} x={(c) => c.step} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

function EpochChart({ metric, epochs, changes, run }: { metric: 'loss' | 'accuracy'; epochs: EpochInfo[]; changes: ChangeInfo[]; run: RunInfo }) {
  const data = epochs.map((e) => ({
    epoch: e.epoch + 1,
    train: metric === 'loss' ? e.trainLoss : e.trainAccuracy,
    validation: e.validation ? (metric === 'loss' ? e.validation.loss : e.validation.metrics.accuracy) : null,
  }));
  const perEpoch = run.stepsPerEpoch;
  return (
    <figure className="chart" data-testid={`chart-epoch-${metric}`} data-points={data.length}>
      <figcaption>{metric === 'loss' ? 'Loss per epoch' : 'Accuracy per epoch'}</figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eee" />
          <XAxis dataKey="epoch" type="number" domain={[0.5, 'dataMax']} allowDecimals={false} />
          <YAxis width={48} domain={metric === 'accuracy' ? [0, 1] : ['auto', 'auto']} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(3) : v)} />
          <Legend />
          <Line dataKey="train" name="train" stroke={COLORS.train} isAnimationActive={false} />
          <Line dataKey="validation" name="validation" stroke={COLORS.validation} isAnimationActive={false} />
          <ChangeMarks changes={changes} x={(c) => c.step / perEpoch} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

function ClassMetricsChart({ run, epoch }: { run: RunInfo; epoch: EpochInfo }) {
  const data = epoch.validation!.metrics.perClass.map((m, c) => ({ name: run.classNames[c], precision: m.precision, recall: m.recall, f1: m.f1 }));
  return (
    <figure className="chart" data-testid="chart-classes" data-points={data.length}>
      <figcaption>
        Validation per class, epoch {epoch.epoch + 1} (macro-F1 {epoch.validation!.metrics.macroF1.toFixed(2)})
      </figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#eee" />
          <XAxis dataKey="name" interval={0} fontSize={11} />
          <YAxis width={40} domain={[0, 1]} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(2) : v)} />
          <Legend />
          <Bar dataKey="precision" fill={COLORS.precision} isAnimationActive={false} />
          <Bar dataKey="recall" fill={COLORS.recall} isAnimationActive={false} />
          <Bar dataKey="f1" name="F1" fill={COLORS.f1} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

const CELL_PREVIEWS = 24;

function Thumb({ path, blob }: { path: string; blob: Blob | undefined }) {
  const url = useObjectUrl(blob);
  return (
    <li title={path}>
      {url ? <img src={url} alt={path} /> : <span className="thumb-pending" />}
      <span>{path.slice(path.lastIndexOf('/') + 1)}</span>
    </li>
  );
}

function CellImages({ paths }: { paths: string[] }) {
  const thumbnails = useThumbnails();
  const shown = paths.slice(0, CELL_PREVIEWS);
  return (
    <ul className="cell-thumbs" data-testid="cell-thumbs">
      {shown.map((path) => (
        <Thumb key={path} path={path} blob={thumbnails[path]} />
      ))}
      {paths.length > shown.length && <li className="muted">and {paths.length - shown.length} more</li>}
    </ul>
  );
}

function ConfusionMatrix({ run, epoch }: { run: RunInfo; epoch: EpochInfo }) {
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
}

interface ChartsProps {
  run: RunInfo;
  steps: StepInfo[];
  epochs: EpochInfo[];
  changes: ChangeInfo[];
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
    </div>
  );
});

export function TrainingCharts() {
  const { run, epochs, steps, changes } = useTraining();
  // Drawing the charts is the page's heaviest work: a deferred render yields to input and never
  // blocks the main thread for long (the store's updates themselves render synchronously).
  const deferred = useDeferredValue({ run, epochs, steps, changes });
  // Mounted as soon as the run starts (empty), so the first steps only update them.
  if (!deferred.run) return null;
  return <Charts run={deferred.run} steps={deferred.steps} epochs={deferred.epochs} changes={deferred.changes} />;
}
