import { describe, expect, it } from 'vitest';
import { LabError, serializeError } from '../../../src/core/errors';

describe('serializeError', () => {
  it('keeps code, message and file of a LabError', () => {
    expect(serializeError(new LabError('model/truncated', 'short', 'a.bin'))).toEqual({ code: 'model/truncated', message: 'short', file: 'a.bin' });
  });
  it('turns anything else into an internal error with its message', () => {
    expect(serializeError(new TypeError('boom'))).toEqual({ code: 'internal', message: 'boom' });
    expect(serializeError('plain')).toEqual({ code: 'internal', message: 'plain' });
  });
});
