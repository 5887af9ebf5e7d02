/**
 * Command-line flags shared by the three examples:
 *
 *   --epochs N       passes over the training set
 *   --batch-size N   examples per optimizer step
 *   --subset N       train on the first N training examples only (after the seeded shuffle)
 *   --seed N         seeds the data split, the shuffles and the weight initialisation
 *   --backend NAME   gradlab backend to run on: 'cpu', 'gpu' or 'gpu:<mode>' (gradlab's useBackend imports
 *                    @gradlab/gpu on demand); default: the GRADLAB_BACKEND environment variable, else 'cpu'
 *   --quick          CI mode: small subset, few epochs, and exit 1 unless accuracy is well above chance
 *   --recalibrate N  after each epoch, re-estimate BatchNorm's statistics over N training batches
 *                    (callbacks.BatchNormRecalibration; --quick uses it, its runs being too short for them)
 *   --out DIR        where <example>.json (the results) and <example>.svg (the learning curves) go;
 *                    default runs/<example>/ (ignored by git); --out docs/results updates the docs' figures
 *   --help
 *
 * Each example adds its own flags (the image example's --size) through `extra`. Defaults come from the
 * example, and --quick swaps in the example's quick defaults for every flag not given explicitly.
 */
import { parseArgs } from 'node:util';

export interface CommonSettings {
  epochs: number;
  batchSize: number;
  /** 0 means "all of it". */
  subset: number;
  seed: number;
  backend: string;
  quick: boolean;
  out: string;
  /** Batches over which BatchNorm's moving statistics are re-estimated after each epoch (0: never). */
  recalibrate: number;
}

export type ExtraFlag = { type: 'string' | 'boolean'; description: string };

export interface CliSpec<Extra extends Record<string, string | number | boolean>> {
  /** e.g. 'image', used in the usage line. */
  name: string;
  description: string;
  defaults: CommonSettings & Extra;
  /** Values replacing the defaults in --quick mode (flags given on the command line still win). */
  quick: Partial<CommonSettings & Extra>;
  /** Example-specific flags, camelCase keys (written kebab-case on the command line). */
  extra?: Record<keyof Extra & string, ExtraFlag>;
}

const COMMON_FLAGS: Record<string, ExtraFlag> = {
  epochs: { type: 'string', description: 'passes over the training set' },
  batchSize: { type: 'string', description: 'examples per optimizer step' },
  subset: { type: 'string', description: 'train on this many examples (0: all)' },
  seed: { type: 'string', description: 'seed of the data split, shuffles and initialisation' },
  backend: { type: 'string', description: "gradlab backend: cpu, gpu or gpu:<mode> (default: GRADLAB_BACKEND, else cpu)" },
  quick: { type: 'boolean', description: 'CI mode: small and fast, fails unless accuracy is well above chance' },
  out: { type: 'string', description: 'folder for results, plots and the saved model' },
  recalibrate: { type: 'string', description: "re-estimate BatchNorm's statistics over N training batches after each epoch" },
  help: { type: 'boolean', description: 'print this help' },
};

/** batchSize → batch-size */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The help text: one line per flag with its default. */
export function usage<E extends Record<string, string | number | boolean>>(spec: CliSpec<E>): string {
  const flags = { ...COMMON_FLAGS, ...(spec.extra ?? {}) } as Record<string, ExtraFlag>;
  const defaults = spec.defaults as Record<string, unknown>;
  const lines = Object.entries(flags).map(([key, flag]) => {
    const left = `  --${kebab(key)}${flag.type === 'string' ? ' <value>' : ''}`;
    const def = key in defaults && flag.type === 'string' ? ` (default ${String(defaults[key])})` : '';
    return `${left.padEnd(26)}${flag.description}${def}`;
  });
  const quick = (spec.quick ?? {}) as Record<string, unknown>;
  const outputs = [
    'Outputs:',
    `  ${defaults.out}/${spec.name}.json and ${spec.name}.svg   the results and learning curves (--out; while training: ${spec.name}.partial.*)`,
    ...('model' in defaults ? [`  ${defaults.model}/   the trained model (--model)`] : []),
    ...('out' in quick ? [`  --quick: ${quick.out}/${spec.name}-quick.json and .svg${'model' in quick ? `, the model in ${quick.model}/` : ''}`] : []),
    '  runs/ is ignored by git; pass --out docs/results to update the figures docs/examples.md is made from.',
  ];
  return [`pnpm example:${spec.name} [flags]`, '', spec.description, '', ...lines, '', ...outputs].join('\n');
}

/**
 * Parse argv (without node and the script) into settings. Throws with a message naming the flag when a
 * value is not a non-negative integer where one is needed, or a flag is unknown.
 */
export function parseCli<E extends Record<string, string | number | boolean>>(
  spec: CliSpec<E>,
  argv: readonly string[],
): (CommonSettings & E) & { help: boolean } {
  const flags = { ...COMMON_FLAGS, ...(spec.extra ?? {}) } as Record<string, ExtraFlag>;
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [key, flag] of Object.entries(flags)) options[kebab(key)] = { type: flag.type };
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });

  const quick = values.quick === true;
  // GRADLAB_BACKEND, the variable @gradlab/gpu reads, chooses the backend when --backend does not.
  const fromEnvironment = process.env.GRADLAB_BACKEND ? { backend: process.env.GRADLAB_BACKEND } : {};
  const base: Record<string, unknown> = { ...spec.defaults, ...fromEnvironment, ...(quick ? spec.quick : {}), quick };
  for (const key of Object.keys(flags)) {
    if (key === 'help' || key === 'quick') continue;
    const given = values[kebab(key)];
    if (given === undefined) continue;
    base[key] = convert(key, given, spec.defaults[key as keyof E]);
  }
  return { ...(base as CommonSettings & E), help: values.help === true };
}

/** Convert a flag's text to the type of its default (numbers must be non-negative). */
function convert(key: string, value: string | boolean, template: unknown): string | number | boolean {
  if (typeof value === 'boolean' || typeof template !== 'number') return value;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (Number.isInteger(template) && !Number.isInteger(n))) {
    throw new Error(`--${kebab(key)}: expected a non-negative ${Number.isInteger(template) ? 'integer' : 'number'}, got '${value}'`);
  }
  return n;
}
