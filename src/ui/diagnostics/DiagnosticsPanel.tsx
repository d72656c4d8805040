// "Why isn't it improving?": the diagnostics' findings, most likely cause first, each with its
// evidence and, where one exists, a one-click fix.

import { memo, useDeferredValue, useState } from 'react';
import { Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Evidence, Finding } from '../../state/lab-state';
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

const FindingCard = memo(function FindingCard({ finding }: { finding: Finding }) {
  const { applyFix } = useLabActions();
  const status = useTrainingStatus();
  const running = status === 'running' || status === 'paused';
  const appliesNextRun = finding.fix && ['setNormalization', 'alignValidationSpec', 'dropImages'].includes(finding.fix.kind);
  return (
    <li className={`finding finding-${finding.severity}`} data-testid="finding" data-finding-id={finding.id} data-severity={finding.severity}>
      <div className="finding-head">
        <span className={`severity severity-${finding.severity}`}>{finding.severity}</span>
        <strong>{finding.title}</strong>
      </div>
      <p>{finding.explanation}</p>
      {finding.evidence.map((evidence, i) => (
        <EvidenceView key={i} evidence={evidence} />
      ))}
      {finding.fix && (
        <button type="button" className="button fix-button" onClick={() => applyFix(finding.fix!)} data-testid="finding-fix">
          {finding.fix.label}
          {running && appliesNextRun ? ' (for the next run)' : ''}
        </button>
      )}
    </li>
  );
});

export function DiagnosticsPanel() {
  // Findings arrive while training runs; their charts render deferred, in interruptible chunks.
  const diagnostics = useDeferredValue(useDiagnostics());
  if (!diagnostics) return null;
  const { findings, stage } = diagnostics;
  const serious = findings.filter((f) => f.severity !== 'info');
  return (
    <section className="card" aria-labelledby="diagnostics-heading" data-testid="diagnostics-panel" data-stage={stage}>
      <h2 id="diagnostics-heading">Why isn’t it improving?</h2>
      <p className="muted">
        {STAGE_TEXT[stage]}.{' '}
        {serious.length === 0 ? 'Nothing stands in the way of this run.' : `${serious.length} thing${serious.length === 1 ? '' : 's'} to look at, most likely cause first.`}
      </p>
      <ol className="findings">
        {findings.map((finding, i) => (
          <Staggered key={finding.id} order={i} placeholderHeight={120}>
            <FindingCard finding={finding} />
          </Staggered>
        ))}
      </ol>
    </section>
  );
}
