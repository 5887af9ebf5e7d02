/** The article's image model: two Conv2D + BatchNorm + MaxPooling blocks, then Dense(128) + BatchNorm and a softmax. */
import { layers, models } from 'gradlab';

/** The article's model, with the input side as a parameter (64 in the article). */
export function buildModel(size: number): models.Sequential {
  const model = new models.Sequential();
  model.add(layers.Conv2D(32, [3, 3], { activation: 'relu', inputShape: [size, size, 3] }));
  model.add(layers.BatchNormalization());
  model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
  model.add(layers.Conv2D(64, [3, 3], { activation: 'relu' }));
  model.add(layers.BatchNormalization());
  model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
  model.add(layers.Flatten());
  model.add(layers.Dense(128, { activation: 'relu' }));
  model.add(layers.BatchNormalization());
  model.add(layers.Dense(10, { activation: 'softmax' }));
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}
