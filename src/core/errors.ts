// Errors with a stable code, so every layer (and the page, across the worker boundary) can say
// something precise about what went wrong and with which file.

export type LabErrorCode =
  | 'backend/unavailable'
  | 'backend/device-lost'
  | 'model/not-found'
  | 'model/invalid'
  | 'model/truncated'
  | 'model/incompatible'
  | 'image/decode-failed'
  | 'image/too-large'
  | 'input/invalid'
  | 'worker/died'
  | 'internal';

export class LabError extends Error {
  override readonly name = 'LabError';

  constructor(
    readonly code: LabErrorCode,
    message: string,
    /** The file the problem is about, when there is one. */
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The plain-data form of an error, as it crosses a worker boundary. */
export interface SerializedError {
  code: LabErrorCode;
  message: string;
  file?: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof LabError) {
    return error.file === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, file: error.file };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message };
}
