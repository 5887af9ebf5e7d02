/** The article's speech model: LSTM(128) → BatchNorm → LSTM(64) → BatchNorm → Dense(10, softmax), on 40-dim features. */
import { layers, models } from 'gradlab';

export function buildModel(bands = 40): models.Sequential {
  const model = new models.Sequential();
  model.add(layers.LSTM(128, { returnSequences: true, inputShape: [null, bands] }));
  model.add(layers.BatchNormalization());
  model.add(layers.LSTM(64));
  model.add(layers.BatchNormalization());
  model.add(layers.Dense(10, { activation: 'softmax' }));
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}
