// Head-only fine-tuning on the real stamps6 folder (6 classes, 112 imbalanced RGBA cartoons) with
// the real pretrained weights: validation accuracy must clear the majority-class baseline by far.

import { describe, expect, it } from 'vitest';
import { classCounts } from '../../src/core/class-weights';
import { majorityBaseline } from '../../src/core/metrics';
import { DEFAULT_TRAINING_CONFIG } from '../../src/core/training-config';
import { segmentResNet50 } from '../../src/ml/segments';
import type { EpochRecord } from '../../src/core/run-records';
import { DEFAULT_PREPROCESS_SPEC } from '../../src/core/preprocess-spec';
import { RunModel } from '../../src/ml/run-model';
import { TrainingEngine } from '../../src/ml/training-engine';
import { loadRealModel } from '../helpers/node-model';
import { hasShared } from '../helpers/paths';
import { stampsSplits } from '../helpers/stamps';

// 112 px keeps the one pass of feature extraction to ~10 s on one core; later epochs use the cache.
const SIZE_PX = 112;

describe.skipIf(!hasShared())('head-only fine-tuning on stamps6 (needs ../shared)', () => {
  it('beats the majority-class baseline on validation by a wide margin', async () => {
    const net = segmentResNet50((await loadRealModel()).model);
    const { train, validation, dataset } = stampsSplits(SIZE_PX);
    const epochs: EpochRecord[] = [];
    const model = new RunModel({ base: net, classNames: dataset.classNames, spec: { ...DEFAULT_PREPROCESS_SPEC, sizePx: SIZE_PX } });
    const engine = new TrainingEngine({
      model,
      config: { ...DEFAULT_TRAINING_CONFIG, freezeDepth: 0, epochs: 12, batchSize: 16, learningRate: 3e-3, warmupSteps: 5 },
      hooks: { onEpochEnd: (report) => epochs.push(report), onYield: () => Promise.resolve() },
    });
    const summary = await engine.run(train, validation);
    expect(summary.status).toBe('completed');

    const baseline = majorityBaseline(classCounts(validation.labels, dataset.classNames.length));
    const last = epochs.at(-1)!;
    const accuracy = last.validation!.metrics.accuracy;
    console.info(
      `stamps6 head-only @${SIZE_PX}px: train ${train.size}, validation ${validation.size}; ` +
        `validation accuracy ${accuracy.toFixed(3)} (majority baseline ${baseline.toFixed(3)}), macro-F1 ${last.validation!.metrics.macroF1.toFixed(3)}, ` +
        `loss ${epochs[0]!.train.loss.toFixed(3)} → ${last.train.loss.toFixed(3)}; cache ${last.cache.entries} entries, ${(last.cache.bytes / 1024).toFixed(0)} KiB`,
    );
    expect(accuracy).toBeGreaterThan(baseline + 0.3);
    expect(last.train.loss).toBeLessThan(epochs[0]!.train.loss);
    // Every image went through the frozen backbone once, and only once.
    expect(last.cache.entries).toBe(train.size + validation.size);
    expect(engine.cacheStats().misses).toBe(train.size + validation.size);
    engine.dispose();
    model.dispose();
  });
});
