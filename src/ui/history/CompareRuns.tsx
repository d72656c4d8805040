// The run history's comparison: up to five stored runs overlaid on the loss per step, the loss per
// epoch and the validation accuracy, one colour each, and their settings side by side with the
// rows that differ marked.

import { memo, useMemo, type ReactElement } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import {
  compareSeries,
  MAX_COMPARED_RUNS,
  overlayRows,
  settingsTable,
  sharedExtent,
  type ComparedRun,
  type CompareSeries,
  type OverlayLine,
  type SettingsRow,
  type SettingsSection,
} from '../../history/compare';
import { PlainTick } from '../PlainTick';
import { compareAccuracySummary, compareEpochLossSummary, compareStepsSummary } from './compare-summaries';
import { DEFAULT_SMOOTHING, stepSeries } from '../training/downsample';
import { formatPercentTick, formatTick, FRACTION_AXIS, lossAxis, TICK_FONT_PX } from '../training/charts/axis';
import { chartA11y, tooltipValue, useHovered, yAxisProps } from '../training/charts/chart-parts';
import '../training/charts/charts.css';
import './history.css';

/** Points per run on the step chart: five runs of 400 (the live chart's) would be 2,000 to draw. */
const STEP_POINTS_PER_RUN = 300;
/** A dot per epoch while they can be told apart, as on the live charts. */
const MAX_EPOCH_DOTS = 40;
/** The raw loss under each smoothed line, faint as TensorBoard draws it. */
const RAW_LINE_OPACITY = 0.2;
const TRAIN_DASH = '5 4';

const SECTION_TITLES: Record<SettingsSection, string> = {
  settings: "Settings (each run's last segment)",
  data: 'Data and backend',
  results: 'Results',
};
const SECTIONS: readonly SettingsSection[] = ['settings', 'data', 'results'];

/** Every run's x axis from 0 to the longest run's end. */
function xAxisProps(end: number) {
  return { tick: PlainTick, dataKey: 'x', type: 'number', domain: [0, Math.max(1, end)], allowDecimals: false, interval: 0, fontSize: TICK_FONT_PX } as const;
}

const tooltipPercent = (value: unknown) => (typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : String(value ?? ''));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The y values of `pick`, at each epoch. */
function epochPoints(run: CompareSeries, pick: (e: CompareSeries['epochs'][number]) => number | null) {
  return run.epochs.map((e) => ({ x: e.epoch, y: pick(e) }));
}

const hasValue = (points: readonly { y: number | null }[]) => points.some((p) => p.y !== null);
const lastValue = (points: readonly { y: number | null }[]) => points.findLast((p) => p.y !== null)?.y ?? null;

function Figure({ testId, runs, lines, end, title, note, children }: {
  testId: string;
  runs: number;
  /** Solid per-run lines drawn: the ones with class compare-line. */
  lines: number;
  end: number;
  title: string;
  note?: string;
  children: (hovered: boolean) => ReactElement;
}) {
  const { hovered, hoverProps } = useHovered();
  return (
    <figure className="chart" data-testid={testId} data-runs={runs} data-lines={lines} data-x-domain={`0,${Math.max(1, end)}`} {...hoverProps}>
      <figcaption>
        {title}
        {note && <span className="muted"> {note}</span>}
      </figcaption>
      <ResponsiveContainer width="100%" height={220}>
        {children(hovered)}
      </ResponsiveContainer>
    </figure>
  );
}

const StepsChart = memo(function StepsChart({ series, end }: { series: readonly CompareSeries[]; end: number }) {
  const drawn = useMemo(
    () =>
      series
        .map((run, i) => ({ run, i, points: stepSeries(run.steps, STEP_POINTS_PER_RUN, DEFAULT_SMOOTHING) }))
        .filter((line) => line.points.length > 0),
    [series],
  );
  const data = useMemo(
    () =>
      overlayRows(
        drawn.flatMap(({ i, points }): OverlayLine[] => [
          { key: `loss${i}`, points: points.map((p) => ({ x: p.step, y: p.loss })) },
          { key: `smoothed${i}`, points: points.map((p) => ({ x: p.step, y: p.smoothed })) },
        ]),
      ),
    [drawn],
  );
  const axis = useMemo(() => lossAxis(drawn.flatMap(({ points }) => points.flatMap((p) => [p.loss, p.smoothed])), 'linear'), [drawn]);
  const summary = compareStepsSummary(
    series.map((run) => ({ name: run.name, steps: run.steps.length, lastSmoothed: drawn.find((line) => line.run === run)?.points.at(-1)?.smoothed ?? null })),
  );
  return (
    <Figure
      testId="compare-steps"
      runs={series.length}
      lines={drawn.length}
      end={end}
      title="Loss per step"
      note={`smoothed (${DEFAULT_SMOOTHING}, TensorBoard's default), the raw loss faint`}
    >
      {(hovered) => (
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }} {...chartA11y(summary)}>
          <CartesianGrid stroke="#eee" />
          <XAxis {...xAxisProps(end)} />
          <YAxis {...yAxisProps(axis, formatTick)} />
          {hovered && <Tooltip formatter={tooltipValue} labelFormatter={(step) => `step ${step}`} />}
          {/* The raw lines first, so that every smoothed line lies over them. */}
          {drawn.map(({ run, i }) => (
            <Line
              key={`loss-${run.id}`}
              dataKey={`loss${i}`}
              stroke={run.color}
              strokeOpacity={RAW_LINE_OPACITY}
              dot={false}
              connectNulls
              tooltipType="none"
              isAnimationActive={false}
              className="compare-line-raw"
            />
          ))}
          {drawn.map(({ run, i }) => (
            <Line
              key={`smoothed-${run.id}`}
              dataKey={`smoothed${i}`}
              name={run.name}
              stroke={run.color}
              strokeWidth={2}
              dot={false}
              connectNulls
              isAnimationActive={false}
              className="compare-line"
            />
          ))}
        </LineChart>
      )}
    </Figure>
  );
});

const EpochLossChart = memo(function EpochLossChart({ series, end }: { series: readonly CompareSeries[]; end: number }) {
  const lines = useMemo(
    () =>
      series.map((run, i) => ({
        run,
        i,
        validation: epochPoints(run, (e) => e.validationLoss),
        train: epochPoints(run, (e) => e.trainLoss),
      })),
    [series],
  );
  const data = useMemo(
    () =>
      overlayRows(
        lines.flatMap(({ i, validation, train }): OverlayLine[] => [
          { key: `validation${i}`, points: validation },
          { key: `train${i}`, points: train },
        ]),
      ),
    [lines],
  );
  const axis = useMemo(() => lossAxis(lines.flatMap((l) => [...l.validation, ...l.train].map((p) => p.y)), 'linear'), [lines]);
  const solid = lines.filter((l) => hasValue(l.validation));
  const dashed = lines.filter((l) => hasValue(l.train));
  const dots = end <= MAX_EPOCH_DOTS;
  const summary = compareEpochLossSummary(
    lines.map(({ run, validation, train }) => ({ name: run.name, epochs: run.epochs.length, lastValidation: lastValue(validation), lastTrain: lastValue(train) })),
  );
  return (
    <Figure testId="compare-epoch-loss" runs={series.length} lines={solid.length} end={end} title="Loss per epoch" note="validation solid, training dashed (unweighted)">
      {(hovered) => (
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }} {...chartA11y(summary)}>
          <CartesianGrid stroke="#eee" />
          <XAxis {...xAxisProps(end)} />
          <YAxis {...yAxisProps(axis, formatTick)} />
          {hovered && <Tooltip formatter={tooltipValue} labelFormatter={(epoch) => `epoch ${epoch}`} />}
          {dashed.map(({ run, i }) => (
            <Line
              key={`train-${run.id}`}
              dataKey={`train${i}`}
              name={`${run.name} (training)`}
              stroke={run.color}
              strokeDasharray={TRAIN_DASH}
              dot={false}
              connectNulls
              isAnimationActive={false}
              className="compare-line-train"
            />
          ))}
          {solid.map(({ run, i }) => (
            <Line
              key={`validation-${run.id}`}
              dataKey={`validation${i}`}
              name={`${run.name} (validation)`}
              stroke={run.color}
              strokeWidth={2}
              dot={dots}
              connectNulls
              isAnimationActive={false}
              className="compare-line"
            />
          ))}
        </LineChart>
      )}
    </Figure>
  );
});

const AccuracyChart = memo(function AccuracyChart({ series, end }: { series: readonly CompareSeries[]; end: number }) {
  const lines = useMemo(() => series.map((run, i) => ({ run, i, points: epochPoints(run, (e) => e.validationAccuracy) })), [series]);
  const data = useMemo(() => overlayRows(lines.map(({ i, points }) => ({ key: `accuracy${i}`, points }))), [lines]);
  const drawn = lines.filter((l) => hasValue(l.points));
  const dots = end <= MAX_EPOCH_DOTS;
  const summary = compareAccuracySummary(lines.map(({ run, points }) => ({ name: run.name, epochs: run.epochs.length, lastValidation: lastValue(points) })));
  return (
    <Figure testId="compare-accuracy" runs={series.length} lines={drawn.length} end={end} title="Validation accuracy per epoch">
      {(hovered) => (
        <LineChart data={data} margin={{ top: 16, right: 16, bottom: 0, left: 0 }} {...chartA11y(summary)}>
          <CartesianGrid stroke="#eee" />
          <XAxis {...xAxisProps(end)} />
          <YAxis {...yAxisProps(FRACTION_AXIS, formatPercentTick)} />
          {hovered && <Tooltip formatter={tooltipPercent} labelFormatter={(epoch) => `epoch ${epoch}`} />}
          {drawn.map(({ run, i }) => (
            <Line
              key={`accuracy-${run.id}`}
              dataKey={`accuracy${i}`}
              name={run.name}
              stroke={run.color}
              strokeWidth={2}
              dot={dots}
              connectNulls
              isAnimationActive={false}
              className="compare-line"
            />
          ))}
        </LineChart>
      )}
    </Figure>
  );
});

function RunKey({ series, onRemove }: { series: readonly CompareSeries[]; onRemove: ((id: string) => void) | undefined }) {
  return (
    <ul className="compare-key" data-testid="compare-key">
      {series.map((run) => (
        <li key={run.id} data-testid="compare-key-item" data-run-id={run.id} data-color={run.color}>
          <span className="swatch" style={{ background: run.color }} aria-hidden="true" />
          <span className="compare-run-name">{run.name}</span>
          {onRemove && (
            <button type="button" className="link-button" onClick={() => onRemove(run.id)} aria-label={`Stop comparing ${run.name}`} data-testid="compare-remove">
              remove
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

function SettingsTable({ series, rows }: { series: readonly CompareSeries[]; rows: readonly SettingsRow[] }) {
  return (
    <div className="compare-table-scroll">
      <table className="compare-settings" data-testid="compare-settings">
        <caption>
          The runs side by side; <span className="compare-differs-sample">rows that differ</span> are in bold on a tint.
        </caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Setting</span>
            </th>
            {series.map((run) => (
              <th key={run.id} scope="col" className="compare-run-head" style={{ borderTopColor: run.color }}>
                <span className="swatch" style={{ background: run.color }} aria-hidden="true" /> {run.name}
              </th>
            ))}
          </tr>
        </thead>
        {SECTIONS.map((section) => {
          const inSection = rows.filter((row) => row.section === section);
          if (inSection.length === 0) return null;
          return (
            <tbody key={section}>
              <tr className="compare-section">
                <th scope="colgroup" colSpan={series.length + 1}>
                  {SECTION_TITLES[section]}
                </th>
              </tr>
              {inSection.map((row) => (
                <tr key={row.label} data-differs={String(row.differs)} className={row.differs ? 'compare-differs' : undefined}>
                  <th scope="row">
                    {row.label}
                    {row.differs && <span className="visually-hidden"> (differs)</span>}
                  </th>
                  {row.values.map((value, i) => (
                    <td key={series[i]!.id} className="compare-value" style={{ borderLeftColor: series[i]!.color }}>
                      {value}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          );
        })}
      </table>
    </div>
  );
}

function Comparison({ runs, onRemove }: { runs: readonly ComparedRun[]; onRemove: ((id: string) => void) | undefined }) {
  const shown = useMemo(() => runs.slice(0, MAX_COMPARED_RUNS), [runs]);
  const series = useMemo(() => compareSeries(shown), [shown]);
  const rows = useMemo(() => settingsTable(shown), [shown]);
  const end = sharedExtent(series);
  return (
    <section className="compare-runs" data-testid="compare-runs" data-runs={shown.length} aria-label="Compared runs">
      <h3>Comparing {plural(shown.length, 'run')}</h3>
      <RunKey series={series} onRemove={onRemove} />
      {shown.length === 1 && (
        <p className="muted" data-testid="compare-hint">
          Pick another run to compare.
        </p>
      )}
      {runs.length > MAX_COMPARED_RUNS && (
        <p className="muted" data-testid="compare-too-many">
          At most {MAX_COMPARED_RUNS} runs are compared: the first {MAX_COMPARED_RUNS} picked are shown.
        </p>
      )}
      <div className="charts">
        <StepsChart series={series} end={end.steps} />
        <div className="chart-row">
          <EpochLossChart series={series} end={end.epochs} />
          <AccuracyChart series={series} end={end.epochs} />
        </div>
      </div>
      <SettingsTable series={series} rows={rows} />
    </section>
  );
}

/** Runs picked in the run history, overlaid; nothing without one. `onRemove` offers to take each out. */
export function CompareRuns({ runs, onRemove }: { runs: readonly ComparedRun[]; onRemove?: (id: string) => void }) {
  if (runs.length === 0) return null;
  return <Comparison runs={runs} onRemove={onRemove} />;
}
