/**
 * Counters and histograms for the request path, registered in a prom-client `Registry` (which
 * renders them with the rest) but kept in plain maps keyed by their label values: recording is
 * a map lookup and a few additions, where prom-client's own metrics validate and hash the label
 * object on every call (about half a microsecond each, several times per request).
 */

/** One sample of a metric as prom-client's registry renders it. */
interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** What a prom-client registry asks of a metric it renders. */
export interface RegistrableMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram" | "gauge";
  readonly aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[] }>;
  reset(): void;
}

const SEPARATOR = "\u0001";

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => (labels[name] = values[i] ?? ""));
  return labels;
}

/** A counter with labels; values are given in `labelNames` order. */
export class SeriesCounter implements RegistrableMetric {
  readonly type = "counter";
  readonly aggregator = "sum";
  readonly #series = new Map<string, { values: readonly string[]; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** Adds `by` (default 1) to the series of these label values. */
  inc(values: readonly string[], by = 1): void {
    const key = values.join(SEPARATOR);
    const series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, { values, count: by });
    else series.count += by;
  }

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[] }> {
    const values = [...this.#series.values()].map((series) => ({
      labels: labelsOf(this.labelNames, series.values),
      value: series.count,
    }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values });
  }

  reset(): void {
    this.#series.clear();
  }
}

interface HistogramSeries {
  readonly values: readonly string[];
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram with labels and fixed upper bounds (ascending), in `labelNames` order. */
export class SeriesHistogram implements RegistrableMetric {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  /** Records one observation in the series of these label values. */
  observe(values: readonly string[], value: number): void {
    const key = values.join(SEPARATOR);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { values, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.buckets.length && value > (this.buckets[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += value;
    series.count += 1;
  }

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    for (const series of this.#series.values()) {
      const labels = labelsOf(this.labelNames, series.values);
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i] as number;
        values.push({
          labels: { le: bound, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { le: "+Inf", ...labels },
        value: series.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values });
  }

  reset(): void {
    this.#series.clear();
  }
}

/** A gauge whose series are read when the metrics are rendered. */
export class SeriesGauge implements RegistrableMetric {
  readonly type = "gauge";
  readonly aggregator = "sum";

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    /** The series now: label values in `labelNames` order, and the value. */
    readonly read: () => Iterable<readonly [values: readonly string[], value: number]>,
  ) {}

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[] }> {
    const values = [...this.read()].map(([labels, value]) => ({
      labels: labelsOf(this.labelNames, labels),
      value,
    }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values });
  }

  reset(): void {}
}
