// The article's three models in gradlab, exactly as docs/from-the-article.md writes them, and a batch of
// inputs for each. Inputs are dense (no Embedding): the image model sees a 64×64×3 picture, the speech
// model T = 50 frames of 40 features, the text model T = 40 word vectors of 300 features.
import { layers, models, fromTypedArray, Random } from 'gradlab';

/** Shapes and losses shared by both frameworks' builders (models-tfjs.mjs reads the same table). */
export const MODELS = {
  image: { input: [64, 64, 3], classes: 10, loss: 'sparse_categorical_crossentropy', params: 1627338 },
  speech: { input: [50, 40], classes: 10, loss: 'sparse_categorical_crossentropy', params: 137354 },
  text: { input: [40, 300], classes: 2, loss: 'binary_crossentropy', params: 605313 },
};

export function buildGradlabModel(name) {
  const model = new models.Sequential();
  if (name === 'image') {
    model.add(layers.Conv2D(32, [3, 3], { activation: 'relu', inputShape: [64, 64, 3] }));
    model.add(layers.BatchNormalization());
    model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
    model.add(layers.Conv2D(64, [3, 3], { activation: 'relu' }));
    model.add(layers.BatchNormalization());
    model.add(layers.MaxPooling2D({ poolSize: [2, 2] }));
    model.add(layers.Flatten());
    model.add(layers.Dense(128, { activation: 'relu' }));
    model.add(layers.BatchNormalization());
    model.add(layers.Dense(10, { activation: 'softmax' }));
  } else if (name === 'speech') {
    model.add(layers.LSTM(128, { returnSequences: true, inputShape: [null, 40] }));
    model.add(layers.BatchNormalization());
    model.add(layers.LSTM(64));
    model.add(layers.BatchNormalization());
    model.add(layers.Dense(10, { activation: 'softmax' }));
  } else if (name === 'text') {
    model.add(layers.Bidirectional(layers.LSTM(128, { returnSequences: true }), { inputShape: [null, 300] }));
    model.add(layers.BatchNormalization());
    model.add(layers.Bidirectional(layers.LSTM(64)));
    model.add(layers.BatchNormalization());
    model.add(layers.Dense(1, { activation: 'sigmoid' }));
  } else {
    throw new Error(`buildGradlabModel: unknown model '${name}' (image, speech, text)`);
  }
  model.compile({ optimizer: 'adam', loss: MODELS[name].loss, metrics: ['accuracy'] });
  const total = model.countParams().total;
  if (total !== MODELS[name].params) throw new Error(`${name}: gradlab built ${total} parameters, Keras has ${MODELS[name].params}`);
  return model;
}

/**
 * One batch of plain arrays, the same for both frameworks: x ~ N(0, 1) and labels in [0, classes).
 * Seeded, so every run and every framework sees the same numbers. `steps` replaces the sequence length
 * of the recurrent models (speech 50, text 40; their layers accept any length).
 */
export function makeBatch(name, batch, seed = 1, steps = null) {
  const { classes } = MODELS[name];
  const input = steps && name !== 'image' ? [steps, ...MODELS[name].input.slice(1)] : MODELS[name].input;
  const rng = new Random(seed);
  const x = new Float32Array(batch * input.reduce((a, b) => a * b, 1));
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = rng.int(classes);
  return { x, xShape: [batch, ...input], labels };
}

/** The batch as gradlab tensors (labels as int32 class indices, as the layers tests pass them). */
export function gradlabBatch(name, batch, steps = null) {
  const { x, xShape, labels } = makeBatch(name, batch, 1, steps);
  return { x: fromTypedArray(x, xShape), y: fromTypedArray(labels, [batch]) };
}
