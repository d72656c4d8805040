// "Why isn't it improving?": the diagnostics' findings, most likely cause first, each with its
// evidence and, where one exists, a one-click fix.

import { memo, useDeferredValue, useState } from 'react';
import { Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Evidence, Finding, Fix } from '../../state/lab-state';
import { useDiagnostics, useLabActions, useThumbnails, useTrainingStatus } from '../../state/hooks';
import { useObjectUrl } from '../dataset/useObjectUrls';
import { PlainTick } from '../PlainTick';
import { ImageReview } from '../review/ImageReview';
import { Staggered } from '../Staggered';

const STAGE_TEXT = {
  'before-training': 'Checked before the first step',
  'during-training': 'Updated after every epoch',
  'after-training': 'After the run',
} as const;

function EvidenceImage({ path }: { path: string }) {
  const thumbnails = useThumbnails();
  const url = useObjectUrl(thumbnails[path]);
  return <li title={path}>{url ? <img src={url} alt={path} /> : <span className="thumb-pending" />}</li>;
}

/** A small chart, drawn when opened: findings arrive while training runs, and a chart is the heavy part. */
function SeriesEvidence({ evidence }: { evidence: Extract<Evidence, { kind: 'series' }> }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="evidence-series" onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>{evidence.label}</summary>
      {open && (
        <ResponsiveContainer width="100%" height={110}>
          <LineChart data={evidence.points}>
            <XAxis tick={PlainTick} dataKey="x" type="number" domain={['dataMin', 'dataMax']} fontSize={10} interval={0} />
            <YAxis tick={PlainTick} width={40} fontSize={10} interval={0} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? `${v.toFixed(3)}${evidence.unit ? ` ${evidence.unit}` : ''}` : v)} />
            <Line dataKey="y" stroke="#d9480f" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </details>
  );
}

/** The label check's gallery: each suspect to look at, leave out or move, opened from its finding. */
function SuspectsEvidence({ evidence }: { evidence: Extract<Evidence, { kind: 'suspects' }> }) {
  const { requestThumbnails } = useLabActions();
  const rows = evidence.images.map((image) => ({ path: image.id, given: image.given, predicted: image.suggested, loss: image.loss, confidence: image.suggestedProbability }));
  return (
    <details className="evidence-images" data-testid="suspects" onToggle={(event) => (event.currentTarget.open ? requestThumbnails(rows.map((r) => r.path)) : undefined)}>
      <summary>
        {evidence.label}: review {evidence.images.length === 1 ? 'it' : `all ${evidence.images.length}`}
      </summary>
      <ImageReview rows={rows} rowTestId="suspect" />
    </details>
  );
}

function EvidenceView({ evidence }: { evidence: Evidence }) {
  const { requestThumbnails } = useLabActions();
  if (evidence.kind === 'numbers') {
    return (
      <table className="evidence-numbers">
        <tbody>
          {evidence.rows.map((row) => (
            <tr key={row.label}>
              <th>{row.label}</th>
              <td>{row.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  if (evidence.kind === 'series') return <SeriesEvidence evidence={evidence} />;
  if (evidence.kind === 'suspects') return <SuspectsEvidence evidence={evidence} />;
  const shown = evidence.imageIds.slice(0, 12);
  return (
    <details className="evidence-images" onToggle={(event) => (event.currentTarget.open ? requestThumbnails(shown) : undefined)}>
      <summary>
        {evidence.label} ({evidence.imageIds.length})
      </summary>
      <ul className="cell-thumbs">
        {shown.map((path) => (
          <EvidenceImage key={path} path={path} />
        ))}
      </ul>
    </details>
  );
}

/** Fixes a run in progress cannot take: they apply to the next run. */
const NEXT_RUN_FIXES: readonly Fix['kind'][] = ['setNormalization', 'alignValidationSpec', 'dropImages', 'setResize'];

const FindingCard = memo(function FindingCard({ finding, sequence, onApplied }: { finding: Finding; sequence: number; onApplied: (finding: Finding) => void }) {
  const { applyFix, fixAndRestart } = useLabActions();
  const status = useTrainingStatus();
  // The diagnostics update at which this card's fix was applied: until a newer one comes, it is
  // being checked again; after, a finding still here was not cured by it.
  const [appliedAt, setAppliedAt] = useState<number | null>(null);
  const running = status === 'running' || status === 'paused' || status === 'starting';
  const fix = finding.fix;
  const nextRun = fix !== null && NEXT_RUN_FIXES.includes(fix.kind);
  const apply = (restart: boolean) => {
    setAppliedAt(sequence);
    onApplied(finding);
    if (restart) fixAndRestart(fix!);
    else applyFix(fix!);
  };
  const checking = appliedAt === sequence;
  return (
    <li className={`finding finding-${finding.severity}`} data-testid="finding" data-finding-id={finding.id} data-severity={finding.severity} data-applied={appliedAt !== null}>
      <div className="finding-head">
        <span className={`severity severity-${finding.severity}`}>{finding.severity}</span>
        <strong>{finding.title}</strong>
      </div>
      <p>{finding.explanation}</p>
      {finding.evidence.map((evidence, i) => (
        <EvidenceView key={i} evidence={evidence} />
      ))}
      {fix && (
        <div className="finding-actions">
          <button type="button" className="button fix-button" onClick={() => apply(false)} disabled={checking} data-testid="finding-fix">
            {fix.label}
            {running && nextRun ? ' (for the next run)' : ''}
          </button>
          {/* A critical cause dooms the run: fix it and start again in one click. */}
          {finding.severity === 'critical' && fix.kind !== 'restoreBestEpoch' && (
            <button type="button" className="fix-restart" onClick={() => apply(true)} disabled={checking} data-testid="finding-fix-restart">
              {running ? 'Stop, fix and start again' : 'Fix and start'}
            </button>
          )}
          {appliedAt !== null && (
            <span className="ok fix-applied" role="status" data-testid="fix-applied">
              ✓ Applied{checking ? (running && nextRun ? ': it takes effect in the next run' : ': checking again…') : '; the check still sees this'}
            </span>
          )}
        </div>
      )}
    </li>
  );
});

export function DiagnosticsPanel() {
  // Findings arrive while training runs; their charts render deferred, in interruptible chunks.
  const diagnostics = useDeferredValue(useDiagnostics());
  // Findings whose fix was applied here: once a later check no longer raises them, they show as fixed.
  const [applied, setApplied] = useState<{ id: string; title: string; sequence: number }[]>([]);
  // A new dataset or run starts the diagnostics over (null in between): so does this list.
  if (!diagnostics && applied.length > 0) setApplied([]);
  if (!diagnostics) return null;
  const { findings, stage, sequence } = diagnostics;
  const serious = findings.filter((f) => f.severity !== 'info');
  const fixed = applied.filter((a) => a.sequence < sequence && !findings.some((f) => f.id === a.id));
  const onApplied = (finding: Finding) => setApplied((list) => [...list.filter((a) => a.id !== finding.id), { id: finding.id, title: finding.title, sequence }]);
  return (
    <section className="card" aria-labelledby="diagnostics-heading" data-testid="diagnostics-panel" data-stage={stage}>
      <h2 id="diagnostics-heading">
        <span className="step-number">2</span> Check: why isn’t it improving?
      </h2>
      <p className="muted">
        {STAGE_TEXT[stage]}.{' '}
        {serious.length === 0 ? 'Nothing stands in the way of this run.' : `${serious.length} thing${serious.length === 1 ? '' : 's'} to look at, most likely cause first.`}
      </p>
      {fixed.length > 0 && (
        <ul className="fixed-findings" data-testid="fixed-findings">
          {fixed.map((a) => (
            <li key={a.id} className="ok" data-fixed-id={a.id}>
              ✓ Fixed: {a.title}
            </li>
          ))}
        </ul>
      )}
      <ol className="findings">
        {findings.map((finding, i) => (
          <Staggered key={finding.id} order={i} placeholderHeight={120}>
            <FindingCard finding={finding} sequence={sequence} onApplied={onApplied} />
          </Staggered>
        ))}
      </ol>
    </section>
  );
}
