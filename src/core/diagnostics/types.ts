// What a diagnostic rule reports: a named cause, the evidence behind it and, where one exists, a
// fix the lab can apply in one click. Plain serialisable data, so findings cross the worker
// boundary and live in the store unchanged.

export type Severity = 'info' | 'warning' | 'critical';

/** Evidence the panel can show next to a finding. */
export type Evidence =
  /** A small table of labelled, already formatted values. */
  | { kind: 'numbers'; rows: { label: string; value: string }[] }
  /** A line or bar chart: few enough points to draw as they are. */
  | { kind: 'series'; label: string; points: { x: number; y: number }[]; unit?: string }
  /** Images to open, by dataset path, most telling first. */
  | { kind: 'images'; label: string; imageIds: string[] }
  /** Images whose label the model doubts, each to leave out or move to the class it looks like. */
  | { kind: 'suspects'; label: string; images: SuspectImage[] };

/** One image of a 'suspects' evidence: its class, the class the model prefers, and how sure it is. */
export interface SuspectImage {
  id: string;
  given: string;
  suggested: string;
  /** The probability of the given class, and of the suggested one. */
  givenProbability: number;
  suggestedProbability: number;
  /** −ln of the given class's probability. */
  loss: number;
}

/** A change the lab can make in one click. `label` is the button's text. */
export type Fix =
  | { kind: 'setNormalization'; value: 'caffe'; label: string }
  | { kind: 'alignValidationSpec'; label: string }
  | { kind: 'setClassWeighting'; value: 'balanced'; label: string }
  /** Trainable blocks from the top (TrainingConfig.freezeDepth), optionally with a new head learning rate. */
  | { kind: 'setFreezeDepth'; value: number; learningRate?: number; label: string }
  /** The head's peak learning rate (TrainingConfig.learningRate); the backbone's follows its multiplier. */
  | { kind: 'setLearningRate'; value: number; label: string }
  | { kind: 'dropImages'; imageIds: string[]; label: string }
  | { kind: 'setBatchNormPolicy'; value: 'frozen'; label: string }
  /** How images are fitted into the square input (PreprocessSpec.resize), for the next run. */
  | { kind: 'setResize'; value: 'pad'; label: string }
  /** Early stopping after the fact: the kept model goes back to its weights at `epoch` (0-based), the lowest validation loss. */
  | { kind: 'restoreBestEpoch'; epoch: number; label: string };

export interface Finding {
  /** Stable rule id, 'area/cause' (e.g. 'input/wrong-normalization'); the UI may key on it. */
  id: string;
  severity: Severity;
  /** Short, plain English. */
  title: string;
  /** One or two sentences a non-expert understands, with the numbers. */
  explanation: string;
  evidence: Evidence[];
  fix: Fix | null;
}
