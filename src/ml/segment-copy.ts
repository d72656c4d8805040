// A segment with layers and weights of its own: what a run trains instead of the shared pretrained
// network. The copy starts from the same values and parts from them the first time it trains.

import * as tf from '@tensorflow/tfjs';
import { LabError } from '../core/errors';
import type { Segment, SegmentLayer } from './segments';

type Layer = SegmentLayer['layer'];
type SymbolicTensor = ReturnType<typeof tf.input>;

/** The shapes a layer of the original network was called with (one per input). */
function callShapes(layer: Layer): (number | null)[][] {
  const node = layer.inboundNodes[0];
  if (!node) throw new LabError('model/incompatible', `Layer ${layer.name} was never called: its input shape is unknown.`);
  return node.inputShapes.length > 0 && Array.isArray(node.inputShapes[0]) ? (node.inputShapes as (number | null)[][]) : [node.inputShapes as unknown as (number | null)[]];
}

function newLayerLike(layer: Layer): Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry) throw new LabError('model/incompatible', `Layer ${layer.name} is a ${layer.getClassName()}, which tfjs cannot build again.`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, layer.getConfig()) as unknown as Layer;
}

/**
 * New layers with the segment's configuration and weights. Building them symbolically gives each
 * weight the scoped name Keras would ('res5c_branch2a/kernel'). The values are shared until a
 * weight is first assigned: nothing in the lab writes a tensor's data in place (optimizer updates,
 * BatchNorm's moving averages and rollbacks all assign new tensors), so the source is never changed.
 */
export function copySegment(segment: Segment): Segment {
  const outputs = new Map<string, SymbolicTensor>();
  const first = segment.layers[0]!;
  outputs.set(segment.inputName, tf.input({ batchShape: callShapes(first.layer)[0]! }));
  const layers = segment.layers.map((original): SegmentLayer => {
    const layer = newLayerLike(original.layer);
    const args = original.inputs.map((name) => outputs.get(name)!);
    outputs.set(original.layer.name, layer.apply(args.length === 1 ? args[0]! : args) as SymbolicTensor);
    layer.setWeights(original.layer.getWeights());
    return { ...original, layer };
  });
  return { ...segment, layers };
}

/** Frees a copy's weights (never call it on a segment of the pretrained network). */
export function disposeSegmentCopy(segment: Segment): void {
  for (const { layer } of segment.layers) for (const weight of layer.weights) weight.dispose();
}
