/**
 * The article's sentiment model: 300-dimensional word vectors (an Embedding learned in training, index 0
 * masked as padding) → Bidirectional LSTM(128) → BatchNorm → Bidirectional LSTM(64) → BatchNorm →
 * Dense(1, sigmoid).
 */
import { layers, models, optimizers } from 'gradlab';

/** `lr`: Adam's learning rate (Keras's default 10⁻³). */
export function buildModel(vocabularySize: number, dimensions = 300, lr = 1e-3): models.Sequential {
  const model = new models.Sequential();
  model.add(layers.Embedding(vocabularySize, dimensions, { maskZero: true, inputShape: [null] }));
  model.add(layers.Bidirectional(layers.LSTM(128, { returnSequences: true })));
  model.add(layers.BatchNormalization());
  model.add(layers.Bidirectional(layers.LSTM(64)));
  model.add(layers.BatchNormalization());
  model.add(layers.Dense(1, { activation: 'sigmoid' }));
  model.compile({ optimizer: new optimizers.Adam({ lr }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  return model;
}
