// A stored run as it was: its charts from its records, and the findings of its last diagnosis.
// Its images may not be open here, so nothing in it acts on the open dataset.

import type { OpenedRun } from '../../state/lab-state';
import { useLabActions } from '../../state/hooks';
import { runInfoOf } from '../../state/stored-run';
import { Charts } from '../training/TrainingCharts';

export function StoredRunView({ run }: { run: OpenedRun }) {
  const { closeStoredRun } = useLabActions();
  const info = runInfoOf(run.log);
  const { findings } = run.log;
  return (
    <div className="stored-run" data-testid="stored-run" data-run-id={run.id} data-steps={run.log.steps.length} data-epochs={run.log.epochs.length}>
      <div className="stored-run-head">
        <h3>{run.name}, as saved</h3>
        <button type="button" className="link-button" onClick={closeStoredRun} data-testid="close-stored-run">
          Close
        </button>
      </div>
      {info ? <Charts run={info} steps={run.log.steps} epochs={run.log.epochs} changes={run.log.changes} live={false} /> : <p className="muted">This run saved no records.</p>}
      <h4>Its findings</h4>
      {findings.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="findings stored-findings">
          {findings.map((finding) => (
            <li key={finding.id} className={`finding finding-${finding.severity}`} data-testid="stored-finding" data-finding-id={finding.id} data-severity={finding.severity}>
              <div className="finding-head">
                <span className={`severity severity-${finding.severity}`}>{finding.severity}</span>
                <strong>{finding.title}</strong>
              </div>
              <p>{finding.explanation}</p>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
